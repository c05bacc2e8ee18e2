"""Training and evaluating link prediction from a config.

The edges of the data set's edge set are split (``data.val_fraction``,
``data.test_fraction``, seeded by ``train.seed``) so that message passing only ever sees
training edges; held-out edges are scored against as many sampled non-edges, with exact
ROC-AUC and average precision.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tfgraphtune.data.datasets.dataset import NodeDataset
from tfgraphtune.data.datasets.registry import load_dataset
from tfgraphtune.data.graph_transforms import normalize_node_feature
from tfgraphtune.layers.propagation import precompute_gcn_normalization
from tfgraphtune.models.tasks.link_prediction import LinkModel, LinkSplit, link_inputs, split_edges
from tfgraphtune.training import run_folder
from tfgraphtune.training.builders import (
    backbone_from_config,
    callbacks_from_config,
    optimizer_from_config,
)
from tfgraphtune.training.callbacks import StepTimer
from tfgraphtune.training.losses import PairBinaryCrossentropy
from tfgraphtune.training.ranking_metrics import average_precision, roc_auc


def prepare_link_data(config: dict) -> tuple[NodeDataset, LinkSplit]:
    """Loads the graph, normalizes features and splits its edges without leakage."""
    data = config["data"]
    dataset = load_dataset(data["dataset"], data["data_dir"])
    if not isinstance(dataset, NodeDataset):
        raise ValueError(
            f"data set {data['dataset']!r} holds many graphs; link_prediction needs one graph."
        )
    graph = dataset.graph
    if data["normalize_features"]:
        graph = normalize_node_feature(
            graph, dataset.node_set, dataset.feature, data["normalize_features"]
        )
    split = split_edges(
        graph,
        dataset.edge_set,
        val_fraction=float(data["val_fraction"]),
        test_fraction=float(data["test_fraction"]),
        seed=int(config["train"]["seed"]),
    )
    if config["model"]["conv"] == "gcn":
        # The message-passing graph is fixed: compute the GCN coefficients once.
        split = dataclasses.replace(
            split, train_graph=precompute_gcn_normalization(split.train_graph, dataset.edge_set)
        )
    return dataset, split


def build_link_model(config: dict, dataset: NodeDataset, backbone=None) -> LinkModel:
    """The `LinkModel` of a config (a given `backbone` replaces the configured one)."""
    model_config = config["model"]
    if backbone is None:
        backbone = backbone_from_config(
            model_config,
            node_set=dataset.node_set,
            feature=dataset.feature,
            edge_set=dataset.edge_set,
        )
    return LinkModel(
        backbone,
        decoder=model_config["decoder"],
        hidden_units=model_config["head_hidden_units"],
        dropout=model_config["head_dropout"],
    )


def link_metrics(model: LinkModel, split: LinkSplit) -> dict[str, Any]:
    """Exact ROC-AUC and average precision on the validation and test pairs."""
    metrics = {}
    for name, pairs, labels in (
        ("validation", split.val_pairs, split.val_labels),
        ("test", split.test_pairs, split.test_labels),
    ):
        scores = model((split.train_graph, tf.constant(pairs)), training=False).numpy()
        metrics[name] = {
            "roc_auc": roc_auc(labels, scores),
            "ap": average_precision(labels, scores),
        }
    return metrics


def train_link_prediction(config: dict, *, backbone=None, model_hook=None) -> dict:
    """Trains, evaluates and writes the run folder; returns the metrics."""
    tf.keras.utils.set_random_seed(int(config["train"]["seed"]))
    dataset, split = prepare_link_data(config)
    inputs = link_inputs(
        split,
        negatives_per_positive=config["train"]["negatives_per_positive"],
        seed=int(config["train"]["seed"]),
    )
    model = build_link_model(config, dataset, backbone)
    model((split.train_graph, tf.constant(split.val_pairs[:1])))
    extra_callbacks = list(model_hook(model) or []) if model_hook else []
    model.compile(
        optimizer=optimizer_from_config(config["train"]),
        loss=PairBinaryCrossentropy(),
        metrics=[
            tf.keras.metrics.AUC(curve="ROC", from_logits=True, name="auc"),
            tf.keras.metrics.AUC(curve="PR", from_logits=True, name="ap"),
        ],
    )
    timer = StepTimer()
    start = time.perf_counter()
    history = model.fit(
        inputs["train"],
        validation_data=inputs["validation"],
        epochs=int(config["train"]["epochs"]),
        callbacks=[*callbacks_from_config(config, timer), *extra_callbacks],
        verbose=int(config["train"]["verbose"]),
    )
    metrics = link_metrics(model, split)
    metrics.update(
        epochs_run=len(history.history["loss"]),
        train_time_s=time.perf_counter() - start,
        step_time_median_s=float(np.median(timer.step_times)),
        held_out_edges={
            "validation": int(split.val_labels.sum()),
            "test": int(split.test_labels.sum()),
        },
    )
    run_folder.write_run(
        Path(config["out"]),
        config=config,
        schema=dataset.schema,
        model=model,
        metrics=metrics,
        history=history.history,
    )
    return metrics


def evaluate_link_run(run_dir) -> dict:
    """Rebuilds the split and model of a run, restores the weights, re-computes metrics."""
    config = run_folder.read_run_config(run_dir)
    dataset, split = prepare_link_data(config)
    model = build_link_model(config, dataset)
    model((split.train_graph, tf.constant(split.val_pairs[:1])))
    run_folder.load_weights(model, run_dir)
    return link_metrics(model, split)
