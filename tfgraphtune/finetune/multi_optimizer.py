"""Per-layer ("discriminative") learning rates for tf_keras: one optimizer per group."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import tensorflow as tf


@tf.keras.utils.register_keras_serializable(package="tfgraphtune")
class ScaledSchedule(tf.keras.optimizers.schedules.LearningRateSchedule):
    """``factor * schedule(step)`` (a constant rate is a schedule too)."""

    def __init__(self, schedule, factor: float):
        self.schedule = schedule
        self.factor = float(factor)

    def __call__(self, step):
        rate = self.schedule(step) if callable(self.schedule) else self.schedule
        return tf.cast(rate, tf.float32) * self.factor

    def get_config(self) -> dict:
        schedule = self.schedule
        if isinstance(schedule, tf.keras.optimizers.schedules.LearningRateSchedule):
            schedule = tf.keras.optimizers.schedules.serialize(schedule)
        return {"schedule": schedule, "factor": self.factor}


def _scaled_copy(optimizer: tf.keras.optimizers.Optimizer, factor: float):
    config = optimizer.get_config()
    rate = optimizer._learning_rate  # The schedule object or the constant variable.
    if isinstance(rate, tf.keras.optimizers.schedules.LearningRateSchedule):
        config["learning_rate"] = ScaledSchedule(rate, factor)
    else:
        config["learning_rate"] = float(rate.numpy()) * factor
    config["jit_compile"] = False
    return type(optimizer).from_config(config)


class DiscriminativeOptimizer(tf.keras.optimizers.Optimizer):
    """Applies a base optimizer with a different learning rate per group of variables.

    What tensorflow-addons' ``MultiOptimizer`` did, for tf_keras's optimizers: each group
    gets its own copy of `optimizer` with learning rate ``factor * base`` (schedules are
    scaled too), so its update — also Adam's, which does not scale with the gradient — is
    the base update at the scaled rate. For SGD without momentum one step moves a variable
    by exactly ``-lr * factor * grad``.

    Args:
      optimizer: The base tf_keras optimizer (its config is copied per group).
      multipliers: Ordered ``(key, factor)`` pairs or a mapping. A key is a
        `tf.keras.layers.Layer` (its variables) or a regular expression searched in the
        variable name; the first key that matches a variable decides its factor.
      default_multiplier: Factor of variables no key matches.

    Example:
      >>> optimizer = DiscriminativeOptimizer(
      ...     tf.keras.optimizers.Adam(0.01),
      ...     [(backbone.conv_layers[0], 0.25), (backbone.conv_layers[1], 0.5)])
      >>> model.compile(optimizer=optimizer, loss=...)
    """

    def __init__(
        self,
        optimizer: tf.keras.optimizers.Optimizer,
        multipliers: Mapping[Any, float] | Sequence[tuple[Any, float]],
        *,
        default_multiplier: float = 1.0,
        name: str = "DiscriminativeOptimizer",
        **kwargs,
    ):
        super().__init__(name=name, jit_compile=False, **kwargs)
        pairs = list(multipliers.items()) if isinstance(multipliers, Mapping) else list(multipliers)
        for key, factor in pairs:
            if not isinstance(key, (str, tf.keras.layers.Layer)):
                raise ValueError(
                    f"Received an invalid multiplier key, expected a layer or a regex "
                    f"string. Received: {key!r}"
                )
            if factor < 0:
                raise ValueError(
                    f"Received an invalid multiplier, expected a number >= 0. Received: "
                    f"{key!r}: {factor!r}"
                )
        if default_multiplier < 0:
            raise ValueError(
                f"Received an invalid value for default_multiplier, expected a number >= 0. "
                f"Received: default_multiplier={default_multiplier!r}"
            )
        self.base_optimizer = optimizer
        self.multipliers = pairs
        self.default_multiplier = float(default_multiplier)
        factors = sorted({float(f) for _, f in pairs} | {self.default_multiplier})
        # String keys: checkpoints (run folders, backups) track the groups' slots by key.
        self._group_optimizers = {repr(f): _scaled_copy(optimizer, f) for f in factors}
        self._learning_rate = self._build_learning_rate(optimizer._learning_rate)

    def multiplier_of(self, variable: tf.Variable) -> float:
        """The learning-rate factor that applies to `variable`."""
        for key, factor in self.multipliers:
            if isinstance(key, str):
                if re.search(key, variable.name):
                    return float(factor)
            elif any(variable is v for v in key.weights):
                return float(factor)
        return self.default_multiplier

    def _groups(self, pairs):
        groups: dict[float, list] = {}
        for pair in pairs:
            groups.setdefault(self.multiplier_of(pair[-1]), []).append(pair)
        return groups

    def build(self, var_list):
        super().build(var_list)
        for factor, group in self._groups([(v,) for v in var_list]).items():
            self._group_optimizers[repr(factor)].build([v for (v,) in group])

    def apply_gradients(
        self, grads_and_vars, name=None, skip_gradients_aggregation=False, **kwargs
    ):
        grads_and_vars = [(g, v) for g, v in grads_and_vars if g is not None]
        for factor, group in self._groups(grads_and_vars).items():
            if factor == 0.0:
                continue  # A zero rate freezes the group; skip its (momentum) state.
            self._group_optimizers[repr(factor)].apply_gradients(
                group, skip_gradients_aggregation=skip_gradients_aggregation
            )
        return self.iterations.assign_add(1)

    def update_step(self, gradient, variable):
        raise NotImplementedError("DiscriminativeOptimizer delegates to its group optimizers.")

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "optimizer": tf.keras.optimizers.serialize(self.base_optimizer),
            "multipliers": [
                (key if isinstance(key, str) else f"layer:{key.name}", factor)
                for key, factor in self.multipliers
            ],
            "default_multiplier": self.default_multiplier,
        }


def layerwise_multipliers(backbone, decay: float) -> list[tuple[Any, float]]:
    """``decay ** (L - i)`` for backbone level ``i`` of ``L``; the head (level ``L``) keeps 1.

    Howard & Ruder's ULMFiT schedule ("Universal Language Model Fine-tuning", ACL 2018) for
    a GNN stack: lower levels, which hold more general features, move less. Each level's
    conv, normalization, activation and adapter share its factor.
    """
    if not 0.0 < decay <= 1.0:
        raise ValueError(
            f"Received an invalid value for layer_decay, expected a number in (0, 1]. "
            f"Received: layer_decay={decay!r}"
        )
    pairs = []
    depth = len(backbone.conv_layers)
    for group in ("conv_layers", "norm_layers", "activation_layers", "adapter_layers"):
        for index, layer in enumerate(getattr(backbone, group)):
            pairs.append((layer, decay ** (depth - index)))
    return pairs
