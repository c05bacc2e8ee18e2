"""Pre-training from a config: build the objective, fit it, write a backbone checkpoint."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tfgraphtune.models.backbone import Backbone
from tfgraphtune.models.checkpoint import save_pretrained
from tfgraphtune.pretrain.base import PretrainModel
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


@dataclasses.dataclass
class PretrainData:
    """What pre-training needs of a config's data.

    Attributes:
      schema: The data's GraphSchema.
      backbone_args: Node set, feature and edge set of the backbone.
      dataset_fn: `tf.distribute.InputContext` -> repeating data set of graphs (one graph
        per replica for node methods; batches of graphs per replica for graph methods).
      steps: Steps per epoch.
      preprocessing: The feature normalization, fitted on every node.
      example: A graph to build the model on.
    """

    schema: Any
    backbone_args: dict
    dataset_fn: Any
    steps: int
    preprocessing: Any
    example: Any


def pretrain_data(config: dict) -> PretrainData:
    """The pre-training data of a config.

    Node methods read one graph, graph methods many (any source: a known data set, tables,
    TFRecord; labels are not needed). The feature normalization is fitted on every node:
    pre-training has no held-out rows.
    """
    from tfgraphtune.data import sources
    from tfgraphtune.data.graph_batching import GraphBatcher
    from tfgraphtune.data.preprocessing import Preprocessing
    from tfgraphtune.distribute.inputs import (
        local_replicas,
        one_element_per_replica,
    )
    from tfgraphtune.layers.propagation import precompute_gcn_normalization

    method = config["pretrain"]["method"]
    if method not in METHODS:
        build_objective(method, None, config["pretrain"])  # Raises the message.
    data = config["data"]
    if method in NODE_METHODS:
        dataset = sources.load_node_data(data, labelled=False, split=False)
        raw = dataset.graph.node_sets[dataset.node_set][dataset.feature].numpy()
    else:
        dataset = sources.load_graph_data(data, labelled=False)
        raw = np.concatenate(
            [g.node_sets[dataset.node_set][dataset.feature].numpy() for g in dataset.graphs]
        )
    preprocessing = Preprocessing.fit(
        data["normalize_features"],
        raw,
        edge_cleaning=sources.cleaning_steps(data),
        fitted_on=f"all {len(raw)} nodes (pre-training)",
    )
    backbone_args = {
        "node_set": dataset.node_set,
        "feature": dataset.feature,
        "edge_set": dataset.edge_set,
    }
    if method in NODE_METHODS:
        graph = preprocessing.apply(dataset.graph, dataset.node_set, dataset.feature)
        if config["model"]["conv"] == "gcn":
            # The graph is fixed: compute D^-1/2 (A+I) D^-1/2 once, not every step.
            graph = precompute_gcn_normalization(graph, dataset.edge_set)

        def node_dataset_fn(context):
            # Every replica sees the whole graph (the objectives scale their loss).
            replicas = local_replicas(context)
            return one_element_per_replica([graph] * len(replicas), repeat=True)

        return PretrainData(dataset.schema, backbone_args, node_dataset_fn, 1, preprocessing, graph)
    batcher = GraphBatcher(dataset.graphs, label_feature=dataset.label)
    if preprocessing.feature_normalization:
        batcher.transform_feature(dataset.node_set, dataset.feature, preprocessing.normalize)
    # The labels (if any) stay in the batcher: pre-training never sees them.
    batcher.labels = None
    ids = np.arange(len(dataset.graphs))
    steps = -(-len(ids) // int(config["train"]["batch_size"]))
    seed = int(config["train"]["seed"])

    def graph_dataset_fn(context):
        return batcher.replica_dataset(
            ids,
            global_batch_size=int(config["train"]["batch_size"]),
            replicas=local_replicas(context),
            num_replicas=context.num_replicas_in_sync,
            shuffle=True,
            seed=seed,
        ).repeat()

    example, _ = batcher.merge(ids[: min(len(ids), 2)])
    return PretrainData(
        dataset.schema, backbone_args, graph_dataset_fn, steps, preprocessing, example
    )


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
    from tfgraphtune.distribute.strategy import is_chief, serve_if_parameter_server_role
    from tfgraphtune.training import backup, test_hooks
    from tfgraphtune.training.config import check_config
    from tfgraphtune.training.staging import StagedFolder

    check_config(config)
    if serve_if_parameter_server_role(config):
        return None, {}  # A parameter-server cluster's ps/worker: served until stopped.
    staged = (
        StagedFolder(
            out or config["out"],
            overwrite=overwrite,
            what="pre-trained backbone checkpoint",
            marker="backbone.json",
        )
        if save and is_chief()  # In a multi-worker run only the chief writes.
        else None
    )
    backup_dir = None
    try:
        if save and backup.enabled(config):
            # Every worker of a multi-worker run backs up (the chief into this folder).
            backup_dir = backup.backup_dir_for(out or config["out"])
            what = f"pre-trained backbone checkpoint {str(out or config['out'])!r}"
            if backup.prepare_backup(
                backup_dir, config, overwrite=overwrite, writer=staged is not None, what=what
            ):
                backup.announce_resume(what, backup_dir)
            if staged is not None:
                staged.on_commit.append(lambda: backup.remove_backup(backup_dir))
        log_dir = (
            str(staged.path / "logs")
            if staged is not None and config["train"]["tensorboard"]
            else None
        )
        backbone, metadata = _pretrain(config, backup_dir, log_dir=log_dir)
        history = metadata.pop("_history")
        if staged is not None:
            save_pretrained(
                backbone, staged.path, schema=metadata.pop("_schema"), metadata=metadata
            )
            write_history(staged.path, history)
            test_hooks.kill_point("save")
            staged.commit()
        else:
            metadata.pop("_schema")
    except BaseException:
        if staged is not None:
            staged.discard()
            backup.discard_if_empty(backup_dir)
        raise
    return backbone, metadata


def write_history(folder: Path, history: dict[str, list]) -> None:
    """The per-epoch loss as ``history.csv`` and ``plots/training_curves.png``, as a
    fine-tuning run folder has them."""
    import pandas as pd

    from tfgraphtune.reporting import plots

    pd.DataFrame(history).rename_axis("epoch").to_csv(folder / "history.csv")
    plots.save_figures(folder, {"training_curves": plots.training_curves(history)})


def _pretrain(config: dict, backup_dir: Path | None = None, *, log_dir: str | None = None):
    from tfgraphtune.distribute.strategy import precision_policy, strategy_from_config
    from tfgraphtune.training.backbones import backbone_options
    from tfgraphtune.training.backup import fit_resumable, stateful_random_layers

    tf.keras.utils.set_random_seed(int(config["train"]["seed"]))
    options = config["pretrain"]
    data = pretrain_data(config)
    strategy = strategy_from_config(config)
    # Dropout draws from generators whose state a crash-safe backup saves.
    with precision_policy(config), strategy.scope(), stateful_random_layers():
        backbone = Backbone(**data.backbone_args, **backbone_options(config["model"]))
        model = build_objective(options["method"], backbone, options)
        model(data.example)  # Creates every variable under the strategy.
        learning_rate = make_schedule(
            float(options["learning_rate"]),
            options.get("schedule", "constant"),
            decay_steps=int(options["epochs"]) * data.steps,
        )
        model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate))
    from tfgraphtune.training.progress import progress_callbacks

    callbacks = []
    if log_dir is not None:
        callbacks.append(tf.keras.callbacks.TensorBoard(log_dir=log_dir, write_graph=False))
    if options.get("patience"):
        # DGI's protocol: stop once the training loss stalls and keep the best weights.
        callbacks.append(
            tf.keras.callbacks.EarlyStopping(
                monitor="loss", patience=int(options["patience"]), restore_best_weights=True
            )
        )
    start = time.perf_counter()
    history = fit_resumable(
        model,
        data.dataset_fn,
        config=config,
        steps_per_epoch=data.steps,
        epochs=int(options["epochs"]),
        callbacks=[
            *callbacks,
            *progress_callbacks(
                f"pre-train ({options['method']})",
                monitor="loss",
                mode="min",
                verbose=config["train"]["verbose"],
            ),
        ],
        backup_dir=backup_dir,
        verbose=int(config["train"]["verbose"]),
    )
    preprocessing, schema = data.preprocessing, data.schema
    metadata = {
        "method": options["method"],
        "dataset": config["data"]["dataset"],
        "normalize_features": config["data"]["normalize_features"],
        "preprocessing": preprocessing.to_json(),
        "pretrain": dict(options),
        "epochs": int(options["epochs"]),
        "epochs_run": len(history["loss"]),
        "final_loss": float(history["loss"][-1]),
        "pretrain_time_s": time.perf_counter() - start,
        "seed": int(config["train"]["seed"]),
        "_schema": schema,
        "_history": {k: [float(v) for v in vs] for k, vs in history.items()},
    }
    return backbone, metadata
