"""What the convolutions share: option checks, kernel creation and ``H W`` projection."""

from __future__ import annotations

from typing import Any

import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.checks import positive_int, rate
from tfgraphtune.layers import propagation


def check_units(units: Any) -> int:
    """Returns `units` if it is a positive integer.

    Raises:
      ValueError: Otherwise, with the value received.
    """
    if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
        raise ValueError(
            "Received an invalid value for units, expected a positive integer. "
            f"Received: units={units!r}"
        )
    return units


def project(node_states: tf.Tensor | tf.SparseTensor, kernel: tf.Variable) -> tf.Tensor:
    """``node_states @ kernel`` for dense or sparse node states."""
    if isinstance(node_states, tf.SparseTensor):
        return tf.sparse.sparse_dense_matmul(node_states, kernel)
    return tf.matmul(node_states, kernel)


def homogeneous_edge_set(graph: tfgnn.GraphTensor, edge_set_name: str | None, layer: str):
    """Returns ``(name, edge_set, node_set)`` for an edge set within one node set.

    Raises:
      ValueError: The edge set is unknown or connects two different node sets.
    """
    name = propagation.single_edge_set(graph, edge_set_name)
    edge_set = graph.edge_sets[name]
    adjacency = edge_set.adjacency
    if adjacency.source_name != adjacency.target_name:
        raise ValueError(
            f"{layer} needs an edge set within one node set; {name!r} goes from "
            f"{adjacency.source_name!r} to {adjacency.target_name!r}."
        )
    return name, edge_set, graph.node_sets[adjacency.target_name]


def fresh_initializer(initializer):
    """A new instance of a Keras initializer, so two weights never share initial values.

    An unseeded initializer instance returns the same values on every call; one instance per
    weight keeps, for example, GraphSAGE's self and neighbour kernels different.
    """
    return initializer.__class__.from_config(initializer.get_config())


class GraphConv(tf.keras.layers.Layer):
    """What every convolution here has: output ``units``, the edge set it convolves over,
    an output activation, kernels from one initializer and regularizer, an optional bias.

    Subclasses create their weights with `add_kernel` / `add_bias` in ``build``, find their
    edges with `edges`, and extend `get_config` with their own options.

    Args:
      units: Output channels (per head for attention), a positive integer.
      edge_set_name: The edge set within one node set; None for the graph's only edge set.
      activation: Keras activation of the output.
      use_bias: Whether to add a bias.
      kernel_initializer: Keras initializer of the kernels.
      kernel_regularizer: Keras regularizer of the kernels.
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

    def input_width(self, input_shape) -> int:
        """The last dimension of the node states.

        Raises:
          ValueError: It is unknown.
        """
        width = input_shape[-1]
        if width is None:
            raise ValueError(f"{self.name}: the last dimension of node_states must be known.")
        return int(width)

    def add_kernel(
        self, name: str, shape, *, fresh: bool = True, regularized: bool = True, trainable=True
    ) -> tf.Variable:
        """A kernel from the layer's initializer (a fresh instance per kernel by default)."""
        initializer = (
            fresh_initializer(self.kernel_initializer) if fresh else self.kernel_initializer
        )
        return self.add_weight(
            name=name,
            shape=shape,
            initializer=initializer,
            regularizer=self.kernel_regularizer if regularized else None,
            trainable=trainable,
        )

    def add_bias(self, name: str = "bias", width: int | None = None, **options) -> tf.Variable:
        """A zero-initialised bias of `width` (default `units`) entries."""
        options.setdefault("initializer", "zeros")
        return self.add_weight(name=name, shape=(width or self.units,), **options)

    def edges(self, graph: tfgnn.GraphTensor):
        """``(name, edge_set, node_set)`` of the layer's edge set (see `homogeneous_edge_set`)."""
        return homogeneous_edge_set(graph, self.edge_set_name, type(self).__name__)

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


class AttentionConv(GraphConv):
    """What the attention convolutions (`GATConv`, `GATv2Conv`) share: heads over incoming
    edges plus a self loop, softmax per target, concatenated or averaged heads.

    Args:
      units: Output channels per head.
      num_heads: Number of attention heads, a positive integer.
      concat_heads: Concatenate heads (output ``num_heads * units``) or average them.
      attention_dropout: Dropout rate on the attention coefficients during training.
      negative_slope: LeakyReLU slope inside the attention.
      **kwargs: See `GraphConv`.
    """

    def __init__(
        self,
        units: int,
        *,
        num_heads: int = 1,
        concat_heads: bool = True,
        attention_dropout: float = 0.0,
        negative_slope: float = 0.2,
        **kwargs,
    ):
        super().__init__(units, **kwargs)
        self.num_heads = positive_int("num_heads", num_heads)
        self.concat_heads = bool(concat_heads)
        self.attention_dropout = rate("attention_dropout", attention_dropout)
        self.negative_slope = float(negative_slope)

    @property
    def output_width(self) -> int:
        return self.num_heads * self.units if self.concat_heads else self.units

    def edges_with_self_loops(self, graph: tfgnn.GraphTensor):
        """``(source, target, num_nodes)`` of the edge set plus one loop per node."""
        _, edge_set, node_set = self.edges(graph)
        num_nodes = node_set.total_size
        loops = tf.range(num_nodes, dtype=edge_set.adjacency.source.dtype)
        source = tf.concat([edge_set.adjacency.source, loops], axis=0)
        target = tf.concat([edge_set.adjacency.target, loops], axis=0)
        return source, target, num_nodes

    def softmax_per_target(self, logits, target, num_nodes, training):
        """``[E, heads]`` softmax of each target's incoming edge logits, attention dropout."""
        # Stabilised by the per-target maximum (a constant per target: no gradient needed).
        maximum = tf.stop_gradient(tf.math.unsorted_segment_max(logits, target, num_nodes))
        weights = tf.exp(logits - tf.gather(maximum, target))
        weights /= tf.gather(tf.math.unsorted_segment_sum(weights, target, num_nodes), target)
        if training and self.attention_dropout > 0:
            weights = tf.nn.dropout(weights, self.attention_dropout)
        return weights

    def mask_messages(self, weights, graph: tfgnn.GraphTensor):
        """``[E + N, heads]`` attention weights times the edge set's `EDGE_MASK` (self
        loops unmasked); unchanged when the graph carries no mask."""
        _, edge_set, node_set = self.edges(graph)
        mask = propagation.edge_mask(edge_set)
        if mask is None:
            return weights
        loops = tf.ones(tf.reshape(node_set.total_size, [1]), tf.float32)
        return weights * tf.cast(tf.concat([mask, loops], axis=0), weights.dtype)[:, None]

    def finish(self, outputs):
        """``[T, heads, units]`` -> concatenated or averaged heads, bias, activation."""
        if self.concat_heads:
            outputs = tf.reshape(outputs, (-1, self.num_heads * self.units))
        else:
            outputs = tf.reduce_mean(outputs, axis=1)
        if self.use_bias:
            outputs += self.bias
        return self.activation(outputs)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "concat_heads": self.concat_heads,
            "attention_dropout": self.attention_dropout,
            "negative_slope": self.negative_slope,
        }
