"""Optimizers and learning-rate schedules by name (tf_keras's own; no tensorflow-addons)."""

from __future__ import annotations

import tensorflow as tf

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "cosine", "exponential", "step")


def make_schedule(
    learning_rate: float,
    schedule: str = "constant",
    *,
    decay_steps: int = 1000,
    warmup_steps: int = 0,
    decay_rate: float = 0.5,
):
    """A learning rate or `tf.keras.optimizers.schedules.LearningRateSchedule`.

    Args:
      learning_rate: The base (peak) learning rate, > 0.
      schedule: ``constant``, ``cosine`` (with optional linear warmup), ``exponential``
        (smooth) or ``step`` (multiplied by `decay_rate` every `decay_steps` steps, as the
        GIN paper's "halve every 50 epochs").
      decay_steps: Steps of the cosine decay / of one exponential or step period.
      warmup_steps: Linear warmup steps before the cosine decay.
      decay_rate: Factor per `decay_steps` for ``exponential``.

    Raises:
      ValueError: Unknown schedule or non-positive values.
    """
    if learning_rate <= 0:
        raise ValueError(
            "Received an invalid value for learning_rate, expected a number > 0. "
            f"Received: learning_rate={learning_rate!r}"
        )
    if schedule not in SCHEDULES:
        raise ValueError(
            f"Received an invalid value for schedule, expected one of {list(SCHEDULES)}. "
            f"Received: schedule={schedule!r}"
        )
    if schedule == "constant":
        return learning_rate
    if decay_steps <= 0:
        raise ValueError(f"decay_steps must be > 0. Received: decay_steps={decay_steps!r}")
    if schedule == "cosine":
        if warmup_steps:
            return tf.keras.optimizers.schedules.CosineDecay(
                0.0, decay_steps, warmup_target=learning_rate, warmup_steps=warmup_steps
            )
        return tf.keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps)
    return tf.keras.optimizers.schedules.ExponentialDecay(
        learning_rate, decay_steps, decay_rate, staircase=schedule == "step"
    )


def make_optimizer(
    name: str = "adam",
    learning_rate: float = 0.01,
    *,
    weight_decay: float = 0.0,
    momentum: float = 0.9,
    schedule: str = "constant",
    decay_steps: int = 1000,
    warmup_steps: int = 0,
    decay_rate: float = 0.5,
    clipnorm: float | None = None,
) -> tf.keras.optimizers.Optimizer:
    """Builds a tf_keras optimizer.

    `weight_decay` is decoupled decay (applied to the weights, not the loss) for all three;
    for Kipf & Welling's loss-side L2 use the backbone's ``l2`` instead.

    Args:
      name: ``adam``, ``adamw`` or ``sgd``.
      learning_rate: Base learning rate.
      weight_decay: Decoupled weight decay, >= 0.
      momentum: SGD momentum.
      schedule, decay_steps, warmup_steps, decay_rate: See `make_schedule`.
      clipnorm: Optional gradient norm clipping.

    Raises:
      ValueError: Unknown optimizer, or invalid numbers.
    """
    if name not in OPTIMIZERS:
        raise ValueError(
            f"Received an invalid value for optimizer, expected one of {list(OPTIMIZERS)}. "
            f"Received: optimizer={name!r}"
        )
    if weight_decay < 0:
        raise ValueError(
            "Received an invalid value for weight_decay, expected a number >= 0. "
            f"Received: weight_decay={weight_decay!r}"
        )
    rate = make_schedule(
        learning_rate,
        schedule,
        decay_steps=decay_steps,
        warmup_steps=warmup_steps,
        decay_rate=decay_rate,
    )
    decay = weight_decay or None
    if name == "adam":
        return tf.keras.optimizers.Adam(rate, weight_decay=decay, clipnorm=clipnorm)
    if name == "adamw":
        return tf.keras.optimizers.AdamW(rate, weight_decay=weight_decay, clipnorm=clipnorm)
    return tf.keras.optimizers.SGD(rate, momentum=momentum, weight_decay=decay, clipnorm=clipnorm)
