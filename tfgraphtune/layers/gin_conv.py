"""Graph Isomorphism Network convolution."""

from __future__ import annotations

import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.layers import propagation
from tfgraphtune.layers.conv_base import GraphConv, project


@tf.keras.utils.register_keras_serializable(package="tfgraphtune")
class GINConv(GraphConv):
    """GIN: ``h'_v = MLP((1 + eps) h_v + sum_{u -> v} h_u)`` with a two-layer MLP.

    Xu, Hu, Leskovec & Jegelka, "How Powerful are Graph Neural Networks?" (ICLR 2019).
    The MLP's first linear map is applied before the sum (it is linear), so sparse inputs
    work and aggregation moves `units` channels: ``MLP = act(W2 relu(W1 x + b1) + b2)``.

    Args:
      units: Output channels (also the MLP's hidden width), a positive integer.
      learn_eps: Whether ``eps`` is trained (starts at 0); else fixed at 0.
      **kwargs: `GraphConv` options (edge set, activation, use_bias for both MLP biases,
        kernel initializer and regularizer of the MLP kernels).

    Call args:
      node_states: ``[N, F]`` dense or sparse node states.
      graph: The `tfgnn.GraphTensor`.

    Returns:
      ``[N, units]``.
    """

    def __init__(self, units: int, *, learn_eps: bool = False, **kwargs):
        super().__init__(units, **kwargs)
        self.learn_eps = bool(learn_eps)

    def build(self, input_shape):
        self.kernel = self.add_kernel("kernel", (self.input_width(input_shape), self.units))
        if self.use_bias:
            self.bias = self.add_bias()
        self.output_kernel = self.add_kernel("output_kernel", (self.units, self.units))
        if self.use_bias:
            self.output_bias = self.add_bias("output_bias")
        self.eps = self.add_weight(
            name="eps", shape=(), initializer="zeros", trainable=self.learn_eps
        )
        super().build(input_shape)

    def call(self, node_states, *, graph: tfgnn.GraphTensor):
        _, edge_set, node_set = self.edges(graph)
        adjacency = edge_set.adjacency
        projected = project(node_states, self.kernel)
        summed = propagation.aggregate(
            projected,
            source=adjacency.source,
            target=adjacency.target,
            weights=propagation.masked(None, edge_set),
            num_targets=node_set.total_size,
            order=edge_set.features.get(propagation.CSR_ORDER),
        )
        hidden = (1.0 + self.eps) * projected + summed
        if self.use_bias:
            hidden = tf.nn.bias_add(hidden, self.bias)
        outputs = tf.matmul(tf.nn.relu(hidden), self.output_kernel)
        if self.use_bias:
            outputs = tf.nn.bias_add(outputs, self.output_bias)
        return self.activation(outputs)

    def get_config(self) -> dict:
        return {**super().get_config(), "learn_eps": self.learn_eps}
