"""Pre-training from a config: build the objective, fit it, write a backbone checkpoint."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import tensorflow as tf

from tfgraphtune.models.backbone import Backbone
from tfgraphtune.pretrain.base import PretrainModel, graph_data
from tfgraphtune.pretrain.checkpoint import save_pretrained
from tfgraphtune.training.optimizers import make_schedule

NODE_METHODS = ("dgi", "graphmae", "gae")
GRAPH_METHODS = ("attr_mask", "graph_contrastive")
METHODS = NODE_METHODS + GRAPH_METHODS


def build_objective(method: str, backbone: Backbone, options: dict[str, Any]) -> PretrainModel:
    """The pre-training model for `method` with the knobs of a config's ``pretrain`` section."""
    common = {"weight_decay": float(options.get("weight_decay", 0.0))}
    if method == "dgi":
        from tfgraphtune.pretrain.dgi import DeepGraphInfomax

        return DeepGraphInfomax(backbone, **common)
    if method == "graphmae":
        from tfgraphtune.pretrain.graphmae import GraphMAE

        return GraphMAE(
            backbone,
            mask_rate=options["mask_rate"],
            replace_rate=options["replace_rate"],
            alpha=options["sce_alpha"],
            # An attention encoder gets a decoder of its own kind, as in the paper.
            decoder=backbone.conv if backbone.conv in ("gat", "gatv2") else "gcn",
            mask_token=options["mask_token"],
            **common,
        )
    if method == "gae":
        from tfgraphtune.pretrain.gae import GraphAutoEncoder

        return GraphAutoEncoder(
            backbone, negatives_per_edge=options["negatives_per_edge"], **common
        )
    if method == "attr_mask":
        from tfgraphtune.pretrain.attr_mask import AttributeMasking

        return AttributeMasking(backbone, mask_rate=options["mask_rate"], **common)
    if method == "graph_contrastive":
        from tfgraphtune.pretrain.graph_contrastive import GraphContrastive

        return GraphContrastive(
            backbone,
            augmentations=tuple(options["augmentations"]),
            rate=options["augment_rate"],
            temperature=options["temperature"],
            **common,
        )
    raise ValueError(
        f"Received an invalid value for pretrain.method, expected one of {list(METHODS)}. "
        f"Received: method={method!r}"
    )


def pretrain_data(config: dict):
    """``(schema, backbone, data set for fit, steps per epoch, graph or None)`` of a config."""
    from tfgraphtune.training import node_runner

    method = config["pretrain"]["method"]
    if method not in METHODS:
        build_objective(method, None, config["pretrain"])  # Raises the message.
    if method in NODE_METHODS:
        dataset, graph = node_runner.prepare_node_data(config)
        backbone = node_runner.build_backbone(
            config["model"],
            node_set=dataset.node_set,
            feature=dataset.feature,
            edge_set=dataset.edge_set,
        )
        return dataset.schema, backbone, graph_data(graph), 1, graph
    from tfgraphtune.data.datasets.registry import load_dataset
    from tfgraphtune.pretrain.graph_data import batched_graphs

    data = config["data"]
    dataset = load_dataset(data["dataset"], data["data_dir"])
    backbone = node_runner.build_backbone(
        config["model"],
        node_set=dataset.node_set,
        feature=dataset.feature,
        edge_set=dataset.edge_set,
    )
    batch_size = int(config["train"]["batch_size"])
    steps = -(-len(dataset.graphs) // batch_size)
    return dataset.schema, backbone, batched_graphs(dataset.graphs, batch_size), steps, None


def pretrain(config: dict, *, out: str | Path | None = None, save: bool = True):
    """Pre-trains the config's backbone with ``pretrain.method``; writes the checkpoint.

    Returns:
      ``(backbone, metadata)``; the checkpoint goes to `out` (default ``config["out"]``).
    """
    tf.keras.utils.set_random_seed(int(config["train"]["seed"]))
    options = config["pretrain"]
    schema, backbone, data, steps, _ = pretrain_data(config)
    model = build_objective(options["method"], backbone, options)
    learning_rate = make_schedule(
        float(options["learning_rate"]),
        options.get("schedule", "constant"),
        decay_steps=int(options["epochs"]) * steps,
    )
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate))
    callbacks = []
    if options.get("patience"):
        # DGI's protocol: stop once the training loss stalls and keep the best weights.
        callbacks.append(
            tf.keras.callbacks.EarlyStopping(
                monitor="loss", patience=int(options["patience"]), restore_best_weights=True
            )
        )
    start = time.perf_counter()
    history = model.fit(
        data,
        steps_per_epoch=steps,
        epochs=int(options["epochs"]),
        callbacks=callbacks,
        verbose=int(config["train"]["verbose"]),
    )
    metadata = {
        "method": options["method"],
        "dataset": config["data"]["dataset"],
        "normalize_features": config["data"]["normalize_features"],
        "pretrain": dict(options),
        "epochs": int(options["epochs"]),
        "epochs_run": len(history.history["loss"]),
        "final_loss": float(history.history["loss"][-1]),
        "pretrain_time_s": time.perf_counter() - start,
        "seed": int(config["train"]["seed"]),
    }
    if save:
        save_pretrained(backbone, out or config["out"], schema=schema, metadata=metadata)
    return backbone, metadata
