"""GraphSAGE convolution with mean aggregation."""

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
class SAGEConv(tf.keras.layers.Layer):
    """GraphSAGE-mean: ``h'_v = act(W_self h_v + W_nbr mean_{u -> v} h_u + b)``.

    Hamilton, Ying & Leskovec, "Inductive Representation Learning on Large Graphs"
    (NeurIPS 2017), in PyG's form (separate self and neighbour kernels, no concatenation).
    Both kernels are applied before aggregation (the mean is linear), so sparse inputs work.

    Args:
      units: Output channels, a positive integer.
      edge_set_name: Edge set within one node set; None for the graph's only edge set.
      activation: Keras activation of the output.
      use_bias: Whether to add a bias.
      kernel_initializer: Keras initializer of both kernels.
      kernel_regularizer: Keras regularizer of both kernels.

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
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        kernel_regularizer: Any = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_units(units)
        self.edge_set_name = edge_set_name
        self.activation = tf.keras.activations.get(activation)
        self.use_bias = bool(use_bias)
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
        self.neighbor_kernel = self.add_weight(
            name="neighbor_kernel",
            shape=(input_dim, self.units),
            initializer=self._init(),
            regularizer=self.kernel_regularizer,
        )
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
        super().build(input_shape)

    def call(self, node_states, *, graph: tfgnn.GraphTensor):
        _, edge_set, node_set = homogeneous_edge_set(graph, self.edge_set_name, "SAGEConv")
        adjacency = edge_set.adjacency
        num_nodes = node_set.total_size
        in_degree = tf.math.unsorted_segment_sum(
            tf.ones_like(adjacency.target, tf.float32), adjacency.target, num_nodes
        )
        inverse = tf.math.divide_no_nan(1.0, in_degree)
        neighbor_mean = propagation.aggregate(
            project(node_states, self.neighbor_kernel),
            source=adjacency.source,
            target=adjacency.target,
            weights=tf.gather(inverse, adjacency.target),
            num_targets=num_nodes,
            order=edge_set.features.get(propagation.CSR_ORDER),
        )
        outputs = project(node_states, self.kernel) + neighbor_mean
        if self.use_bias:
            outputs = tf.nn.bias_add(outputs, self.bias)
        return self.activation(outputs)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "units": self.units,
            "edge_set_name": self.edge_set_name,
            "activation": tf.keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": tf.keras.initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": tf.keras.regularizers.serialize(self.kernel_regularizer),
        }
