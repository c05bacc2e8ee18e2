"""Fine-tuning a pre-trained backbone for node classification from a config."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from tfgraphtune.finetune.strategies import FineTuneStrategy, trainable_fraction
from tfgraphtune.models.backbone import Backbone
from tfgraphtune.training import node_runner

# Backbone options a fine-tuning config may change on a pre-trained backbone: they regularize
# training and do not change the weights' shapes.
FINETUNE_BACKBONE_KEYS = ("dropout", "input_dropout", "l2")


def strategy_from_config(config: dict) -> FineTuneStrategy:
    """The `FineTuneStrategy` of a config's ``finetune`` section."""
    options = {
        k: v for k, v in config["finetune"].items() if k not in ("backbone", "strategy", "resume")
    }
    return FineTuneStrategy(name=config["finetune"]["strategy"], **options)


def _backbone_config_of_run(run_dir: str | Path) -> dict:
    model = json.loads((Path(run_dir) / "model.json").read_text())
    backbone = model["backbone"]
    return backbone.get("config", backbone)


def finetune_node_classification(
    config: dict, *, dataset_and_graph=None, write: bool = True
) -> dict[str, Any]:
    """Trains a node classifier with ``finetune.strategy`` and writes its run folder.

    Sources of the backbone, in order: ``finetune.resume`` (a fine-tuned run folder: its
    whole model, head included, continues training — continual fine-tuning on new nodes,
    edges or labels), ``finetune.backbone`` (a pre-trained checkpoint; the data's schema is
    checked against it, and ``model.dropout/input_dropout/l2`` of the config apply), else a
    freshly initialised backbone (training from scratch).

    Returns:
      The metrics (also in ``metrics.json``), with ``strategy`` and ``trainable_fraction``.

    Raises:
      SchemaMismatchError: The data does not fit the pre-trained backbone.
    """
    config = copy.deepcopy(config)
    finetune = config["finetune"]
    strategy = strategy_from_config(config)
    overrides = strategy.backbone_overrides()
    resume = finetune.get("resume")
    backbone = None
    if resume:
        backbone = Backbone.from_config(_backbone_config_of_run(resume))
        config["model"]["conv"] = backbone.conv
    elif finetune.get("backbone"):
        from tfgraphtune.pretrain.checkpoint import read_pretrained

        pretrained_config, _, _ = read_pretrained(finetune["backbone"])
        config["model"]["conv"] = pretrained_config["conv"]
    dataset, graph = dataset_and_graph or node_runner.prepare_node_data(config)
    if resume:
        import tensorflow_gnn as tfgnn

        from tfgraphtune.pretrain.checkpoint import check_schema_compatible

        run_schema = tfgnn.read_schema(str(Path(resume) / "schema.pbtxt"))
        check_schema_compatible(backbone.get_config(), run_schema, dataset.schema)
    elif finetune.get("backbone"):
        regularization = {k: config["model"][k] for k in FINETUNE_BACKBONE_KEYS}
        backbone = Backbone.from_pretrained(
            finetune["backbone"], schema=dataset.schema, **regularization, **overrides
        )
    else:
        backbone = node_runner.build_backbone(
            config["model"],
            node_set=dataset.node_set,
            feature=dataset.feature,
            edge_set=dataset.edge_set,
        )
        if overrides:
            backbone = Backbone.from_config({**backbone.get_config(), **overrides})
    fraction = {}

    def model_hook(model):
        callbacks = strategy.apply(model)
        fraction["value"] = trainable_fraction(model)
        return callbacks

    metrics = node_runner.train_node_classification(
        config,
        backbone=backbone,
        model_hook=model_hook,
        optimizer_hook=strategy.wrap_optimizer,
        initial_weights=resume,
        dataset_and_graph=(dataset, graph),
        write=write,
    )
    metrics["strategy"] = strategy.name
    metrics["trainable_fraction"] = fraction["value"]
    if write:
        (Path(config["out"]) / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics


__all__ = ["finetune_node_classification", "strategy_from_config"]
