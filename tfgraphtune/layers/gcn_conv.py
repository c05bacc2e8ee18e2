"""The graph convolution of Kipf & Welling (2017) for GraphTensors."""

from __future__ import annotations

from typing import Any

import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.layers import propagation
from tfgraphtune.layers.conv_base import GraphConv, project


@tf.keras.utils.register_keras_serializable(package="tfgraphtune")
class GCNConv(GraphConv):
    """Graph convolution ``H' = act(D^-1/2 (A + I) D^-1/2 H W + b)``.

    Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional Networks"
    (ICLR 2017). ``A`` is the adjacency of one edge set whose endpoints are in the same node
    set, optionally weighted by an edge feature; the degree ``D`` counts incoming weight
    plus the self loop. The projection ``H W`` runs first, so aggregation moves `units`
    channels, and accepts a `tf.SparseTensor` ``H`` (sparse bag-of-words inputs).

    If the graph carries coefficients from `precompute_gcn_normalization`, they are used
    instead of being recomputed each call (a fixed graph pays for them once); a graph of
    one component also carries its normalized adjacency as a CSR matrix and its transpose,
    multiplied by directly (`propagation.csr_matmul`).

    Args:
      units: Output channels, a positive integer.
      edge_set_name: The edge set to convolve over; None for the graph's only edge set.
      add_self_loops: Whether ``I`` is added to ``A``.
      normalize: Whether to apply ``D^-1/2 . D^-1/2``; if False, plain weighted sums.
      edge_weight_feature: Optional edge feature holding non-negative edge weights.
      activation: Keras activation applied to the output.
      use_bias: Whether to add a bias.
      kernel_initializer, bias_initializer: Keras initializers.
      kernel_regularizer, bias_regularizer: Keras regularizers (e.g. L2 weight decay).

    Call args:
      node_states: ``[N, F]`` dense or sparse node states of the edge set's node set.
      graph: The `tfgnn.GraphTensor`.

    Returns:
      ``[N, units]`` new node states.

    Example:
      >>> conv = GCNConv(16, activation="relu")
      >>> states = conv(graph.node_sets["paper"]["feat"], graph=graph)
    """

    def __init__(
        self,
        units: int,
        *,
        edge_set_name: str | None = None,
        add_self_loops: bool = True,
        normalize: bool = True,
        edge_weight_feature: str | None = None,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        **kwargs,
    ):
        super().__init__(
            units,
            edge_set_name=edge_set_name,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            kernel_regularizer=kernel_regularizer,
            **kwargs,
        )
        if edge_weight_feature is not None and not isinstance(edge_weight_feature, str):
            raise ValueError(
                "Received an invalid value for edge_weight_feature, expected a feature name or "
                f"None. Received: edge_weight_feature={edge_weight_feature!r}"
            )
        self.add_self_loops = bool(add_self_loops)
        self.normalize = bool(normalize)
        self.edge_weight_feature = edge_weight_feature
        self.bias_initializer = tf.keras.initializers.get(bias_initializer)
        self.bias_regularizer = tf.keras.regularizers.get(bias_regularizer)

    def build(self, input_shape):
        # One kernel: the initializer instance itself (the initial weights do not change).
        self.kernel = self.add_kernel(
            "kernel", (self.input_width(input_shape), self.units), fresh=False
        )
        if self.use_bias:
            self.bias = self.add_bias(
                initializer=self.bias_initializer, regularizer=self.bias_regularizer
            )
        super().build(input_shape)

    def project(self, node_states: tf.Tensor | tf.SparseTensor) -> tf.Tensor:
        """``H W``; adapters such as LoRA extend this method."""
        return project(node_states, self.kernel)

    def call(self, node_states, *, graph: tfgnn.GraphTensor):
        edge_set_name, edge_set, node_set = self.edges(graph)
        adjacency = edge_set.adjacency
        projected = self.project(node_states)

        # The stored matrix holds the unmasked weights: an explanation's edge mask needs
        # the per-edge path.
        cached = (
            propagation.cached_gcn_adjacency(graph, edge_set_name)
            if self.normalize
            and propagation.GCN_EDGE_WEIGHT in edge_set.features
            and propagation.edge_mask(edge_set) is None
            else None
        )
        if cached is not None and projected.dtype == tf.float32:
            # The graph's stored CSR matrix (self loops included) and its transpose.
            outputs = propagation.csr_matmul(*cached, projected)
            return self.bias_and_activation(outputs)
        if not self.normalize:
            weights = edge_set[self.edge_weight_feature] if self.edge_weight_feature else None
            self_weights = 1.0 if self.add_self_loops else 0.0
        elif (
            propagation.GCN_EDGE_WEIGHT in edge_set.features
            and propagation.GCN_SELF_WEIGHT in node_set.features
        ):
            weights = edge_set[propagation.GCN_EDGE_WEIGHT]
            self_weights = node_set[propagation.GCN_SELF_WEIGHT][:, None]
        else:
            weights, self_weights = propagation.gcn_normalization(
                graph,
                edge_set_name,
                add_self_loops=self.add_self_loops,
                edge_weight_feature=self.edge_weight_feature,
            )
            self_weights = self_weights[:, None]
        weights = propagation.masked(weights, edge_set)
        outputs = propagation.aggregate(
            projected,
            source=adjacency.source,
            target=adjacency.target,
            weights=weights,
            num_targets=node_set.total_size,
            order=edge_set.features.get(propagation.CSR_ORDER),
        )
        outputs += tf.cast(self_weights, projected.dtype) * projected
        return self.bias_and_activation(outputs)

    def bias_and_activation(self, outputs: tf.Tensor) -> tf.Tensor:
        """Bias and activation of the aggregated states."""
        if self.use_bias:
            outputs = tf.nn.bias_add(outputs, self.bias)
        return self.activation(outputs)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "add_self_loops": self.add_self_loops,
            "normalize": self.normalize,
            "edge_weight_feature": self.edge_weight_feature,
            "bias_initializer": tf.keras.initializers.serialize(self.bias_initializer),
            "bias_regularizer": tf.keras.regularizers.serialize(self.bias_regularizer),
        }
