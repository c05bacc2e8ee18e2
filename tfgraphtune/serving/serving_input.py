"""`ServingInput`: what a request graph carries, stored in run folders and exports."""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf
import tensorflow_gnn as tfgnn


@dataclasses.dataclass(frozen=True)
class ServingInput:
    """What a request carries: one node set with one feature and one edge set within it.

    Attributes:
      node_set: The node set the model reads (and predicts for, in node tasks).
      feature: Its input feature, ``[num_features]`` per node.
      edge_set: The edge set between those nodes.
      num_features: Width of the feature.
      dtype: The feature's dtype in the examples (``"float32"`` or ``"int64"``).
    """

    node_set: str
    feature: str
    edge_set: str
    num_features: int
    dtype: str = "float32"

    def schema(self) -> tfgnn.GraphSchema:
        """The GraphSchema of a request graph (only what the model reads)."""
        schema = tfgnn.GraphSchema()
        feature = schema.node_sets[self.node_set].features[self.feature]
        feature.dtype = tf.as_dtype(self.dtype).as_datatype_enum
        feature.shape.dim.add().size = self.num_features
        schema.edge_sets[self.edge_set].source = self.node_set
        schema.edge_sets[self.edge_set].target = self.node_set
        return schema

    def graph_spec(self) -> tfgnn.GraphTensorSpec:
        return tfgnn.create_graph_spec_from_schema_pb(self.schema())

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    def example_graph(self, num_nodes: int = 2) -> tfgnn.GraphTensor:
        """A tiny graph of this input (zero features, a path of edges): builds a model's
        weights without any data."""
        features = np.zeros((num_nodes, self.num_features), np.float32)
        source = np.arange(num_nodes - 1, dtype=np.int64)
        return tfgnn.GraphTensor.from_pieces(
            node_sets={
                self.node_set: tfgnn.NodeSet.from_fields(
                    sizes=[num_nodes], features={self.feature: tf.constant(features)}
                )
            },
            edge_sets={
                self.edge_set: tfgnn.EdgeSet.from_fields(
                    sizes=[num_nodes - 1],
                    adjacency=tfgnn.Adjacency.from_indices(
                        (self.node_set, tf.constant(source)),
                        (self.node_set, tf.constant(source + 1)),
                    ),
                )
            },
        )

    @classmethod
    def from_json(cls, values: dict) -> ServingInput:
        return cls(**values)
