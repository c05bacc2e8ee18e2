"""The per-edge message weight every convolution honours (`propagation.EDGE_MASK`)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import path_graph
from tfgraphtune.layers import GATConv, GATv2Conv, GCNConv, GINConv, SAGEConv
from tfgraphtune.layers.propagation import EDGE_MASK

SOURCE, TARGET = [0, 1, 1, 2], [1, 0, 2, 1]
X = [[1.0], [2.0], [3.0], [4.0]]


def _with_mask(graph, mask):
    edges = dict(graph.edge_sets["e"].features)
    edges[EDGE_MASK] = tf.constant(mask, tf.float32)
    return graph.replace_features(edge_sets={"e": edges})


def _run(conv, graph):
    return conv(graph.node_sets["n"]["x"], graph=graph).numpy().ravel()


@pytest.mark.parametrize("conv", [GCNConv, SAGEConv, GINConv, GATConv, GATv2Conv])
def test_mask_of_ones_changes_nothing_and_zeros_silence_edges(conv):
    layer = conv(1, kernel_initializer="ones")
    graph = path_graph(X, SOURCE, TARGET)
    plain = _run(layer, graph)
    np.testing.assert_allclose(_run(layer, _with_mask(graph, [1, 1, 1, 1])), plain, rtol=1e-6)
    # Silencing the edge 2 -> 1 changes node 1 only.
    silenced = _run(layer, _with_mask(graph, [1, 1, 1, 0]))
    assert silenced[1] != pytest.approx(plain[1])
    np.testing.assert_allclose(silenced[[0, 2, 3]], plain[[0, 2, 3]], rtol=1e-6)


def test_gcn_mask_scales_the_normalized_message():
    # Edge 0 -> 1 only. Degrees with self loops: d0 = 1, d1 = 2. Kernel 1, no bias:
    # out_1 = x_1 / d1 + m * x_0 / sqrt(d0 d1) = 2/2 + 0.3 * 1/sqrt(2).
    graph = _with_mask(path_graph([[1.0], [2.0]], [0], [1]), [0.3])
    out = _run(GCNConv(1, kernel_initializer="ones", use_bias=False), graph)
    np.testing.assert_allclose(out, [1.0, 1.0 + 0.3 / np.sqrt(2.0)], rtol=1e-6)


def test_gin_and_sage_mask_weights_each_message():
    # GIN (ones): out_1 = x_1 + 0.5 x_0 + 0.25 x_2 = 2 + 0.5 + 0.75.
    # SAGE (ones): out_1 = x_1 + (0.5 x_0 + 0.25 x_2) / 2 = 2 + 0.625.
    graph = _with_mask(path_graph(X, SOURCE, TARGET), [0.5, 1.0, 1.0, 0.25])
    assert _run(GINConv(1, kernel_initializer="ones"), graph)[1] == pytest.approx(3.25)
    assert _run(SAGEConv(1, kernel_initializer="ones"), graph)[1] == pytest.approx(2.625)
