"""Gradual unfreezing: a callback that makes backbone layers trainable top-down on a schedule."""

from __future__ import annotations

import tensorflow as tf


def backbone_blocks(backbone) -> list[list[tf.keras.layers.Layer]]:
    """The layers of each backbone level ``i``: conv, normalization, activation, adapter."""
    blocks = [[conv] for conv in backbone.conv_layers]
    for group in ("norm_layers", "activation_layers", "adapter_layers"):
        for index, layer in enumerate(getattr(backbone, group)):
            blocks[index].append(layer)
    return blocks


class GradualUnfreezing(tf.keras.callbacks.Callback):
    """Unfreezes one backbone level every `every` epochs, from the top level down.

    Howard & Ruder (ULMFiT, 2018): train the head alone first, then the last layer, then
    the one below, ... Epochs ``[0, every)`` train the head only (plus whatever else is
    trainable), epoch ``every`` adds the top level, ``2 * every`` the next, and so on.

    Changing trainability changes which variables the train function updates, so the
    callback re-traces it; the optimizer is built with every variable that will ever train
    up front, so its slots exist when a level joins.

    Args:
      backbone: The model's `Backbone`; all its levels are frozen at the first `on_train_begin`.
      every: Epochs between two unfreezing events, a positive integer.

    Attributes:
      unfrozen_at: ``{epoch: level index}`` of the events that happened.
    """

    def __init__(self, backbone, *, every: int = 10):
        super().__init__()
        if not isinstance(every, int) or every < 1:
            raise ValueError(
                f"Received an invalid value for every, expected a positive integer. "
                f"Received: every={every!r}"
            )
        self.backbone = backbone
        self.every = every
        self.unfrozen_at: dict[int, int] = {}
        self._frozen = False

    def on_train_begin(self, logs=None):
        if self._frozen:
            return  # A later fit() continues the schedule (initial_epoch) without re-freezing.
        self._frozen = True
        blocks = backbone_blocks(self.backbone)
        for block in blocks:
            for layer in block:
                layer.trainable = True
        optimizer = self.model.optimizer
        if not getattr(optimizer, "_built", False) and not getattr(optimizer, "_index_dict", None):
            optimizer.build(self.model.trainable_variables)
        for block in blocks:
            for layer in block:
                layer.trainable = False
        self.model.train_function = self.model.make_train_function(force=True)

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 0 or epoch % self.every:
            return
        blocks = backbone_blocks(self.backbone)
        level = len(blocks) - epoch // self.every
        if level < 0:
            return
        for layer in blocks[level]:
            layer.trainable = True
        self.unfrozen_at[epoch] = level
        self.model.train_function = self.model.make_train_function(force=True)
