"""Dispatches a config to the runner of its task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tfgraphtune.training import graph_runner, link_runner, node_runner, run_folder

TRAINERS = {
    "node_classification": node_runner.train_node_classification,
    "node_regression": node_runner.train_node_classification,
    "graph_classification": graph_runner.train_graph_classification,
    "link_prediction": link_runner.train_link_prediction,
}
EVALUATORS = {
    "node_classification": node_runner.evaluate_node_run,
    "node_regression": node_runner.evaluate_node_run,
    "graph_classification": graph_runner.evaluate_graph_run,
    "link_prediction": link_runner.evaluate_link_run,
}


def train(config: dict, **kwargs) -> dict[str, Any]:
    """Trains the config's task and writes its run folder; returns the metrics.

    Args:
      config: A full config (`tfgraphtune.training.config.load_config`).
      **kwargs: Passed to the task's runner (``backbone=``, ``model_hook=``).
    """
    return TRAINERS[config["task"]](config, **kwargs)


def evaluate(run_dir: str | Path) -> dict[str, Any]:
    """Re-evaluates a run folder; returns metrics per split."""
    return EVALUATORS[run_folder.read_run_config(run_dir)["task"]](run_dir)
