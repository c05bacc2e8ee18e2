"""GCNConv against values worked out by hand on a 4-node graph."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import assert_config_round_trip, path_graph
from tfgraphtune.layers import GCNConv, precompute_gcn_normalization

# Path 0 - 1 - 2 (both directions) and isolated node 3; features x = [1, 2, 3, 4].
SOURCE, TARGET = [0, 1, 1, 2], [1, 0, 2, 1]
X = [[1.0], [2.0], [3.0], [4.0]]


def _conv(**kwargs) -> GCNConv:
    # Kernel of ones and no bias: the output is the propagated feature itself.
    return GCNConv(1, use_bias=False, kernel_initializer="ones", **kwargs)


def _run(conv, graph):
    return conv(graph.node_sets["n"]["x"], graph=graph).numpy().ravel()


def test_symmetric_normalization_with_self_loops():
    # Degrees with self loop: d = [2, 3, 2, 1].
    # out0 = x0/2 + x1/sqrt(2*3)          = 0.5 + 2/sqrt(6)
    # out1 = x1/3 + x0/sqrt(6) + x2/sqrt(6) = 2/3 + 4/sqrt(6)
    # out2 = x2/2 + x1/sqrt(6)            = 1.5 + 2/sqrt(6)
    # out3 = x3/1                          = 4
    s6 = np.sqrt(6.0)
    expected = [0.5 + 2 / s6, 2 / 3 + 4 / s6, 1.5 + 2 / s6, 4.0]
    graph = path_graph(X, SOURCE, TARGET)
    np.testing.assert_allclose(_run(_conv(), graph), expected, rtol=1e-6)
    # Precomputed coefficients give the same numbers.
    np.testing.assert_allclose(
        _run(_conv(), precompute_gcn_normalization(graph)), expected, rtol=1e-6
    )


def test_without_self_loops():
    # Degrees d = [1, 2, 1, 0]; isolated node 3 gets 0.
    # out0 = x1/sqrt(2) ; out1 = x0/sqrt(2) + x2/sqrt(2) ; out2 = x1/sqrt(2)
    s2 = np.sqrt(2.0)
    expected = [2 / s2, 4 / s2, 2 / s2, 0.0]
    graph = path_graph(X, SOURCE, TARGET)
    np.testing.assert_allclose(_run(_conv(add_self_loops=False), graph), expected, rtol=1e-6)


def test_edge_weights():
    # Weights: 0->1 : 2, 1->0 : 2, 1->2 : 1, 2->1 : 1 ; degree at target plus self loop:
    # d0 = 2 + 1 = 3, d1 = 2 + 1 + 1 = 4, d2 = 1 + 1 = 2, d3 = 1.
    # out0 = x0/3 + 2*x1/sqrt(3*4)        = 1/3 + 4/sqrt(12)
    # out1 = x1/4 + 2*x0/sqrt(12) + 1*x2/sqrt(8) = 0.5 + 2/sqrt(12) + 3/sqrt(8)
    # out2 = x2/2 + x1/sqrt(8)            = 1.5 + 2/sqrt(8)
    expected = [
        1 / 3 + 4 / np.sqrt(12),
        0.5 + 2 / np.sqrt(12) + 3 / np.sqrt(8),
        1.5 + 2 / np.sqrt(8),
        4.0,
    ]
    graph = path_graph(X, SOURCE, TARGET, edge_weights=[2.0, 2.0, 1.0, 1.0])
    np.testing.assert_allclose(_run(_conv(edge_weight_feature="w"), graph), expected, rtol=1e-6)


def test_unnormalized_sum_with_self_loops():
    # out_v = x_v + sum of neighbours: [1+2, 2+1+3, 3+2, 4].
    graph = path_graph(X, SOURCE, TARGET)
    np.testing.assert_allclose(_run(_conv(normalize=False), graph), [3, 6, 5, 4])


def test_sparse_input_equals_dense():
    graph = path_graph([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0], [3.0, 0.0]], SOURCE, TARGET)
    conv = GCNConv(3, kernel_initializer="glorot_uniform", bias_initializer="ones")
    dense = conv(graph.node_sets["n"]["x"], graph=graph)
    sparse = conv(tf.sparse.from_dense(graph.node_sets["n"]["x"]), graph=graph)
    np.testing.assert_allclose(dense.numpy(), sparse.numpy(), rtol=1e-6)


def test_gradient_reaches_kernel():
    graph = path_graph(X, SOURCE, TARGET)
    conv = _conv()
    with tf.GradientTape() as tape:
        out = conv(graph.node_sets["n"]["x"], graph=graph)
        loss = tf.reduce_sum(out)
    (grad,) = tape.gradient(loss, [conv.kernel])
    # d loss / d w = sum of the propagated features (the kernel is 1x1).
    np.testing.assert_allclose(grad.numpy().ravel(), [_run(_conv(), graph).sum()], rtol=1e-5)


def test_config_round_trip():
    assert_config_round_trip(
        GCNConv(
            8,
            add_self_loops=False,
            edge_weight_feature="w",
            activation="relu",
            kernel_regularizer=tf.keras.regularizers.L2(1e-3),
            name="conv",
        )
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"units": 0}, "units, expected a positive integer. Received: units=0"),
        ({"units": 2.5}, "Received: units=2.5"),
        ({"units": 4, "edge_weight_feature": 3}, "edge_weight_feature"),
    ],
    ids=["zero_units", "float_units", "bad_weight_feature"],
)
def test_bad_options_rejected_in_init(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GCNConv(**kwargs)


def test_edge_set_between_two_node_sets_is_refused():
    import tensorflow_gnn as tfgnn

    graph = tfgnn.GraphTensor.from_pieces(
        node_sets={
            "user": tfgnn.NodeSet.from_fields(sizes=[1], features={"x": [[1.0]]}),
            "item": tfgnn.NodeSet.from_fields(sizes=[1], features={"x": [[1.0]]}),
        },
        edge_sets={
            "rated": tfgnn.EdgeSet.from_fields(
                sizes=[1],
                adjacency=tfgnn.Adjacency.from_indices(("user", [0]), ("item", [0])),
            )
        },
    )
    with pytest.raises(ValueError, match="within one node set; 'rated' goes from 'user'"):
        GCNConv(1)(graph.node_sets["user"]["x"], graph=graph)
