"""Losses tf_keras lacks: sparse-label cross-entropy with label smoothing."""

from __future__ import annotations

import tensorflow as tf


@tf.keras.utils.register_keras_serializable(package="tfgraphtune")
class SparseCategoricalCrossentropyWithSmoothing(tf.keras.losses.Loss):
    """Cross-entropy on integer labels with label smoothing.

    The target is ``(1 - s) * one_hot(y) + s / C``, as in Szegedy et al. (2016) and
    `tf.keras.losses.CategoricalCrossentropy(label_smoothing=s)`, without one-hot labels
    in the data pipeline.

    Args:
      label_smoothing: ``s`` in [0, 1).
      from_logits: Whether predictions are logits.
    """

    def __init__(self, label_smoothing: float = 0.0, from_logits: bool = True, **kwargs):
        kwargs.setdefault("name", "sparse_categorical_crossentropy_smoothed")
        super().__init__(**kwargs)
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(
                "Received an invalid value for label_smoothing, expected a number in [0, 1). "
                f"Received: label_smoothing={label_smoothing!r}"
            )
        self.label_smoothing = float(label_smoothing)
        self.from_logits = bool(from_logits)

    def call(self, y_true, y_pred):
        num_classes = tf.shape(y_pred)[-1]
        labels = tf.one_hot(tf.cast(tf.reshape(y_true, [-1]), tf.int32), num_classes)
        return tf.keras.losses.categorical_crossentropy(
            labels, y_pred, from_logits=self.from_logits, label_smoothing=self.label_smoothing
        )

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "label_smoothing": self.label_smoothing,
            "from_logits": self.from_logits,
        }


@tf.keras.utils.register_keras_serializable(package="tfgraphtune")
class PairBinaryCrossentropy(tf.keras.losses.Loss):
    """Binary cross-entropy with one loss per scored pair (``[P]`` logits, ``[P]`` labels).

    `tf.keras.losses.BinaryCrossentropy` averages over the last axis, which for a flat
    vector of pair scores gives one number per batch, so per-pair sample weights cannot
    apply; this loss keeps one value per pair.

    Args:
      from_logits: Whether predictions are logits (else probabilities).
    """

    def __init__(self, from_logits: bool = True, **kwargs):
        kwargs.setdefault("name", "pair_binary_crossentropy")
        super().__init__(**kwargs)
        self.from_logits = bool(from_logits)

    def call(self, y_true, y_pred):
        y_true = tf.cast(tf.reshape(y_true, [-1]), y_pred.dtype)
        y_pred = tf.reshape(y_pred, [-1])
        if self.from_logits:
            return tf.nn.sigmoid_cross_entropy_with_logits(labels=y_true, logits=y_pred)
        return tf.keras.backend.binary_crossentropy(y_true, y_pred)

    def get_config(self) -> dict:
        return {**super().get_config(), "from_logits": self.from_logits}
