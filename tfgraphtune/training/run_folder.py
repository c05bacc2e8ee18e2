"""The run folder: a trained model that evaluate, export and resume restore from it alone.

Layout::

    RUN_DIR/run.json            task, format version, tfgraphtune/TensorFlow versions, time
    RUN_DIR/config.yaml         the full resolved config
    RUN_DIR/model.json          the whole Keras model (``tf.keras.layers.serialize``): backbone
                                with its LoRA factors or adapters, head, output scaling
    RUN_DIR/weights/            TensorFlow checkpoint of the model's variables
    RUN_DIR/preprocessing.json  feature normalization statistics and request edge cleaning
    RUN_DIR/serving.json        what a request carries (node set, feature, width, edge set)
    RUN_DIR/warmup_graph.npz    a small raw request graph (warmup records, smoke tests)
    RUN_DIR/schema.pbtxt        the GraphSchema of the training data
    RUN_DIR/metrics.json        metrics per split, epochs, timings, fine-tuning facts
    RUN_DIR/history.csv         per-epoch Keras history
    RUN_DIR/logs/               TensorBoard event files (when enabled)

Nothing here reads the config's ``model`` section to guess the structure: `load_run`
deserializes ``model.json``, builds it on a tiny graph made from ``serving.json`` and
restores the weights. A run folder is written to a temporary sibling and renamed into
place (`RunFolderWriter`), so a killed run never leaves a folder that mixes two runs, and
an existing run is never replaced unless asked to.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.data.errors import ValidationError
from tfgraphtune.data.preprocessing import Preprocessing
from tfgraphtune.serving.serving_input import ServingInput
from tfgraphtune.training import test_hooks
from tfgraphtune.training.config import dump_config, load_config_text
from tfgraphtune.training.staging import OutputFolderError, StagedFolder  # noqa: F401

FORMAT_VERSION = 2
WEIGHTS_PREFIX = "weights/model"
RUN_FILE = "run.json"
REQUIRED_FILES = (
    RUN_FILE,
    "config.yaml",
    "model.json",
    "preprocessing.json",
    "serving.json",
    "warmup_graph.npz",
)


class RunFolderError(ValidationError):
    """A folder is not a (complete, readable) run folder, or cannot be written."""


@dataclasses.dataclass
class Run:
    """A run folder, loaded.

    Attributes:
      path: The folder.
      config: The resolved config it was trained with.
      task_name: Its task kind.
      model: The trained Keras model, built, with its weights.
      preprocessing: What its inputs went through.
      serving_input: What a request carries.
      warmup_graph: ``(features, source, target)`` of a small raw request graph.
      metrics: The metrics written at training time.
    """

    path: Path
    config: dict[str, Any]
    task_name: str
    model: tf.keras.Model
    preprocessing: Preprocessing
    serving_input: ServingInput
    warmup_graph: tuple[np.ndarray, np.ndarray, np.ndarray]
    metrics: dict[str, Any]

    @property
    def task(self):
        from tfgraphtune.tasks import get_task

        return get_task(self.task_name)

    def request_graph(self, features, source, target) -> tfgnn.GraphTensor:
        """A raw request graph (as a client sends it) preprocessed as in training."""
        features = self.preprocessing.normalize(np.asarray(features))
        source, target = np.asarray(source, np.int64), np.asarray(target, np.int64)
        if self.preprocessing.edge_cleaning:
            cleaned = self.preprocessing.clean_request_edges(source, target, len(features))
            source, target = (x.numpy() for x in cleaned)
        si = self.serving_input
        return tfgnn.GraphTensor.from_pieces(
            node_sets={
                si.node_set: tfgnn.NodeSet.from_fields(
                    sizes=[len(features)], features={si.feature: tf.constant(features)}
                )
            },
            edge_sets={
                si.edge_set: tfgnn.EdgeSet.from_fields(
                    sizes=[len(source)],
                    adjacency=tfgnn.Adjacency.from_indices(
                        (si.node_set, tf.constant(source)), (si.node_set, tf.constant(target))
                    ),
                )
            },
        )

    def serving_outputs(self, features, source, target, pairs=None) -> dict[str, np.ndarray]:
        """What the export answers for one raw request graph, computed with Keras.

        Args:
          features, source, target: The request graph (raw features, local edges).
          pairs: ``[P, 2]`` node pairs to score (tasks that score pairs), or None.

        Returns:
          The task's serving outputs (one row per node or one for the graph) as numpy.
        """
        graph = self.request_graph(features, source, target)
        if pairs is not None:
            outputs = self.task.pair_scores(self.model, graph, tf.constant(pairs, tf.int64))
        else:
            outputs = self.task.serving_outputs(self.model, graph)
        return {name: value.numpy() for name, value in outputs.items()}


def is_run_folder(path: str | Path) -> bool:
    return (Path(path) / RUN_FILE).is_file()


class RunFolderWriter(StagedFolder):
    """Writes a run folder atomically (see `StagedFolder`).

    Args:
      out: The run folder to write.
      overwrite: Whether an existing run folder may be replaced (only at the end).

    Raises:
      OutputFolderError: `out` is a file, lies under a file, is a run folder or a
        non-empty folder (without `overwrite`), or its parent is not writable.
    """

    def __init__(self, out: str | Path, *, overwrite: bool = False):
        super().__init__(out, overwrite=overwrite, what="run folder", marker=RUN_FILE)

    @property
    def staging(self) -> Path:
        return self.path

    def write(
        self,
        *,
        config: Mapping[str, Any],
        model: tf.keras.Model,
        task_name: str,
        schema: tfgnn.GraphSchema,
        preprocessing: Preprocessing,
        serving_input: ServingInput,
        warmup_graph: tuple[np.ndarray, np.ndarray, np.ndarray],
        metrics: Mapping[str, Any],
        history: Mapping[str, list] | None = None,
        tables: Mapping[str, pd.DataFrame] | None = None,
    ) -> Path:
        """Writes every file into the staging folder and renames it into place."""
        folder = self.path
        (folder / "config.yaml").write_text(dump_config({**config, "out": str(self.out)}))
        tfgnn.write_schema(schema, str(folder / "schema.pbtxt"))
        (folder / "model.json").write_text(
            json.dumps(model_structure(model), indent=2, default=_json_default)
        )
        weights_checkpoint(model).write(str(folder / WEIGHTS_PREFIX))
        test_hooks.kill_point("save")
        (folder / "preprocessing.json").write_text(json.dumps(preprocessing.to_json(), indent=2))
        (folder / "serving.json").write_text(json.dumps(serving_input.to_json(), indent=2))
        features, source, target = warmup_graph
        np.savez(folder / "warmup_graph.npz", features=features, source=source, target=target)
        (folder / "metrics.json").write_text(json.dumps(metrics, indent=2, default=_json_default))
        if history:
            pd.DataFrame(history).rename_axis("epoch").to_csv(folder / "history.csv")
        for name, table in (tables or {}).items():
            table.to_csv(folder / f"{name}.csv")
        import tfgraphtune

        (folder / RUN_FILE).write_text(
            json.dumps(
                {
                    "task": task_name,
                    "format_version": FORMAT_VERSION,
                    "tfgraphtune_version": tfgraphtune.__version__,
                    "tensorflow_version": tf.__version__,
                    "finished_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                },
                indent=2,
            )
        )
        return self.commit()


def weights_checkpoint(model: tf.keras.Model) -> tf.train.Checkpoint:
    """A checkpoint of the model's layers only: not its optimizer or traced functions.

    A run folder holds a trained model, not a training state: restoring an optimizer's
    saved state (learning rate, moments) into a model that continues with a new config
    would silently override that config. Crash-safe backups keep the optimizer instead.
    """
    children = model._trackable_children()  # Keras's tracked attributes (layers, variables).
    return tf.train.Checkpoint(
        **{
            name: child
            for name, child in children.items()
            if name != "optimizer" and not name.endswith("function")
        }
    )


def model_structure(model: tf.keras.Model) -> dict[str, Any]:
    """The model's serialized structure: layers and their options, without the compile
    state (optimizer, losses) or a build shape, which a restored model does not need."""
    structure = tf.keras.layers.serialize(model)
    structure.pop("compile_config", None)
    structure.pop("build_config", None)
    return structure


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def read_json(path: Path) -> Any:
    """Reads a JSON file of a run folder, naming the file in every error."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise RunFolderError(f"{path} is missing; the run folder is incomplete.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RunFolderError(f"{path} is unreadable or not valid JSON ({err}).") from None


