"""The CSR adjacency stored once per graph: same outputs and gradients as the dense formula."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import path_graph
from tfgraphtune.layers import GCNConv, precompute_gcn_normalization, propagation

X = [[1.0, -1.0], [2.0, 0.5], [3.0, 1.0], [4.0, -2.0]]
# Undirected path 0 - 1 - 2 and isolated node 3.
UNDIRECTED = ([0, 1, 1, 2], [1, 0, 2, 1])
# Directed: 0 -> 1, 1 -> 2, 2 -> 0, 3 -> 1 (M is not symmetric).
DIRECTED = ([0, 1, 2, 3], [1, 2, 0, 1])


def _dense_gcn_matrix(source, target, num_nodes, weights=None):
    """``D^-1/2 (A + I) D^-1/2`` with ``A[t, s] = w``, degree = incoming weight + 1."""
    a = np.zeros((num_nodes, num_nodes))
    for index, (s, t) in enumerate(zip(source, target)):
        a[t, s] += 1.0 if weights is None else weights[index]
    a += np.eye(num_nodes)
    inv_sqrt = 1.0 / np.sqrt(a.sum(axis=1))
    return inv_sqrt[:, None] * a * inv_sqrt[None, :]


def _conv():
    return GCNConv(3, kernel_initializer="glorot_uniform", bias_initializer="ones")


@pytest.mark.parametrize("edges", [UNDIRECTED, DIRECTED], ids=["undirected", "directed"])
def test_stored_matrix_and_transpose(edges):
    graph = precompute_gcn_normalization(path_graph(X, *edges))
    cached = propagation.cached_gcn_adjacency(graph, "e")
    assert cached is not None
    matrix, transpose = cached
    expected = _dense_gcn_matrix(*edges, 4)
    dense = _csr_to_dense(matrix)
    np.testing.assert_allclose(dense, expected, rtol=1e-6)
    np.testing.assert_allclose(_csr_to_dense(transpose), expected.T, rtol=1e-6)
    # An undirected graph's matrix is its own transpose: built once.
    source, target = (np.asarray(e, np.int64) for e in edges)
    weights, self_weights = (
        t.numpy() for t in propagation.gcn_normalization(path_graph(X, *edges), "e")
    )
    built = propagation.gcn_adjacency_matrices(source, target, weights, self_weights)
    assert (built[0] is built[1]) == (edges is UNDIRECTED)


def _csr_to_dense(matrix):
    from tensorflow.python.ops.linalg.sparse import sparse_csr_matrix_ops as csr_ops

    matrix = propagation._with_handle_data(matrix, tf.float32)
    return csr_ops.csr_sparse_matrix_to_dense(matrix, type=tf.float32).numpy()


@pytest.mark.parametrize("edges", [UNDIRECTED, DIRECTED], ids=["undirected", "directed"])
@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "tf.function"])
def test_gradient_matches_dense_reference(edges, compiled):
    # out = M (X W) + b; loss = sum(out * R) for a fixed random R: dL/dW = X^T M^T R,
    # dL/dX = M^T R W^T, dL/db = column sums of R.
    plain = path_graph(X, *edges)
    graph = precompute_gcn_normalization(plain)
    conv = _conv()
    x = tf.constant(X)
    conv(x, graph=plain)
    r = tf.constant(np.random.default_rng(0).standard_normal((4, 3)), tf.float32)

    def loss_and_grads(g, inputs):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            loss = tf.reduce_sum(conv(inputs, graph=g) * r)
        return (loss, *tape.gradient(loss, [conv.kernel, conv.bias, inputs]))

    run = tf.function(loss_and_grads) if compiled else loss_and_grads
    loss, d_kernel, d_bias, d_x = (t.numpy() for t in run(graph, x))

    m = _dense_gcn_matrix(*edges, 4)
    w, xr, rr = conv.kernel.numpy().astype(np.float64), np.asarray(X), r.numpy()
    out = m @ xr @ w + 1.0
    np.testing.assert_allclose(loss, np.sum(out * rr), rtol=1e-5)
    np.testing.assert_allclose(d_kernel, xr.T @ m.T @ rr, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(d_bias, rr.sum(axis=0), rtol=1e-5)
    np.testing.assert_allclose(d_x, m.T @ rr @ w.T, rtol=1e-5, atol=1e-6)
    # The per-call path (no stored matrix) gives the same loss and kernel gradient.
    plain_loss, plain_kernel, *_ = (t.numpy() for t in run(plain, x))
    np.testing.assert_allclose(plain_loss, loss, rtol=1e-6)
    np.testing.assert_allclose(plain_kernel, d_kernel, rtol=1e-5, atol=1e-6)


def test_edge_weights_and_duplicate_edges():
    # Edge 0 -> 1 listed twice and an explicit self loop 2 -> 2, weighted.
    source, target, weights = [0, 0, 1, 2, 2], [1, 1, 0, 1, 2], [1.0, 2.0, 0.5, 1.5, 3.0]
    plain = path_graph(X, source, target, edge_weights=weights)
    graph = precompute_gcn_normalization(plain, edge_weight_feature="w")
    conv = GCNConv(2, use_bias=False, kernel_initializer="identity", edge_weight_feature="w")
    expected = _dense_gcn_matrix(source, target, 4, weights) @ np.asarray(X)
    np.testing.assert_allclose(conv(tf.constant(X), graph=graph).numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(conv(tf.constant(X), graph=plain).numpy(), expected, rtol=1e-5)


def test_graph_of_several_components_has_no_stored_matrix():
    import tensorflow_gnn as tfgnn

    two = tfgnn.GraphTensor.from_pieces(
        node_sets={"n": tfgnn.NodeSet.from_fields(sizes=[2, 2], features={"x": X})},
        edge_sets={
            "e": tfgnn.EdgeSet.from_fields(
                sizes=[1, 1],
                adjacency=tfgnn.Adjacency.from_indices(
                    ("n", tf.constant([0, 2], tf.int64)), ("n", tf.constant([1, 3], tf.int64))
                ),
            )
        },
    )
    assert propagation.cached_gcn_adjacency(precompute_gcn_normalization(two), "e") is None


def test_drop_cached_adjacency():
    graph = precompute_gcn_normalization(path_graph(X, *UNDIRECTED))
    dropped = propagation.drop_cached_adjacency(graph)
    assert propagation.cached_gcn_adjacency(dropped, "e") is None
    assert propagation.GCN_EDGE_WEIGHT in dropped.edge_sets["e"].features
