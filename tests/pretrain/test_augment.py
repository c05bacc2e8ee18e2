"""Augmentations keep graphs valid: counts per component, indices inside components."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tests.helpers import path_graph
from tfgraphtune.pretrain.augment import drop_nodes, mask_features, perturb_edges

# Two components after merging: each a path 0-1-2 with edges in both directions.
ONE = path_graph([[1.0], [2.0], [3.0]], [0, 1, 1, 2], [1, 0, 2, 1])
TWO = (
    tf.data.Dataset.from_tensors(ONE)
    .repeat(2)
    .batch(2)
    .map(lambda g: g.merge_batch_to_components())
)
GRAPH = next(iter(TWO))


def components_of(graph, node_set="n"):
    sizes = graph.node_sets[node_set].sizes.numpy()
    return np.repeat(np.arange(len(sizes)), sizes)


def test_drop_nodes_rate_zero_is_identity():
    out = drop_nodes(GRAPH, "n", "e", 0.0)
    np.testing.assert_array_equal(out.node_sets["n"]["x"], GRAPH.node_sets["n"]["x"])
    np.testing.assert_array_equal(
        out.edge_sets["e"].adjacency.source, GRAPH.edge_sets["e"].adjacency.source
    )


def test_drop_nodes_keeps_sizes_and_edges_consistent():
    tf.random.set_seed(3)
    out = drop_nodes(GRAPH, "n", "e", 0.5)
    nodes = int(out.node_sets["n"].total_size)
    assert int(out.node_sets["n"].sizes.numpy().sum()) == nodes == len(out.node_sets["n"]["x"])
    adjacency = out.edge_sets["e"].adjacency
    assert (adjacency.source.numpy() < nodes).all() and (adjacency.target.numpy() < nodes).all()
    # A kept edge joins two kept nodes: its features' values are 1 apart as in the input.
    x = out.node_sets["n"]["x"].numpy()[:, 0]
    np.testing.assert_array_equal(
        np.abs(x[adjacency.source.numpy()] - x[adjacency.target.numpy()]), 1.0
    )


def test_perturb_edges_keeps_count_and_components():
    tf.random.set_seed(1)
    out = perturb_edges(GRAPH, "n", "e", 0.5)
    adjacency = out.edge_sets["e"].adjacency
    assert int(out.edge_sets["e"].total_size) == 8
    components = components_of(out)
    np.testing.assert_array_equal(
        components[adjacency.source.numpy()], components[adjacency.target.numpy()]
    )
    # Edges are ordered by component and the sizes count them.
    np.testing.assert_array_equal(
        out.edge_sets["e"].sizes, np.bincount(components[adjacency.source.numpy()], minlength=2)
    )


def test_mask_features_zeroes_whole_rows():
    tf.random.set_seed(0)
    out = mask_features(GRAPH, "n", "x", 0.5).node_sets["n"]["x"].numpy()[:, 0]
    original = GRAPH.node_sets["n"]["x"].numpy()[:, 0]
    assert ((out == 0) | (out == original)).all()
