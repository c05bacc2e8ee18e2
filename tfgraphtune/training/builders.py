"""Building blocks every task runner takes from a config: backbone, optimizer, callbacks."""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf

from tfgraphtune.models.backbone import Backbone
from tfgraphtune.training.callbacks import StepTimer, standard_callbacks
from tfgraphtune.training.optimizers import make_optimizer

BACKBONE_KEYS = (
    "conv",
    "hidden_units",
    "num_layers",
    "activation",
    "final_activation",
    "dropout",
    "input_dropout",
    "sparse_inputs",
    "residual",
    "normalization",
    "l2",
    "conv_options",
)


def backbone_from_config(
    model_config: dict, *, node_set: str, feature: str, edge_set: str | None
) -> Backbone:
    """A `Backbone` from the ``model`` section of a config."""
    options = {key: model_config[key] for key in BACKBONE_KEYS if key in model_config}
    return Backbone(node_set=node_set, feature=feature, edge_set=edge_set, **options)


def optimizer_from_config(train_config: dict, steps_per_epoch: int = 1):
    """The ``train`` section's optimizer; schedules decay over all training steps."""
    return make_optimizer(
        train_config["optimizer"],
        train_config["learning_rate"],
        weight_decay=train_config["weight_decay"],
        schedule=train_config["schedule"],
        decay_steps=max(int(train_config["epochs"]) * steps_per_epoch, 1),
        warmup_steps=train_config["warmup_steps"],
    )


def callbacks_from_config(config: dict, timer: StepTimer | None = None, *, monitor=None):
    """Step timer, early stopping (``train.early_stopping``) and TensorBoard (``out/logs``).

    Args:
      config: The full config.
      timer: A `StepTimer` to include first, if any.
      monitor: Overrides ``train.early_stopping.monitor`` (tasks whose default differs).
    """
    train = config["train"]
    stopping = train["early_stopping"] or {}
    log_dir = str(Path(config["out"]) / "logs") if train["tensorboard"] else None
    callbacks: list[tf.keras.callbacks.Callback] = [timer] if timer is not None else []
    callbacks += standard_callbacks(
        monitor=monitor or stopping.get("monitor", "val_loss"),
        patience=stopping.get("patience") if stopping else None,
        mode=stopping.get("mode", "auto"),
        log_dir=log_dir,
    )
    return callbacks
