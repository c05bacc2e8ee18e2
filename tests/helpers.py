"""Test helpers: tiny hand-built graphs and the shared config round-trip check."""

from __future__ import annotations

import json
import socket

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


def _layer_types(layer) -> list[str]:
    return [type(sub).__name__ for sub in layer._flatten_layers(include_self=False)]


def assert_config_round_trip(layer, build=None):
    """``from_config(get_config())`` gives a JSON-equal config, the same type and sublayers.

    Args:
      layer: A Keras layer or model.
      build: Optional callable running a layer once (e.g. ``lambda m: m(graph)``), so both
        the original and the restored one have created sublayers and weights before their
        types and weight shapes are compared.

    Returns:
      The restored layer.
    """
    if build is not None:
        build(layer)
    config = layer.get_config()
    restored = type(layer).from_config(json.loads(json.dumps(config)))
    assert type(restored) is type(layer)
    if build is not None:
        build(restored)
        assert _layer_types(restored) == _layer_types(layer)
        assert [w.shape for w in restored.weights] == [w.shape for w in layer.weights]
    assert json.dumps(restored.get_config(), sort_keys=True) == json.dumps(config, sort_keys=True)
    return restored


def local_worker_tf_configs(count: int) -> list[str]:
    """``TF_CONFIG`` values (JSON) of a `count`-worker cluster on free 127.0.0.1 ports,
    one per worker index."""
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    workers = [f"127.0.0.1:{s.getsockname()[1]}" for s in sockets]
    for s in sockets:
        s.close()
    return [
        json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}})
        for i in range(count)
    ]
