"""Test helpers: tiny hand-built graphs and the shared config round-trip check."""

from __future__ import annotations

import json

import numpy as np
import tensorflow as tf
import tensorflow_gnn as tfgnn


def path_graph(features, source, target, *, edge_weights=None) -> tfgnn.GraphTensor:
    """A one-node-set, one-edge-set graph ``n``/``e`` with node feature ``x``."""
    features = np.asarray(features, dtype=np.float32)
    edge_features = {}
    if edge_weights is not None:
        edge_features["w"] = tf.constant(edge_weights, tf.float32)
    return tfgnn.GraphTensor.from_pieces(
        node_sets={"n": tfgnn.NodeSet.from_fields(sizes=[len(features)], features={"x": features})},
        edge_sets={
            "e": tfgnn.EdgeSet.from_fields(
                sizes=[len(source)],
                features=edge_features,
                adjacency=tfgnn.Adjacency.from_indices(
                    ("n", tf.constant(source, tf.int64)), ("n", tf.constant(target, tf.int64))
                ),
            )
        },
    )


def assert_config_round_trip(layer) -> None:
    """``from_config(get_config())`` gives an equal, JSON-serializable config and type."""
    config = layer.get_config()
    json.dumps(config)  # Must serialize.
    clone = type(layer).from_config(config)
    assert type(clone) is type(layer)
    assert json.dumps(clone.get_config(), sort_keys=True) == json.dumps(config, sort_keys=True)
