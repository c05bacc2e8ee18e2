"""Helpers of the crash tests: CLI runs as subprocesses (optionally killed by the test
hook ``TFGRAPHTUNE_TEST_KILL_AT``), tiny configs and what a run folder's results are."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

from tests.end_to_end.conftest import _graph_tables, _node_tables, make_config

REPO_ROOT = Path(__file__).resolve().parents[2]
KILLED = -signal.SIGKILL
# Metrics of a resumed run against the uninterrupted one. The resumed run repeats every
# random draw and batch, so they are equal; the tolerance covers float summation order
# only (a retraced function may fuse ops differently: measured up to 2e-7 in a loss).
METRIC_ATOL = 1e-6
LOSS_RTOL = 1e-5


def env(**extra: str) -> dict[str, str]:
    """This process's environment (PYTHONPATH included) for a CLI child, plus `extra`."""
    base = {k: v for k, v in os.environ.items() if k != "TFGRAPHTUNE_TEST_KILL_AT"}
    base.setdefault("PYTHONPATH", str(REPO_ROOT))
    return {**base, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1", **extra}


def cli(
    *args: str, kill_at: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Runs ``tfgraphtune ARGS``; with `kill_at` the child kills itself there."""
    extra = {"TFGRAPHTUNE_TEST_KILL_AT": kill_at} if kill_at else {}
    return subprocess.run(
        [sys.executable, "-m", "tfgraphtune.cli.main", *map(str, args)],
        cwd=REPO_ROOT,
        env=env(**extra),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def node_config(root: Path, **train) -> Path:
    """A node classification config on 60-node tables: dropout on, early stopping on."""
    config = make_config(
        "node_classification",
        _node_tables(root),
        root / "unused",
        model={"dropout": 0.5, "sparse_inputs": True, "input_dropout": 0.2},
        train={
            "epochs": 15,
            "learning_rate": 0.05,
            "early_stopping": {"monitor": "val_loss", "patience": 4, "mode": "auto"},
            "backup_interval": 1,
            **train,
        },
    )
    return _write(root / "node.yaml", config)


def graph_config(root: Path, **train) -> Path:
    """A graph classification config on 48 small graphs: batches of 8 (3 steps an epoch,
    reshuffled every epoch), dropout on."""
    config = make_config(
        "graph_classification",
        _graph_tables(root),
        root / "unused",
        model={"dropout": 0.3, "head_dropout": 0.3},
        train={"epochs": 8, "batch_size": 8, "backup_interval": 1, **train},
    )
    return _write(root / "graph.yaml", config)


def _write(path: Path, config: dict) -> Path:
    config.pop("out")
    path.write_text(yaml.safe_dump(json.loads(json.dumps(config))))
    return path


def results(run_dir: Path) -> dict:
    """The split metrics, epochs run and history of a run folder."""
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return {
        "splits": {s: metrics[s] for s in ("train", "validation", "test") if s in metrics},
        "epochs_run": metrics["epochs_run"],
        "history": pd.read_csv(run_dir / "history.csv", index_col=0),
    }


def assert_same_results(got: dict, expected: dict) -> None:
    """Equal metrics (within `METRIC_ATOL`), epochs and history (within `LOSS_RTOL`)."""
    import numpy as np

    assert got["epochs_run"] == expected["epochs_run"]
    assert got["splits"].keys() == expected["splits"].keys()
    for split, values in expected["splits"].items():
        for name, value in values.items():
            assert abs(got["splits"][split][name] - value) <= METRIC_ATOL, (split, name)
    assert list(got["history"].columns) == list(expected["history"].columns)
    np.testing.assert_allclose(
        got["history"].to_numpy(), expected["history"].to_numpy(), rtol=LOSS_RTOL
    )


def leftovers(out: Path) -> list[str]:
    """Hidden siblings of `out` (staging, old folders, backup, lock) still there."""
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))
