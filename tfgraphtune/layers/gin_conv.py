"""Graph Isomorphism Network convolution."""

from __future__ import annotations

from typing import Any

import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.layers import propagation
from tfgraphtune.layers.conv_base import (
    check_units,
    fresh_initializer,
    homogeneous_edge_set,
    project,
)


@tf.keras.utils.register_keras_serializable(package="tfgraphtune")
class GINConv(tf.keras.layers.Layer):
    """GIN: ``h'_v = MLP((1 + eps) h_v + sum_{u -> v} h_u)`` with a two-layer MLP.

    Xu, Hu, Leskovec & Jegelka, "How Powerful are Graph Neural Networks?" (ICLR 2019).
    The MLP's first linear map is applied before the sum (it is linear), so sparse inputs
    work and aggregation moves `units` channels: ``MLP = act(W2 relu(W1 x + b1) + b2)``.

    Args:
      units: Output channels (also the MLP's hidden width), a positive integer.
      edge_set_name: Edge set within one node set; None for the graph's only edge set.
      learn_eps: Whether ``eps`` is trained (starts at 0); else fixed at 0.
      activation: Keras activation of the output.
      kernel_initializer: Keras initializer of the MLP kernels.
      kernel_regularizer: Keras regularizer of the MLP kernels.

    Call args:
      node_states: ``[N, F]`` dense or sparse node states.
      graph: The `tfgnn.GraphTensor`.

    Returns:
      ``[N, units]``.
    """

    def __init__(
        self,
        units: int,
        *,
        edge_set_name: str | None = None,
        learn_eps: bool = False,
        activation: Any = None,
        kernel_initializer: Any = "glorot_uniform",
        kernel_regularizer: Any = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_units(units)
        self.edge_set_name = edge_set_name
        self.learn_eps = bool(learn_eps)
        self.activation = tf.keras.activations.get(activation)
        self.kernel_initializer = tf.keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = tf.keras.regularizers.get(kernel_regularizer)

    def _init(self):
        return fresh_initializer(self.kernel_initializer)

    def build(self, input_shape):
        input_dim = int(input_shape[-1])
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, self.units),
            initializer=self._init(),
            regularizer=self.kernel_regularizer,
        )
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
        self.output_kernel = self.add_weight(
            name="output_kernel",
            shape=(self.units, self.units),
            initializer=self._init(),
            regularizer=self.kernel_regularizer,
        )
        self.output_bias = self.add_weight(
            name="output_bias", shape=(self.units,), initializer="zeros"
        )
        self.eps = self.add_weight(
            name="eps", shape=(), initializer="zeros", trainable=self.learn_eps
        )
        super().build(input_shape)

    def call(self, node_states, *, graph: tfgnn.GraphTensor):
        _, edge_set, node_set = homogeneous_edge_set(graph, self.edge_set_name, "GINConv")
        adjacency = edge_set.adjacency
        projected = project(node_states, self.kernel)
        summed = propagation.aggregate(
            projected,
            source=adjacency.source,
            target=adjacency.target,
            weights=None,
            num_targets=node_set.total_size,
            order=edge_set.features.get(propagation.CSR_ORDER),
        )
        hidden = tf.nn.relu((1.0 + self.eps) * projected + summed + self.bias)
        return self.activation(tf.matmul(hidden, self.output_kernel) + self.output_bias)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "units": self.units,
            "edge_set_name": self.edge_set_name,
            "learn_eps": self.learn_eps,
            "activation": tf.keras.activations.serialize(self.activation),
            "kernel_initializer": tf.keras.initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": tf.keras.regularizers.serialize(self.kernel_regularizer),
        }
