"""SAGEConv, GINConv, GATConv and GATv2Conv on the 4-node path graph, values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import assert_config_round_trip, path_graph
from tfgraphtune.layers import GATConv, GATv2Conv, GINConv, SAGEConv, SparseInputDropout

SOURCE, TARGET = [0, 1, 1, 2], [1, 0, 2, 1]
X = [[1.0], [2.0], [3.0], [4.0]]


def _run(conv, graph):
    return conv(graph.node_sets["n"]["x"], graph=graph).numpy()


def test_sage_mean():
    # Kernels of ones: out_v = x_v + mean of in-neighbours (0 for isolated node 3).
    # out = [1 + 2, 2 + (1+3)/2, 3 + 2, 4 + 0] = [3, 4, 5, 4]
    graph = path_graph(X, SOURCE, TARGET)
    conv = SAGEConv(1, kernel_initializer="ones", use_bias=False)
    np.testing.assert_allclose(_run(conv, graph).ravel(), [3, 4, 5, 4])


def test_gin_sum():
    # W1 = W2 = 1, biases 0, eps 0: out = relu(x_v + sum of in-neighbours).
    # = [1+2, 2+1+3, 3+2, 4] = [3, 6, 5, 4]
    graph = path_graph(X, SOURCE, TARGET)
    conv = GINConv(1, kernel_initializer="ones")
    np.testing.assert_allclose(_run(conv, graph).ravel(), [3, 6, 5, 4])


def test_gatv2_uniform_attention_is_a_mean_over_neighbours_and_self():
    # With a zero attention vector every score is equal: the softmax averages the sources
    # of each target, itself included. Kernel ones: out = mean over {v} + in-neighbours.
    # out = [(1+2)/2, (2+1+3)/3, (3+2)/2, 4] = [1.5, 2, 2.5, 4]
    graph = path_graph(X, SOURCE, TARGET)
    conv = GATv2Conv(1, kernel_initializer="ones")
    conv(graph.node_sets["n"]["x"], graph=graph)
    conv.attention.assign(np.zeros((1, 1), np.float32))
    np.testing.assert_allclose(_run(conv, graph).ravel(), [1.5, 2.0, 2.5, 4.0], rtol=1e-6)


def test_gat_uniform_attention_is_a_mean_over_neighbours_and_self():
    graph = path_graph(X, SOURCE, TARGET)
    conv = GATConv(1, kernel_initializer="ones")
    conv(graph.node_sets["n"]["x"], graph=graph)
    conv.attention_source.assign(np.zeros((1, 1), np.float32))
    conv.attention_target.assign(np.zeros((1, 1), np.float32))
    np.testing.assert_allclose(_run(conv, graph).ravel(), [1.5, 2.0, 2.5, 4.0], rtol=1e-6)


def test_gat_attention_weights_sources_by_their_score():
    # W = 1, a_s = 1, a_t = 0: e_uv = LeakyReLU(x_u) = x_u (all positive), so target v
    # averages the x_u of its sources (itself included) with softmax weights exp(x_u).
    graph = path_graph(X, SOURCE, TARGET)
    conv = GATConv(1, kernel_initializer="ones", use_bias=False)
    conv(graph.node_sets["n"]["x"], graph=graph)
    conv.attention_target.assign(np.zeros((1, 1), np.float32))

    def softmax_mean(xs):
        weights = np.exp(xs)
        return float((weights * xs).sum() / weights.sum())

    expected = [
        softmax_mean([2.0, 1.0]),
        softmax_mean([1.0, 3.0, 2.0]),
        softmax_mean([2.0, 3.0]),
        4,
    ]
    np.testing.assert_allclose(_run(conv, graph).ravel(), expected, rtol=1e-6)


def test_gat_sparse_and_dense_inputs_agree_and_heads_concatenate():
    import tensorflow as tf

    graph = path_graph(X, SOURCE, TARGET)
    conv = GATConv(3, num_heads=2)
    dense = _run(conv, graph)
    sparse = conv(tf.sparse.from_dense(graph.node_sets["n"]["x"]), graph=graph).numpy()
    assert dense.shape == (4, 6)
    np.testing.assert_allclose(dense, sparse, rtol=1e-6)
    assert _run(GATConv(3, num_heads=2, concat_heads=False), graph).shape == (4, 3)


@pytest.mark.parametrize("heads", [1, 2])
def test_gat_outputs_for_targets_equal_the_full_layer(heads):
    graph = path_graph(np.random.default_rng(0).normal(size=(4, 3)), SOURCE, TARGET)
    conv = GATConv(5, num_heads=heads, activation="relu")
    _run(conv, graph)
    conv.bias.assign(np.linspace(-1, 1, conv.bias.shape[0]).astype(np.float32))
    full = _run(conv, graph)
    part = conv.outputs_for(graph.node_sets["n"]["x"], graph=graph, targets=[3, 1]).numpy()
    np.testing.assert_allclose(part, full[[3, 1]], rtol=1e-5, atol=1e-6)


def test_gatv2_heads_concatenate():
    graph = path_graph(X, SOURCE, TARGET)
    assert _run(GATv2Conv(3, num_heads=2), graph).shape == (4, 6)
    assert _run(GATv2Conv(3, num_heads=2, concat_heads=False), graph).shape == (4, 3)


@pytest.mark.parametrize(
    "layer",
    [
        SAGEConv(4, activation="relu", name="sage"),
        GINConv(4, learn_eps=True, name="gin"),
        GATConv(4, num_heads=2, attention_dropout=0.1, use_bias=False, name="gat"),
        GATv2Conv(4, num_heads=2, attention_dropout=0.1, name="gatv2"),
        SparseInputDropout(0.3, name="drop"),
    ],
    ids=["sage", "gin", "gat", "gatv2", "sparse_dropout"],
)
def test_config_round_trip(layer):
    assert_config_round_trip(layer)


@pytest.mark.parametrize(
    "factory, message",
    [
        (lambda: SAGEConv(-1), "Received: units=-1"),
        (lambda: GINConv(0), "Received: units=0"),
        (lambda: GATv2Conv(4, num_heads=0), "Received: num_heads=0"),
        (lambda: GATv2Conv(4, attention_dropout=1.0), "Received: attention_dropout=1.0"),
        (lambda: GATConv(4, num_heads=0), "Received: num_heads=0"),
        (lambda: GATConv(4, attention_dropout=-0.1), "Received: attention_dropout=-0.1"),
        (lambda: SparseInputDropout(1.5), "Received: rate=1.5"),
    ],
    ids=[
        "sage_units",
        "gin_units",
        "gatv2_heads",
        "gatv2_dropout",
        "gat_heads",
        "gat_dropout",
        "dropout_rate",
    ],
)
def test_bad_options_rejected(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


def test_sparse_input_dropout_keeps_zeros_and_scales_kept_values():
    x = np.array([[0.0, 2.0, 0.0], [4.0, 0.0, 0.0]], np.float32)
    out = SparseInputDropout(0.5)(x, training=True)
    import tensorflow as tf

    dense = tf.sparse.to_dense(out).numpy()
    # Zeros stay zero; kept non-zeros are scaled by 1 / (1 - 0.5) = 2.
    assert dense[0, 0] == dense[0, 2] == dense[1, 1] == dense[1, 2] == 0
    assert dense[0, 1] in (0.0, 4.0) and dense[1, 0] in (0.0, 8.0)
    # At inference the input passes through unchanged.
    np.testing.assert_array_equal(SparseInputDropout(0.5)(x, training=False), x)
