"""The run folder: everything needed to re-evaluate, export or resume a trained model.

Layout::

    RUN_DIR/config.yaml     the full resolved config
    RUN_DIR/schema.pbtxt    the GraphSchema of the training data
    RUN_DIR/model.json      the Keras model config (get_config)
    RUN_DIR/weights/        TensorFlow checkpoint of the weights (model.save_weights)
    RUN_DIR/metrics.json    final metrics per split, epochs, timings
    RUN_DIR/history.csv     per-epoch Keras history
    RUN_DIR/logs/           TensorBoard event files (when enabled)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.training.config import dump_config, load_config_text

WEIGHTS_PREFIX = "weights/model"


def write_run(
    run_dir: str | Path,
    *,
    config: Mapping[str, Any],
    schema: tfgnn.GraphSchema,
    model: tf.keras.Model,
    metrics: Mapping[str, Any],
    history: Mapping[str, list] | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
) -> Path:
    """Writes a run folder; returns its path."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(dump_config(config))
    tfgnn.write_schema(schema, str(run_dir / "schema.pbtxt"))
    (run_dir / "model.json").write_text(json.dumps(model.get_config(), indent=2))
    model.save_weights(str(run_dir / WEIGHTS_PREFIX))
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    if history:
        pd.DataFrame(history).rename_axis("epoch").to_csv(run_dir / "history.csv")
    for name, table in (tables or {}).items():
        table.to_csv(run_dir / f"{name}.csv")
    return run_dir


def read_run_config(run_dir: str | Path) -> dict[str, Any]:
    """Reads ``config.yaml`` of a run folder.

    Raises:
      FileNotFoundError: Not a run folder (message names what is missing).
    """
    run_dir = Path(run_dir)
    for name in ("config.yaml", "model.json", "weights"):
        if not (run_dir / name).exists():
            raise FileNotFoundError(
                f"{run_dir} is not a tfgraphtune run folder: {name} is missing; pass the folder "
                "that `tfgraphtune finetune` wrote (its --out)."
            )
    return load_config_text((run_dir / "config.yaml").read_text())


def load_weights(model: tf.keras.Model, run_dir: str | Path) -> None:
    """Restores a built model's weights from a run folder (every variable must match)."""
    status = model.load_weights(str(Path(run_dir) / WEIGHTS_PREFIX))
    status.assert_existing_objects_matched()
    status.expect_partial()  # The optimizer slots are saved too but not needed here.
