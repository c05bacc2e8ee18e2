"""L2-SP: weight decay toward the pre-trained weights instead of toward zero."""

from __future__ import annotations

import tensorflow as tf


def add_l2sp_loss(model: tf.keras.Model, backbone, alpha: float) -> list[tf.Tensor]:
    """Adds ``alpha/2 * sum ||w - w0||^2`` over the backbone's trainable weights to `model`.

    Li, Grandvalet & Davoine, "Explicit Inductive Bias for Transfer Learning with
    Convolutional Networks" (ICML 2018). ``w0`` is snapshotted now (call it right after
    loading the pre-trained weights).

    Returns:
      The snapshots ``w0``, in the order of ``backbone.trainable_weights``.
    """
    if alpha < 0:
        raise ValueError(
            f"Received an invalid value for l2sp_alpha, expected a number >= 0. Received: "
            f"l2sp_alpha={alpha!r}"
        )
    variables = list(backbone.trainable_weights)
    anchors = [tf.constant(v.numpy()) for v in variables]

    def penalty():
        return (
            0.5
            * alpha
            * tf.add_n([tf.reduce_sum(tf.square(v - a)) for v, a in zip(variables, anchors)])
        )

    model.add_loss(penalty)
    return anchors
