"""GraphSAGE convolution with mean aggregation."""

from __future__ import annotations

import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.layers import propagation
from tfgraphtune.layers.conv_base import GraphConv, project


@tf.keras.utils.register_keras_serializable(package="tfgraphtune")
class SAGEConv(GraphConv):
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

    def build(self, input_shape):
        width = self.input_width(input_shape)
        self.kernel = self.add_kernel("kernel", (width, self.units))
        self.neighbor_kernel = self.add_kernel("neighbor_kernel", (width, self.units))
        if self.use_bias:
            self.bias = self.add_bias()
        super().build(input_shape)

    def call(self, node_states, *, graph: tfgnn.GraphTensor):
        _, edge_set, node_set = self.edges(graph)
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
            weights=propagation.masked(tf.gather(inverse, adjacency.target), edge_set),
            num_targets=num_nodes,
            order=edge_set.features.get(propagation.CSR_ORDER),
        )
        outputs = project(node_states, self.kernel) + neighbor_mean
        if self.use_bias:
            outputs = tf.nn.bias_add(outputs, self.bias)
        return self.activation(outputs)
