"""Bottleneck adapter: a small residual MLP inserted between frozen layers."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from tfgraphtune.layers.conv_base import check_units


@tf.keras.utils.register_keras_serializable(package="tfgraphtune")
class Adapter(tf.keras.layers.Layer):
    """``h + up(act(down(h)))`` with the up-projection initialised to zeros.

    Houlsby et al., "Parameter-Efficient Transfer Learning for NLP" (ICML 2019). With the
    zero up-projection the adapter is the identity at the start, so fine-tuning begins at
    the pre-trained function; it trains ``2 d u + d + u`` parameters for width ``d`` and
    bottleneck ``u``.

    Args:
      units: Bottleneck width ``u``, a positive integer.
      activation: Keras activation inside the bottleneck.

    Call args:
      inputs: ``[rows, d]`` states.

    Returns:
      ``[rows, d]`` states.
    """

    def __init__(self, units: int, *, activation: Any = "relu", **kwargs: Any):
        super().__init__(**kwargs)
        self.units = check_units(units)
        self.activation = tf.keras.activations.get(activation)
        self.down = tf.keras.layers.Dense(self.units, name="down")
        self.up = None

    def build(self, input_shape):
        # Zero up-projection: the adapter starts as the identity.
        self.up = tf.keras.layers.Dense(int(input_shape[-1]), kernel_initializer="zeros", name="up")
        super().build(input_shape)

    def call(self, inputs):
        return inputs + self.up(self.activation(self.down(inputs)))

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "units": self.units,
            "activation": tf.keras.activations.serialize(self.activation),
        }