def read_run_config(run_dir: str | Path) -> dict[str, Any]:
    """The resolved config of a run folder.

    Raises:
      RunFolderError: Not a run folder (the message names what is missing), or an
        unreadable config.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise RunFolderError(
            f"{str(run_dir)!r} is not a folder; pass the folder `tfgraphtune finetune` or "
            "`tfgraphtune run` wrote (its --out)."
        )
    missing = [name for name in REQUIRED_FILES if not (run_dir / name).exists()]
    if missing:
        raise RunFolderError(
            f"{run_dir} is not a complete tfgraphtune run folder: {', '.join(missing)} "
            f"missing; pass the folder `tfgraphtune finetune` wrote (its --out), or train again."
        )
    try:
        config = load_config_text((run_dir / "config.yaml").read_text())
    except Exception as err:  # yaml raises many types.
        raise RunFolderError(f"{run_dir / 'config.yaml'} is not valid YAML ({err}).") from None
    if not isinstance(config, dict) or "task" not in config:
        raise RunFolderError(f"{run_dir / 'config.yaml'} holds no task; the run folder is damaged.")
    from tfgraphtune.training.config_schema import config_problems

    problems = config_problems(config)  # It was valid when written: a problem is damage.
    if problems:
        raise RunFolderError(
            f"{run_dir / 'config.yaml'} is damaged: {problems[0]}; train the run again (or "
            "restore the file)."
        )
    return config


def load_run(run_dir: str | Path) -> Run:
    """Restores a run folder's model (structure from ``model.json``, then its weights).

    Args:
      run_dir: A folder written by ``tfgraphtune finetune`` / `tfgraphtune.train`.

    Returns:
      A `Run`.

    Raises:
      RunFolderError: Missing, damaged or incompatible files (each message names the
        file).
    """
    import tfgraphtune.layers  # noqa: F401  (registers the serializable layers)
    import tfgraphtune.models  # noqa: F401

    run_dir = Path(run_dir)
    config = read_run_config(run_dir)
    info = read_json(run_dir / RUN_FILE)
    task_name = info.get("task") if isinstance(info, dict) else None
    if task_name != config.get("task"):
        raise RunFolderError(
            f"{run_dir / RUN_FILE} names task {task_name!r} but config.yaml {config.get('task')!r}."
        )
    try:
        serving_input = ServingInput.from_json(read_json(run_dir / "serving.json"))
    except TypeError as err:
        raise RunFolderError(f"{run_dir / 'serving.json'} is malformed ({err}).") from None
    try:
        preprocessing = Preprocessing.from_json(read_json(run_dir / "preprocessing.json"))
    except ValidationError as err:
        raise RunFolderError(f"{run_dir / 'preprocessing.json'} is damaged ({err}).") from None
    model_config = read_json(run_dir / "model.json")
    from tfgraphtune.tasks import get_task

    task = get_task(task_name)  # Its module registers the task's own Keras classes.
    try:
        model = tf.keras.layers.deserialize(model_config)
        if not isinstance(model, tf.keras.Model):
            raise TypeError(f"it deserializes to a {type(model).__name__}, not a Keras model")
        model(task.example_inputs(serving_input.example_graph()), training=False)
    except (TypeError, ValueError, KeyError, AttributeError) as err:
        message = str(err).strip().splitlines()[0][:300] if str(err).strip() else repr(err)
        raise RunFolderError(
            f"{run_dir / 'model.json'} does not describe a model ({message}); the run folder "
            "is damaged: train the run again."
        ) from None
    restore_weights(model, run_dir / WEIGHTS_PREFIX)
    try:
        with np.load(run_dir / "warmup_graph.npz", allow_pickle=False) as arrays:
            warmup = (arrays["features"], arrays["source"], arrays["target"])
    except (OSError, KeyError, ValueError) as err:
        raise RunFolderError(f"{run_dir / 'warmup_graph.npz'} is unreadable ({err}).") from None
    metrics_path = run_dir / "metrics.json"
    metrics = read_json(metrics_path) if metrics_path.exists() else {}
    return Run(
        path=run_dir,
        config=config,
        task_name=task_name,
        model=model,
        preprocessing=preprocessing,
        serving_input=serving_input,
        warmup_graph=warmup,
        metrics=metrics,
    )


def restore_weights(model: tf.keras.Model, prefix: Path) -> None:
    """Restores every variable of a built model from a checkpoint written by `write`.

    Raises:
      RunFolderError: A missing, truncated or mismatching checkpoint.
    """
    try:
        status = weights_checkpoint(model).read(str(prefix))
        status.assert_consumed()  # Every saved weight has its variable, and vice versa.
    except (tf.errors.OpError, AssertionError, ValueError, IndexError) as err:
        # A truncated data file fails in the reader with IndexError ("Read less bytes").
        message = str(err).strip().splitlines()[0][:300] if str(err).strip() else repr(err)
        raise RunFolderError(
            f"cannot restore the weights in {prefix.parent}: {message}. The checkpoint is "
            "missing, truncated or from another model; train the run again."
        ) from None
