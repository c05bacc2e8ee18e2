"""Gradual unfreezing: a callback that makes backbone layers trainable top-down on a schedule."""

from __future__ import annotations

import tensorflow as tf

from tfgraphtune.checks import positive_int


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
    Levels never freeze again.

    Several ``fit()`` calls continue one schedule. Each epoch's place in it is the number
    of epochs this callback has already seen, or Keras's epoch index if that is larger: a
    second ``fit(initial_epoch=3, epochs=5)`` after ``fit(epochs=3)`` runs epochs 3 and 4
    of the schedule, and so does a second ``fit(epochs=2)``, whose epochs Keras counts from
    0 again; a new callback passed ``initial_epoch=k`` (resuming from a checkpoint) starts
    with every level due by epoch ``k`` unfrozen. To restart the schedule, re-apply the
    strategy and use a new callback.

    At the start of every ``fit()`` the callback sets each level's ``trainable`` from the
    schedule, and records that state as the compiled one: when layers' ``trainable`` differs
    from what ``compile()`` saw, Keras's ``fit()`` resets it for the call (which would
    unfreeze every level, the strategy having compiled an all-trainable backbone) and puts
    the old value back on return (which would re-freeze levels unfrozen during the call).
    Changing trainability changes which variables the train function updates, so the
    callback re-traces it. The optimizer is built with every variable that will ever train,
    so its slots exist when a level joins; a new one (``compile()`` again) is built the
    same way.

    Args:
      backbone: The model's `Backbone`; at each `on_train_begin` its levels not yet due are
        frozen and those already unfrozen made trainable.
      every: Epochs between two unfreezing events, a positive integer.

    Attributes:
      unfrozen_at: ``{epoch: level index}`` of the levels unfrozen so far, keyed by the
        schedule epoch of their event (``every``, ``2 * every``, ...).

    Raises:
      ValueError: At `on_train_begin`, if the model's optimizer was already built without
        some backbone variable (its slots could not be added when that level joins).
    """

    def __init__(self, backbone, *, every: int = 10):
        super().__init__()
        positive_int("every", every)
        self.backbone = backbone
        self.every = every
        self.unfrozen_at: dict[int, int] = {}
        self._epochs_seen = 0

    def on_train_begin(self, logs=None):
        blocks = backbone_blocks(self.backbone)
        self._build_optimizer(blocks)
        self._apply(blocks)

    def on_epoch_begin(self, epoch, logs=None):
        position = max(epoch, self._epochs_seen)
        self._epochs_seen = position + 1
        blocks = backbone_blocks(self.backbone)
        due = min(position // self.every, len(blocks))
        if due <= len(self.unfrozen_at):
            return
        for count in range(len(self.unfrozen_at) + 1, due + 1):
            self.unfrozen_at[count * self.every] = len(blocks) - count
        self._apply(blocks)

    def _build_optimizer(self, blocks) -> None:
        """Builds the optimizer with every variable that will ever train.

        Args:
          blocks: The backbone's levels, from `backbone_blocks`.

        Raises:
          ValueError: If the optimizer was built before without some of those variables.
        """
        optimizer = self.model.optimizer
        if not isinstance(optimizer, tf.keras.optimizers.Optimizer):
            return  # Legacy optimizers create their slots lazily.
        layers = [layer for block in blocks for layer in block]
        flags = [layer.trainable for layer in layers]
        for layer in layers:
            layer.trainable = True
        variables = list(self.model.trainable_variables)
        for layer, flag in zip(layers, flags):
            layer.trainable = flag
        index = getattr(optimizer, "_index_dict", None)
        if not getattr(optimizer, "_built", False) and not index:
            optimizer.build(variables)
            return
        missing = [v.name for v in variables if optimizer._var_key(v) not in (index or {})]
        if missing:
            raise ValueError(
                f"The optimizer {optimizer.name!r} was built without some variables that train "
                f"once GradualUnfreezing unfreezes the backbone, and cannot update them then. "
                f"Compile the model with a new optimizer before fit(). Missing: {missing}"
            )

    def _apply(self, blocks) -> None:
        """Sets each level's ``trainable`` from `unfrozen_at`; re-traces on a change.

        Args:
          blocks: The backbone's levels, from `backbone_blocks`.
        """
        first_unfrozen = len(blocks) - len(self.unfrozen_at)
        changed = False
        for index, block in enumerate(blocks):
            for layer in block:
                if layer.trainable != (index >= first_unfrozen):
                    layer.trainable = index >= first_unfrozen
                    changed = True
        if not changed:
            return
        compiled = getattr(self.model, "_compiled_trainable_state", None)
        if compiled is not None:
            # What fit() restores: the `trainable` flags compile() saw. Updated in place
            # (assigning a model attribute would track it as a dependency).
            for block in blocks:
                for layer in block:
                    compiled[layer] = layer.trainable
        self.model.train_function = self.model.make_train_function(force=True)
