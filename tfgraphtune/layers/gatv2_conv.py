"""GATv2 attention convolution."""

from __future__ import annotations

from typing import Any

import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.layers.conv_base import (
    check_units,
    fresh_initializer,
    homogeneous_edge_set,
    project,
)


@tf.keras.utils.register_keras_serializable(package="tfgraphtune")
class GATv2Conv(tf.keras.layers.Layer):
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

    def __init__(
        self,
        units: int,
        *,
        num_heads: int = 1,
        concat_heads: bool = True,
        edge_set_name: str | None = None,
        attention_dropout: float = 0.0,
        negative_slope: float = 0.2,
        activation: Any = None,
        kernel_initializer: Any = "glorot_uniform",
        kernel_regularizer: Any = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_units(units)
        if not isinstance(num_heads, int) or num_heads <= 0:
            raise ValueError(
                "Received an invalid value for num_heads, expected a positive integer. "
                f"Received: num_heads={num_heads!r}"
            )
        if not 0.0 <= attention_dropout < 1.0:
            raise ValueError(
                "Received an invalid value for attention_dropout, expected a rate in [0, 1). "
                f"Received: attention_dropout={attention_dropout!r}"
            )
        self.num_heads = num_heads
        self.concat_heads = bool(concat_heads)
        self.edge_set_name = edge_set_name
        self.attention_dropout = float(attention_dropout)
        self.negative_slope = float(negative_slope)
        self.activation = tf.keras.activations.get(activation)
        self.kernel_initializer = tf.keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = tf.keras.regularizers.get(kernel_regularizer)

    def _init(self):
        return fresh_initializer(self.kernel_initializer)

    def build(self, input_shape):
        input_dim = int(input_shape[-1])
        width = self.num_heads * self.units
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, width),
            initializer=self._init(),
            regularizer=self.kernel_regularizer,
        )
        self.target_kernel = self.add_weight(
            name="target_kernel",
            shape=(input_dim, width),
            initializer=self._init(),
            regularizer=self.kernel_regularizer,
        )
        self.attention = self.add_weight(
            name="attention", shape=(self.num_heads, self.units), initializer="glorot_uniform"
        )
        out_width = width if self.concat_heads else self.units
        self.bias = self.add_weight(name="bias", shape=(out_width,), initializer="zeros")
        super().build(input_shape)

    def call(self, node_states, *, graph: tfgnn.GraphTensor, training=None):
        _, edge_set, node_set = homogeneous_edge_set(graph, self.edge_set_name, "GATv2Conv")
        num_nodes = node_set.total_size
        loops = tf.range(num_nodes, dtype=edge_set.adjacency.source.dtype)
        source = tf.concat([edge_set.adjacency.source, loops], axis=0)
        target = tf.concat([edge_set.adjacency.target, loops], axis=0)
        heads = (-1, self.num_heads, self.units)
        values = tf.reshape(project(node_states, self.kernel), heads)
        queries = tf.reshape(project(node_states, self.target_kernel), heads)
        source_values = tf.gather(values, source)
        scores = tf.nn.leaky_relu(
            source_values + tf.gather(queries, target), alpha=self.negative_slope
        )
        logits = tf.einsum("ehc,hc->eh", scores, self.attention)
        # Softmax over each target's incoming edges, stabilised by the per-target maximum.
        logits -= tf.gather(tf.math.unsorted_segment_max(logits, target, num_nodes), target)
        weights = tf.exp(logits)
        weights /= tf.gather(tf.math.unsorted_segment_sum(weights, target, num_nodes), target)
        if training and self.attention_dropout > 0:
            weights = tf.nn.dropout(weights, self.attention_dropout)
        outputs = tf.math.unsorted_segment_sum(
            source_values * weights[:, :, None], target, num_nodes
        )
        if self.concat_heads:
            outputs = tf.reshape(outputs, (-1, self.num_heads * self.units))
        else:
            outputs = tf.reduce_mean(outputs, axis=1)
        return self.activation(outputs + self.bias)

    def outputs_for(self, node_states, *, graph: tfgnn.GraphTensor, targets, training=None):
        """``tf.gather(self(node_states, graph=graph), targets)`` (the `GATConv` interface;
        GATv2's scores are not linear in its kernels, so every node is computed)."""
        return tf.gather(self(node_states, graph=graph, training=training), targets)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "units": self.units,
            "num_heads": self.num_heads,
            "concat_heads": self.concat_heads,
            "edge_set_name": self.edge_set_name,
            "attention_dropout": self.attention_dropout,
            "negative_slope": self.negative_slope,
            "activation": tf.keras.activations.serialize(self.activation),
            "kernel_initializer": tf.keras.initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": tf.keras.regularizers.serialize(self.kernel_regularizer),
        }
