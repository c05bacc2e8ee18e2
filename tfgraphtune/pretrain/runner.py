"""Pre-training from a config: build the objective, fit it, write a backbone checkpoint."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tfgraphtune.models.backbone import Backbone
from tfgraphtune.models.checkpoint import save_pretrained
from tfgraphtune.pretrain.base import PretrainModel, graph_data
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
    """``(schema, backbone, data set for fit, steps per epoch, preprocessing)`` of a config.

    Node methods read one graph, graph methods many (any source: a known data set, tables,
    TFRecord; labels are not needed). The feature normalization is fitted on every node:
    pre-training has no held-out rows.
    """
    from tfgraphtune.data import sources
    from tfgraphtune.data.preprocessing import Preprocessing
    from tfgraphtune.layers.propagation import precompute_gcn_normalization
    from tfgraphtune.training.backbones import backbone_options

    method = config["pretrain"]["method"]
    if method not in METHODS:
        build_objective(method, None, config["pretrain"])  # Raises the message.
    data = config["data"]
    if method in NODE_METHODS:
        dataset = sources.load_node_data(data, labelled=False, split=False)
        raw = dataset.graph.node_sets[dataset.node_set][dataset.feature].numpy()
        graphs = None
    else:
        dataset = sources.load_graph_data(data, labelled=False)
        graphs = dataset.graphs
        raw = np.concatenate(
            [g.node_sets[dataset.node_set][dataset.feature].numpy() for g in graphs]
        )
    preprocessing = Preprocessing.fit(
        data["normalize_features"],
        raw,
        edge_cleaning=sources.cleaning_steps(data),
        fitted_on=f"all {len(raw)} nodes (pre-training)",
    )
    backbone = Backbone(
        node_set=dataset.node_set,
        feature=dataset.feature,
        edge_set=dataset.edge_set,
        **backbone_options(config["model"]),
    )
    if graphs is None:
        graph = preprocessing.apply(dataset.graph, dataset.node_set, dataset.feature)
        if config["model"]["conv"] == "gcn":
            # The graph is fixed: compute D^-1/2 (A+I) D^-1/2 once, not every step.
            graph = precompute_gcn_normalization(graph, dataset.edge_set)
        return dataset.schema, backbone, graph_data(graph), 1, preprocessing
    from tfgraphtune.pretrain.graph_data import batched_graphs

    if preprocessing.feature_normalization:
        graphs = [preprocessing.apply(g, dataset.node_set, dataset.feature) for g in graphs]
    batch_size = int(config["train"]["batch_size"])
    steps = -(-len(graphs) // batch_size)
    return dataset.schema, backbone, batched_graphs(graphs, batch_size), steps, preprocessing


def pretrain(
    config: dict, *, out: str | Path | None = None, save: bool = True, overwrite: bool = False
):
    """Pre-trains the config's backbone with ``pretrain.method``; writes the checkpoint.

    The checkpoint folder is written atomically (a killed run leaves no half checkpoint),
    and an existing one is replaced only with `overwrite`.

    Returns:
      ``(backbone, metadata)``; the checkpoint goes to `out` (default ``config["out"]``).

    Raises:
      ConfigError: Invalid settings.
      ValidationError: Bad data, or an output folder that cannot be written.
    """
    from tfgraphtune.training.config import check_config
    from tfgraphtune.training.staging import StagedFolder

    check_config(config)
    staged = (
        StagedFolder(
            out or config["out"],
            overwrite=overwrite,
            what="pre-trained backbone checkpoint",
            marker="backbone.json",
        )
        if save
        else None
    )
    try:
        backbone, metadata = _pretrain(config)
        if staged is not None:
            save_pretrained(
                backbone, staged.path, schema=metadata.pop("_schema"), metadata=metadata
            )
            staged.commit()
        else:
            metadata.pop("_schema")
    except BaseException:
        if staged is not None:
            staged.discard()
        raise
    return backbone, metadata


def _pretrain(config: dict):
    tf.keras.utils.set_random_seed(int(config["train"]["seed"]))
    options = config["pretrain"]
    schema, backbone, data, steps, preprocessing = pretrain_data(config)
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
        "preprocessing": preprocessing.to_json(),
        "pretrain": dict(options),
        "epochs": int(options["epochs"]),
        "epochs_run": len(history.history["loss"]),
        "final_loss": float(history.history["loss"][-1]),
        "pretrain_time_s": time.perf_counter() - start,
        "seed": int(config["train"]["seed"]),
        "_schema": schema,
    }
    return backbone, metadata
