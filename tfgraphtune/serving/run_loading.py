"""Reading a run folder for export: the trained model and what its requests carry.

One loader per exportable task rebuilds the model the way the task's runner (and
``tfgraphtune evaluate``) does, restores the weights, and says what a request graph holds,
how its features are prepared in the graph, and which small graph the warmup records use.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.serving.export_module import ServingInput

WARMUP_NODES = 32


@dataclasses.dataclass(frozen=True)
class LoadedRun:
    """A run folder's model with its weights, ready for `export_model`.

    Attributes:
      config: The run's resolved config.
      dataset: The run's `NodeDataset` or `GraphDataset`.
      model: The Keras model with the run's weights.
      graph: A graph the model was built on (node task: the whole graph; graph task: a
        merged batch of graphs).
      serving_input: What requests carry.
      preprocess: In-graph feature preprocessing, as in training (None: raw features).
      warmup_graph: ``(features, source, target)`` of a small request graph.
      feature_normalization: The normalization the exported graph applies (None: none).
    """

    config: dict[str, Any]
    dataset: Any
    model: tf.keras.Model
    graph: tfgnn.GraphTensor
    serving_input: ServingInput
    preprocess: Callable[[tf.Tensor], tf.Tensor] | None
    warmup_graph: tuple[np.ndarray, np.ndarray, np.ndarray]
    feature_normalization: str | None


def feature_preprocessing(method: str | None, raw_features: np.ndarray):
    """The training-time feature normalization as an in-graph function.

    ``row_sum`` works row by row; ``standardize`` uses the training graph's column
    statistics, stored as constants (a request's own statistics would differ).

    Args:
      method: ``None``, ``"row_sum"`` or ``"standardize"``.
      raw_features: The training graph's raw features (for ``standardize``).

    Returns:
      A function of a ``[nodes, F]`` float32 tensor.

    Raises:
      ValueError: An unknown `method`.
    """
    if method is None:
        return lambda values: values
    if method == "row_sum":
        return lambda values: tf.math.divide_no_nan(
            values, tf.reduce_sum(values, axis=-1, keepdims=True)
        )
    if method == "standardize":
        raw = raw_features.astype(np.float32)
        mean = raw.mean(axis=0)
        std = raw.std(axis=0)
        return lambda values: tf.where(
            std > 0,
            (values - mean) / np.where(std > 0, std, 1.0).astype(np.float32),
            values - mean,
        )
    raise ValueError(f"feature normalization {method!r} cannot be exported.")


def sample_request_graph(graph: tfgnn.GraphTensor, serving_input: ServingInput, num_nodes: int):
    """The subgraph induced by the first `num_nodes` nodes, with only the served feature.

    Args:
      graph: A scalar GraphTensor with the served node set, feature and edge set.
      serving_input: What requests carry.
      num_nodes: How many nodes to keep (all, if the graph has fewer).

    Returns:
      ``(features [n, F], source [e], target [e])`` with node indices below ``n``.
    """
    node_set = graph.node_sets[serving_input.node_set]
    num_nodes = min(num_nodes, int(node_set.total_size))
    features = node_set[serving_input.feature].numpy()[:num_nodes]
    adjacency = graph.edge_sets[serving_input.edge_set].adjacency
    source, target = adjacency.source.numpy(), adjacency.target.numpy()
    keep = (source < num_nodes) & (target < num_nodes)
    return features, source[keep], target[keep]


def _serving_input(dataset, features: tf.Tensor, num_features: int) -> ServingInput:
    return ServingInput(
        node_set=dataset.node_set,
        feature=dataset.feature,
        edge_set=dataset.edge_set,
        num_features=num_features,
        dtype=features.dtype.name,
    )


def _load_node_run(run_dir: Path, config: dict) -> LoadedRun:
    from tfgraphtune.training import node_runner, run_folder

    dataset, graph = node_runner.prepare_node_data(config)
    model = node_runner.build_node_model(config, dataset)
    model(graph)
    run_folder.load_weights(model, run_dir)
    raw = dataset.graph.node_sets[dataset.node_set][dataset.feature]
    serving_input = _serving_input(dataset, raw, dataset.num_features)
    method = config["data"]["normalize_features"]
    return LoadedRun(
        config=config,
        dataset=dataset,
        model=model,
        graph=graph,
        serving_input=serving_input,
        preprocess=feature_preprocessing(method, raw.numpy()),
        warmup_graph=sample_request_graph(dataset.graph, serving_input, WARMUP_NODES),
        feature_normalization=method,
    )


def _load_graph_run(run_dir: Path, config: dict) -> LoadedRun:
    """A graph classification run: the graph runner reads raw features (no normalization)."""
    from tfgraphtune.models.tasks.graph_classification import graph_batches
    from tfgraphtune.training import graph_runner, run_folder

    dataset, splits = graph_runner.prepare_graph_data(config)
    model = graph_runner.build_graph_model(config, dataset)
    graph, _ = next(
        iter(
            graph_batches(
                dataset.graphs,
                splits["validation"],
                label_feature=dataset.label,
                batch_size=int(config["train"]["batch_size"]),
            )
        )
    )
    model(graph)
    run_folder.load_weights(model, run_dir)
    raw = dataset.graphs[0].node_sets[dataset.node_set][dataset.feature]
    serving_input = _serving_input(dataset, raw, int(raw.shape[-1]))
    return LoadedRun(
        config=config,
        dataset=dataset,
        model=model,
        graph=graph,
        serving_input=serving_input,
        preprocess=None,
        warmup_graph=sample_request_graph(dataset.graphs[0], serving_input, WARMUP_NODES),
        feature_normalization=None,
    )


# Task -> loader; the same tasks as `tasks.SERVING_TASKS` (a test checks it).
RUN_LOADERS: dict[str, Callable[[Path, dict], LoadedRun]] = {
    "node_classification": _load_node_run,
    "graph_classification": _load_graph_run,
}


def load_run(run_dir: str | Path) -> LoadedRun:
    """Rebuilds a run folder's model with its weights, for export.

    Args:
      run_dir: A folder written by ``tfgraphtune finetune``.

    Returns:
      A `LoadedRun`.

    Raises:
      FileNotFoundError: Not a run folder.
      ValueError: The run's task cannot be exported (the message names it and the tasks
        that can), or its data set does not fit its task.
    """
    from tfgraphtune.training import run_folder  # Training code loads only when exporting.

    run_dir = Path(run_dir)
    config = run_folder.read_run_config(run_dir)
    task = config["task"]
    if task not in RUN_LOADERS:
        raise ValueError(
            f"run {str(run_dir)!r} is a {task} run, and {task} cannot be exported; "
            f"exportable tasks: {', '.join(sorted(RUN_LOADERS))}."
        )
    return RUN_LOADERS[task](run_dir, config)
