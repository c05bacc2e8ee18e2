"""Training and evaluating node classification from a config (what ``finetune`` runs)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tfgraphtune.data.datasets.dataset import NodeDataset
from tfgraphtune.data.datasets.from_tables import node_dataset_from_tables
from tfgraphtune.data.datasets.registry import load_dataset
from tfgraphtune.data.graph_transforms import normalize_node_feature
from tfgraphtune.layers.propagation import precompute_gcn_normalization
from tfgraphtune.models.backbone import Backbone
from tfgraphtune.models.tasks.node_classification import NodeModel, full_batch_inputs
from tfgraphtune.training import run_folder
from tfgraphtune.training.builders import BACKBONE_KEYS  # noqa: F401  (re-exported)
from tfgraphtune.training.builders import backbone_from_config as build_backbone
from tfgraphtune.training.callbacks import StepTimer, standard_callbacks
from tfgraphtune.training.evaluation import (
    classification_metrics,
    per_class_report,
    regression_metrics,
)
from tfgraphtune.training.losses import SparseCategoricalCrossentropyWithSmoothing
from tfgraphtune.training.optimizers import make_optimizer


def prepare_node_data(config: dict) -> tuple[NodeDataset, Any]:
    """Loads the data set and returns it with the graph the model sees (normalized, cached)."""
    data = config["data"]
    if data["dataset"] == "tables":
        tables = data["tables"]
        if not tables["schema"] or not tables["node_set"] or not tables["splits"]:
            raise ValueError(
                "data.dataset: tables needs data.tables.schema, data.tables.node_set and "
                "data.tables.splits (plus nodes and edges)."
            )
        dataset = node_dataset_from_tables(
            tables["schema"],
            nodes=tables["nodes"],
            edges=tables["edges"],
            node_set=tables["node_set"],
            feature=tables["feature"],
            label=tables["label"],
            splits=tables["splits"],
            cleaning=tables["cleaning"],
            id_column=tables["id_column"],
        )
    else:
        dataset = load_dataset(data["dataset"], data["data_dir"])
    if not isinstance(dataset, NodeDataset):
        raise ValueError(
            f"data set {data['dataset']!r} holds many graphs; use task: graph_classification."
        )
    graph = dataset.graph
    if data["normalize_features"]:
        graph = normalize_node_feature(
            graph, dataset.node_set, dataset.feature, data["normalize_features"]
        )
    if config["model"]["conv"] == "gcn":
        # The graph is fixed: compute D^-1/2 (A+I) D^-1/2 once, not every step.
        graph = precompute_gcn_normalization(graph, dataset.edge_set)
    return dataset, graph


def build_node_model(config: dict, dataset: NodeDataset, backbone: Backbone | None = None):
    """The `NodeModel` for a config (a given `backbone` replaces the configured one)."""
    model_config = config["model"]
    if backbone is None:
        backbone = build_backbone(
            model_config,
            node_set=dataset.node_set,
            feature=dataset.feature,
            edge_set=dataset.edge_set,
        )
    regression = config["task"] == "node_regression"
    return NodeModel(
        backbone,
        1 if regression else dataset.num_classes,
        head=model_config["head"],
        head_dropout=model_config["head_dropout"],
        head_hidden_units=model_config["head_hidden_units"],
    )


def compile_node_model(model: tf.keras.Model, config: dict, optimizer_hook=None) -> None:
    """Compiles with the configured optimizer, smoothed cross-entropy and weighted accuracy.

    `optimizer_hook(optimizer, model) -> optimizer` may wrap the optimizer (per-layer rates).
    """
    train = config["train"]
    if config["task"] == "node_regression":
        loss = tf.keras.losses.MeanSquaredError()
        metrics = [
            tf.keras.metrics.RootMeanSquaredError(name="rmse"),
            tf.keras.metrics.MeanAbsoluteError(name="mae"),
        ]
    else:
        loss = SparseCategoricalCrossentropyWithSmoothing(train["label_smoothing"])
        metrics = [tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    optimizer = make_optimizer(
        train["optimizer"],
        train["learning_rate"],
        weight_decay=train["weight_decay"],
        schedule=train["schedule"],
        decay_steps=max(int(train["epochs"]), 1),
        warmup_steps=train["warmup_steps"],
    )
    if optimizer_hook is not None:
        optimizer = optimizer_hook(optimizer, model)
    model.compile(optimizer=optimizer, loss=loss, weighted_metrics=metrics)


def node_metrics(model: tf.keras.Model, dataset: NodeDataset, graph) -> dict[str, Any]:
    """Per split from one full-graph inference: accuracy and macro-F1 for classification
    (integer labels), RMSE and MAE for regression (float labels)."""
    outputs = model(graph, training=False).numpy()
    labels = dataset.labels
    score = (
        classification_metrics if np.issubdtype(labels.dtype, np.integer) else (regression_metrics)
    )
    return {split: score(labels[ids], outputs[ids]) for split, ids in dataset.splits.items()}


def train_node_classification(
    config: dict,
    *,
    backbone: Backbone | None = None,
    model_hook=None,
    optimizer_hook=None,
    initial_weights: str | Path | None = None,
    dataset_and_graph: tuple[NodeDataset, Any] | None = None,
    write: bool = True,
) -> dict[str, Any]:
    """Trains, evaluates and writes a run folder for one node classification config.

    Args:
      config: A full config (see `tfgraphtune.training.config.load_config`).
      backbone: Optional pre-built (e.g. pre-trained) backbone.
      model_hook: Optional ``hook(model) -> list[callbacks]`` run after the model is built
        and before compiling (fine-tuning strategies set trainability here).
      optimizer_hook: Optional ``hook(optimizer, model) -> optimizer`` (see
        `compile_node_model`).
      initial_weights: Optional run folder whose weights the model starts from (continual
        fine-tuning: resume a fine-tuned run on new data).
      dataset_and_graph: Optional ``(NodeDataset, graph)`` to train on instead of loading
        ``config["data"]`` (e.g. a graph grown with new nodes, edges and labels).
      write: Whether to write the run folder (benchmarks skip it).

    Returns:
      The metrics dict also written to ``metrics.json``.
    """
    tf.keras.utils.set_random_seed(int(config["train"]["seed"]))
    dataset, graph = dataset_and_graph or prepare_node_data(config)
    inputs = full_batch_inputs(dataset, graph)
    model = build_node_model(config, dataset, backbone)
    model(graph)  # Build the weights.
    if initial_weights is not None:
        # Through a twin: restoring into `model` itself would later also restore the saved
        # optimizer (learning rate, moments) over the one this config asks for.
        twin = NodeModel.from_config(model.get_config())
        twin(graph)
        run_folder.load_weights(twin, initial_weights)
        model.set_weights(twin.get_weights())
    extra_callbacks = list(model_hook(model) or []) if model_hook else []
    compile_node_model(model, config, optimizer_hook)
    run_dir = Path(config["out"])
    train = config["train"]
    stopping = train["early_stopping"] or {}
    timer = StepTimer()
    callbacks = [
        timer,
        *standard_callbacks(
            monitor=stopping.get("monitor", "val_loss"),
            patience=stopping.get("patience"),
            mode=stopping.get("mode", "auto"),
            log_dir=str(run_dir / "logs") if train["tensorboard"] and write else None,
        ),
        *extra_callbacks,
    ]
    start = time.perf_counter()
    history = model.fit(
        inputs["train"].repeat(),
        steps_per_epoch=1,
        epochs=int(train["epochs"]),
        validation_data=inputs["validation"],
        callbacks=callbacks,
        verbose=int(train["verbose"]),
    )
    train_time = time.perf_counter() - start
    metrics = node_metrics(model, dataset, graph)
    metrics["epochs_run"] = len(history.history["loss"])
    metrics["train_time_s"] = train_time
    metrics["step_time_median_s"] = float(np.median(timer.step_times))
    if not write:
        return metrics
    tables = {}
    test_ids = dataset.splits["test"]
    if config["task"] == "node_classification" and len(test_ids):
        logits = model(graph, training=False).numpy()
        tables["per_class_test"] = per_class_report(dataset.labels[test_ids], logits[test_ids])
    run_folder.write_run(
        run_dir,
        config=config,
        schema=dataset.schema,
        model=model,
        metrics=metrics,
        history=history.history,
        tables=tables,
    )
    return metrics


def evaluate_node_run(run_dir: str | Path) -> dict[str, Any]:
    """Rebuilds a run's model from its folder, restores the weights and re-computes metrics."""
    config = run_folder.read_run_config(run_dir)
    dataset, graph = prepare_node_data(config)
    model = build_node_model(config, dataset)
    model(graph)
    run_folder.load_weights(model, run_dir)
    return node_metrics(model, dataset, graph)
