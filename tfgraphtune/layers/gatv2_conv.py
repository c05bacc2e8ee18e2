"""GATv2 attention convolution."""

from __future__ import annotations

import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.layers.conv_base import AttentionConv, project


@tf.keras.utils.register_keras_serializable(package="tfgraphtune")
class GATv2Conv(AttentionConv):
    """GATv2: dynamic attention over incoming edges plus a self loop.

    Brody, Alon & Yahav, "How Attentive are Graph Attention Networks?" (ICLR 2022):
    ``e_uv = a^T LeakyReLU(W_s h_u + W_t h_v)``, ``alpha = softmax_u(e_uv)`` over the
    sources of ``v`` (including ``v`` itself), ``h'_v = act(sum_u alpha_uv W_s h_u + b)``.
    Heads are concatenated (``units = heads * channels``) or averaged.

    Args:
      units: Output channels per head, a positive integer.
      num_heads: Number of attention heads.
      concat_heads: Concatenate heads (output ``num_heads * units``) or average them.
      edge_set_name: Edge set within one node set; None for the graph's only edge set.
      attention_dropout: Dropout rate on attention coefficients during training.
      negative_slope: LeakyReLU slope inside the attention.
      activation: Keras activation of the output.
      kernel_initializer: Keras initializer of the kernels.
      kernel_regularizer: Keras regularizer of the kernels.

    Call args:
      node_states: ``[N, F]`` dense or sparse node states.
      graph: The `tfgnn.GraphTensor`.

    Returns:
      ``[N, num_heads * units]`` (concatenated) or ``[N, units]``.
    """

    def build(self, input_shape):
        shape = (self.input_width(input_shape), self.num_heads * self.units)
        self.kernel = self.add_kernel("kernel", shape)
        self.target_kernel = self.add_kernel("target_kernel", shape)
        self.attention = self.add_weight(
            name="attention", shape=(self.num_heads, self.units), initializer="glorot_uniform"
        )
        if self.use_bias:
            self.bias = self.add_bias(width=self.output_width)
        super().build(input_shape)

    def call(self, node_states, *, graph: tfgnn.GraphTensor, training=None):
        source, target, num_nodes = self.edges_with_self_loops(graph)
        heads = (-1, self.num_heads, self.units)
        values = tf.reshape(project(node_states, self.kernel), heads)
        queries = tf.reshape(project(node_states, self.target_kernel), heads)
        source_values = tf.gather(values, source)
        scores = tf.nn.leaky_relu(
            source_values + tf.gather(queries, target), alpha=self.negative_slope
        )
        logits = tf.einsum("ehc,hc->eh", scores, self.attention)
        weights = self.softmax_per_target(logits, target, num_nodes, training)
        weights = self.mask_messages(weights, graph)
        outputs = tf.math.unsorted_segment_sum(
            source_values * weights[:, :, None], target, num_nodes
        )
        return self.finish(outputs)

    def outputs_for(self, node_states, *, graph: tfgnn.GraphTensor, targets, training=None):
        """``tf.gather(self(node_states, graph=graph), targets)`` (the `GATConv` interface;
        GATv2's scores are not linear in its kernels, so every node is computed)."""
        return tf.gather(self(node_states, graph=graph, training=training), targets)
