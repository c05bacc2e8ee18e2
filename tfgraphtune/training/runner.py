"""Dispatches a config to the runner of its task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tfgraphtune.training import node_runner, run_folder


def train(config: dict, **kwargs) -> dict[str, Any]:
    """Trains the config's task and writes its run folder; returns the metrics."""
    task = config["task"]
    if task in ("node_classification", "node_regression"):
        return node_runner.train_node_classification(config, **kwargs)
    raise NotImplementedError(f"task {task!r} has no runner yet")


def evaluate(run_dir: str | Path) -> dict[str, Any]:
    """Re-evaluates a run folder; returns metrics per split."""
    task = run_folder.read_run_config(run_dir)["task"]
    if task in ("node_classification", "node_regression"):
        return node_runner.evaluate_node_run(run_dir)
    raise NotImplementedError(f"task {task!r} has no runner yet")
