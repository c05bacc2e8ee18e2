"""The explained quantity as a function of the node features and the edge weights."""

from __future__ import annotations

import dataclasses

import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.layers.propagation import EDGE_MASK


@dataclasses.dataclass
class Scorer:
    """``score(features, edge_weights)``: one output of a model on one graph.

    The graph's node feature is replaced by `features` and its edge set gets the feature
    `EDGE_MASK` = `edge_weights`, which every convolution multiplies its messages by
    (all ones reproduces the model's prediction; 0 removes an edge's message).

    Attributes:
      model: A task model called on a GraphTensor (``[rows, outputs]``).
      graph: The preprocessed graph.
      node_set, feature, edge_set: What the backbone reads.
      row: The output row explained (a node, or a graph component).
      output: The output column explained (the class id; 0 for regression).
    """

    model: tf.keras.Model
    graph: tfgnn.GraphTensor
    node_set: str
    feature: str
    edge_set: str
    row: int
    output: int

    @property
    def features(self) -> tf.Tensor:
        """The graph's ``[N, F]`` input features as float32."""
        value = self.graph.node_sets[self.node_set][self.feature]
        if isinstance(value, tf.SparseTensor):
            value = tf.sparse.to_dense(value)
        return tf.cast(value, tf.float32)

    @property
    def num_edges(self) -> int:
        return int(self.graph.edge_sets[self.edge_set].total_size)

    def with_inputs(self, features: tf.Tensor, edge_weights: tf.Tensor) -> tfgnn.GraphTensor:
        """The graph with `features` and edge weights `edge_weights` ``[E]``."""
        nodes = dict(self.graph.node_sets[self.node_set].features)
        nodes[self.feature] = features
        edges = dict(self.graph.edge_sets[self.edge_set].features)
        edges[EDGE_MASK] = edge_weights
        return self.graph.replace_features(
            node_sets={self.node_set: nodes}, edge_sets={self.edge_set: edges}
        )

    def outputs(self, features: tf.Tensor, edge_weights: tf.Tensor) -> tf.Tensor:
        """The explained row's outputs ``[outputs]`` (logits for classification)."""
        return self.model(self.with_inputs(features, edge_weights), training=False)[self.row]

    def __call__(self, features: tf.Tensor, edge_weights: tf.Tensor) -> tf.Tensor:
        """The explained scalar: the row's output `output`."""
        return self.outputs(features, edge_weights)[self.output]
