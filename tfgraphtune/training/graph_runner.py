"""Training and evaluating graph classification from a config (one cross-validation fold).

Protocol: the graphs are split into ``data.folds`` stratified folds (seeded by
``train.seed``); fold ``data.fold`` is the test set; ``data.validation_fraction`` of the
remaining graphs (stratified) is the validation set that early stopping watches.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tfgraphtune.data.datasets.dataset import GraphDataset
from tfgraphtune.data.datasets.registry import load_dataset
from tfgraphtune.data.splits import stratified_folds, stratified_holdout
from tfgraphtune.models.tasks.graph_classification import GraphModel, graph_batches
from tfgraphtune.training import run_folder
from tfgraphtune.training.builders import (
    backbone_from_config,
    callbacks_from_config,
    optimizer_from_config,
)
from tfgraphtune.training.callbacks import StepTimer
from tfgraphtune.training.evaluation import classification_metrics, per_class_report
from tfgraphtune.training.losses import SparseCategoricalCrossentropyWithSmoothing
from tfgraphtune.training.ranking_metrics import roc_auc


def prepare_graph_data(config: dict) -> tuple[GraphDataset, dict[str, np.ndarray]]:
    """Loads the graphs and returns them with ``train``/``validation``/``test`` indices.

    Raises:
      ValueError: The data set is a single graph, or the fold is out of range.
    """
    data = config["data"]
    dataset = load_dataset(data["dataset"], data["data_dir"])
    if not isinstance(dataset, GraphDataset):
        raise ValueError(
            f"data set {data['dataset']!r} is one graph; graph_classification needs many "
            "(e.g. mutag), or use task: node_classification."
        )
    folds = stratified_folds(dataset.labels, int(data["folds"]), int(config["train"]["seed"]))
    fold = int(data["fold"])
    if not 0 <= fold < len(folds):
        raise ValueError(
            f"Received an invalid value for data.fold, expected an integer in "
            f"[0, {len(folds)}). Received: data.fold={fold!r}"
        )
    rest = np.sort(np.concatenate([f for i, f in enumerate(folds) if i != fold]))
    train, validation = stratified_holdout(
        rest, dataset.labels, float(data["validation_fraction"]), int(config["train"]["seed"])
    )
    return dataset, {"train": train, "validation": validation, "test": folds[fold]}


def build_graph_model(config: dict, dataset: GraphDataset, backbone=None) -> GraphModel:
    """The `GraphModel` of a config (a given `backbone` replaces the configured one)."""
    model_config = config["model"]
    if backbone is None:
        backbone = backbone_from_config(
            model_config,
            node_set=dataset.node_set,
            feature=dataset.feature,
            edge_set=dataset.edge_set,
        )
    head = model_config["head"] if model_config["head"] in ("mlp", "linear") else "mlp"
    return GraphModel(
        backbone,
        dataset.num_classes,
        readout=model_config["readout"],
        head=head,
        head_dropout=model_config["head_dropout"],
        head_hidden_units=model_config["head_hidden_units"],
    )


def split_batches(config: dict, dataset: GraphDataset, splits: dict) -> dict:
    """Batched data sets per split, plus ``"fit"`` (the training split, reshuffled per epoch).

    Built once per run: each `graph_batches` call traces its TF-GNN batching function,
    which costs seconds.
    """

    def batches(indices, shuffle=False):
        return graph_batches(
            dataset.graphs,
            indices,
            label_feature=dataset.label,
            batch_size=int(config["train"]["batch_size"]),
            shuffle=shuffle,
            seed=int(config["train"]["seed"]),
        )

    return {"fit": batches(splits["train"], True), **{s: batches(i) for s, i in splits.items()}}


def graph_metrics(model, dataset: GraphDataset, batches: dict) -> dict[str, Any]:
    """Accuracy, macro-F1 (and ROC-AUC for two classes) per split."""
    metrics = {}
    for split in ("train", "validation", "test"):
        logits, labels = [], []
        for graph, batch_labels in batches[split]:
            logits.append(model(graph, training=False).numpy())
            labels.append(batch_labels.numpy())
        logits, labels = np.concatenate(logits), np.concatenate(labels)
        metrics[split] = classification_metrics(labels, logits)
        if dataset.num_classes == 2 and len(np.unique(labels)) == 2:
            metrics[split]["roc_auc"] = roc_auc(labels, logits[:, 1] - logits[:, 0])
    return metrics


def train_graph_classification(config: dict, *, backbone=None, model_hook=None) -> dict:
    """Trains one fold, evaluates every split and writes the run folder; returns metrics."""
    tf.keras.utils.set_random_seed(int(config["train"]["seed"]))
    dataset, splits = prepare_graph_data(config)
    batches = split_batches(config, dataset, splits)
    model = build_graph_model(config, dataset, backbone)
    model(next(iter(batches["validation"]))[0])
    extra_callbacks = list(model_hook(model) or []) if model_hook else []
    steps = int(np.ceil(len(splits["train"]) / int(config["train"]["batch_size"])))
    model.compile(
        optimizer=optimizer_from_config(config["train"], steps),
        loss=SparseCategoricalCrossentropyWithSmoothing(config["train"]["label_smoothing"]),
        metrics=[tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    timer = StepTimer()
    start = time.perf_counter()
    history = model.fit(
        batches["fit"],
        validation_data=batches["validation"],
        epochs=int(config["train"]["epochs"]),
        callbacks=[*callbacks_from_config(config, timer), *extra_callbacks],
        verbose=int(config["train"]["verbose"]),
    )
    metrics = graph_metrics(model, dataset, batches)
    metrics.update(
        epochs_run=len(history.history["loss"]),
        train_time_s=time.perf_counter() - start,
        step_time_median_s=float(np.median(timer.step_times)),
        split_sizes={split: int(len(ids)) for split, ids in splits.items()},
    )
    test_logits = np.concatenate(
        [model(graph, training=False).numpy() for graph, _ in batches["test"]]
    )
    run_folder.write_run(
        Path(config["out"]),
        config=config,
        schema=dataset.schema,
        model=model,
        metrics=metrics,
        history=history.history,
        tables={"per_class_test": per_class_report(dataset.labels[splits["test"]], test_logits)},
    )
    return metrics


def evaluate_graph_run(run_dir) -> dict:
    """Rebuilds a run's model from its folder, restores the weights, re-computes metrics."""
    config = run_folder.read_run_config(run_dir)
    dataset, splits = prepare_graph_data(config)
    batches = split_batches(config, dataset, splits)
    model = build_graph_model(config, dataset)
    model(next(iter(batches["validation"]))[0])
    run_folder.load_weights(model, run_dir)
    return graph_metrics(model, dataset, batches)
