"""Tiny hand-built graphs for the model tests."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_gnn as tfgnn


def make_graph(
    features: list[list[float]],
    edges: list[tuple[int, int]],
    *,
    node_sizes: list[int] | None = None,
    edge_sizes: list[int] | None = None,
    labels: list[int] | None = None,
) -> tfgnn.GraphTensor:
    """A graph with node set ``n`` (feature ``x``) and edge set ``e`` from literal lists."""
    features = np.asarray(features, np.float32)
    edges = np.asarray(edges, np.int64).reshape(-1, 2)
    node_sizes = node_sizes or [len(features)]
    edge_sizes = edge_sizes or [len(edges)]
    context = {} if labels is None else {"label": tf.constant(labels, tf.int64)}
    return tfgnn.GraphTensor.from_pieces(
        context=tfgnn.Context.from_fields(
            features=context, sizes=tf.constant([1] * len(node_sizes))
        ),
        node_sets={
            "n": tfgnn.NodeSet.from_fields(
                sizes=tf.constant(node_sizes), features={"x": tf.constant(features)}
            )
        },
        edge_sets={
            "e": tfgnn.EdgeSet.from_fields(
                sizes=tf.constant(edge_sizes),
                adjacency=tfgnn.Adjacency.from_indices(
                    source=("n", tf.constant(edges[:, 0])), target=("n", tf.constant(edges[:, 1]))
                ),
            )
        },
    )
