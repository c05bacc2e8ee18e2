"""Sparse neighbourhood aggregation shared by the convolutions, and GCN normalization.

Aggregation ``out[t] = sum_{edges (s, t)} w_st * h[s]`` runs as a CSR sparse-dense matrix
product (TensorFlow's ``SparseMatrixMatMul``), which neither materialises an E x H message
tensor nor re-sorts per step beyond one ordering pass; on this project's 2-core machine it
measured 2x faster than sorted ``segment_sum`` and 9x faster than
``tf.sparse.sparse_dense_matmul`` at 100k nodes / 1.6M edges / 128 channels (forward and
backward together). Graphs whose sizes are only known at run time (batches of small graphs
traced with a relaxed spec, served requests) fall back to gather + ``unsorted_segment_sum``,
because TensorFlow's gradient of the CSR product needs static sizes.
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_gnn as tfgnn
from tensorflow.python.ops.linalg.sparse import sparse_csr_matrix_ops as _csr_ops

# Feature names under which `precompute_gcn_normalization` stores the coefficients.
GCN_EDGE_WEIGHT = "_gcn_edge_norm"
GCN_SELF_WEIGHT = "_gcn_self_norm"
# Permutation of the edges into (target, source) order, so aggregation skips its sort.
CSR_ORDER = "_csr_order"
# Optional ``[E]`` edge feature scaling every message along its edge (default: absent, i.e.
# all ones). Explanations (integrated gradients over edges, GNNExplainer's soft mask) set
# it; every convolution applies it after its own normalization or attention, as PyG's
# explain mode does, so a mask of 0 removes the edge's message and 1 leaves the model as is.
EDGE_MASK = "_edge_mask"


def edge_mask(edge_set) -> tf.Tensor | None:
    """The edge set's `EDGE_MASK` feature as float32, or None when it has none."""
    if EDGE_MASK not in edge_set.features:
        return None
    return tf.cast(edge_set[EDGE_MASK], tf.float32)


def masked(weights: tf.Tensor | None, edge_set) -> tf.Tensor | None:
    """``[E]`` message weights times the edge set's `EDGE_MASK` (unchanged without one)."""
    mask = edge_mask(edge_set)
    if mask is None:
        return weights
    if weights is None:
        return mask
    return tf.cast(weights, tf.float32) * mask


def single_edge_set(graph: tfgnn.GraphTensor, edge_set_name: str | None) -> str:
    """Returns `edge_set_name`, or the graph's only edge set when it is None.

    Raises:
      ValueError: The name is unknown, or None with several edge sets.
    """
    names = sorted(graph.edge_sets)
    if edge_set_name is None:
        if len(names) != 1:
            raise ValueError(f"the graph has edge sets {names}; pass edge_set_name= to choose one.")
        return names[0]
    if edge_set_name not in graph.edge_sets:
        raise ValueError(f"edge set {edge_set_name!r} is not in the graph; it has {names}.")
    return edge_set_name


def aggregate(
    values: tf.Tensor,
    *,
    source: tf.Tensor,
    target: tf.Tensor,
    weights: tf.Tensor | None,
    num_targets: tf.Tensor,
    order: tf.Tensor | None = None,
) -> tf.Tensor:
    """Sums weighted source rows into target rows: ``out[t] = sum_e w_e * values[source_e]``.

    Args:
      values: ``[num_sources, channels]`` float tensor.
      source: ``[E]`` source row of each edge.
      target: ``[E]`` target row of each edge.
      weights: ``[E]`` edge weights, or None for all ones.
      num_targets: Number of output rows.
      order: Optional permutation that sorts the edges by (target, source), as stored by
        `precompute_gcn_normalization`; without it the edges are sorted here.

    Returns:
      ``[num_targets, channels]``.
    """
    source = tf.cast(source, tf.int64)
    target = tf.cast(target, tf.int64)
    if weights is None:
        weights = tf.ones_like(source, dtype=values.dtype)
    weights = tf.cast(weights, values.dtype)
    num_sources = tf.shape(values, out_type=tf.int64)[0]
    dense_shape = tf.stack([tf.cast(num_targets, tf.int64), num_sources])
    static_sizes = values.shape[0] is not None and tf.get_static_value(num_targets) is not None
    if values.dtype not in (tf.float32, tf.float64) or not static_sizes:
        # The CSR kernels exist for float32/float64 (and complex) only, and TensorFlow's
        # gradient of SparseMatrixMatMul needs static matrix sizes (graph batches traced
        # with a relaxed spec have none).
        return tf.math.unsorted_segment_sum(
            tf.gather(values, source) * weights[:, None], target, num_targets
        )
    if order is not None:
        target, source, weights = (tf.gather(t, order) for t in (target, source, weights))
        matrix = tf.SparseTensor(tf.stack([target, source], axis=1), weights, dense_shape)
    else:
        matrix = tf.sparse.reorder(
            tf.SparseTensor(tf.stack([target, source], axis=1), weights, dense_shape)
        )
    csr = _csr_ops.CSRSparseMatrix(matrix)
    return _csr_ops.matmul(csr, values)


def gcn_normalization(
    graph: tfgnn.GraphTensor,
    edge_set_name: str,
    *,
    add_self_loops: bool = True,
    edge_weight_feature: str | None = None,
) -> tuple[tf.Tensor, tf.Tensor]:
    """Coefficients of ``D^-1/2 (A + I) D^-1/2`` for one edge set.

    The degree counts incoming edge weight at the target (plus 1 for the self loop), as in
    Kipf & Welling (2017) and PyG's ``gcn_norm``. Nodes of degree 0 get coefficient 0.

    Args:
      graph: The graph; the edge set's source and target node set must be the same.
      edge_set_name: The edge set.
      add_self_loops: Whether ``I`` is added to ``A``.
      edge_weight_feature: Optional edge feature with non-negative weights (``A``'s entries).

    Returns:
      ``(edge_weights [E], self_weights [N])``; `self_weights` is all zeros without self loops.
    """
    edge_set = graph.edge_sets[edge_set_name]
    source = edge_set.adjacency.source
    target = edge_set.adjacency.target
    node_set_name = edge_set.adjacency.target_name
    num_nodes = graph.node_sets[node_set_name].total_size
    if edge_weight_feature is not None:
        weights = tf.cast(edge_set[edge_weight_feature], tf.float32)
    else:
        weights = tf.ones(tf.shape(source), tf.float32)
    loop = 1.0 if add_self_loops else 0.0
    degree = tf.math.unsorted_segment_sum(weights, target, num_nodes) + loop
    inv_sqrt = tf.where(degree > 0, tf.math.rsqrt(tf.maximum(degree, 1e-12)), 0.0)
    edge_weights = tf.gather(inv_sqrt, source) * weights * tf.gather(inv_sqrt, target)
    self_weights = inv_sqrt * inv_sqrt * loop
    return edge_weights, self_weights


def precompute_gcn_normalization(
    graph: tfgnn.GraphTensor,
    edge_set_name: str | None = None,
    *,
    add_self_loops: bool = True,
    edge_weight_feature: str | None = None,
) -> tfgnn.GraphTensor:
    """Stores the GCN coefficients on the graph so a fixed graph computes them once.

    `GCNConv` uses the stored coefficients when present (and built with the same
    `add_self_loops` / `edge_weight_feature`, which the caller keeps consistent) instead of
    recomputing them every step.

    Returns:
      A new GraphTensor with edge features ``_gcn_edge_norm`` and ``_csr_order`` (the edge
      permutation into (target, source) order, which lets aggregation skip sorting every
      step) and node feature ``_gcn_self_norm``.
    """
    edge_set_name = single_edge_set(graph, edge_set_name)
    edge_weights, self_weights = gcn_normalization(
        graph,
        edge_set_name,
        add_self_loops=add_self_loops,
        edge_weight_feature=edge_weight_feature,
    )
    adjacency = graph.edge_sets[edge_set_name].adjacency
    node_set_name = adjacency.target_name
    order = tf.argsort(
        tf.cast(adjacency.target, tf.int64)
        * tf.cast(graph.node_sets[node_set_name].total_size, tf.int64)
        + tf.cast(adjacency.source, tf.int64),
        stable=True,
    )
    node_features = dict(graph.node_sets[node_set_name].features)
    node_features[GCN_SELF_WEIGHT] = self_weights
    edge_features = dict(graph.edge_sets[edge_set_name].features)
    edge_features[GCN_EDGE_WEIGHT] = edge_weights
    edge_features[CSR_ORDER] = tf.cast(order, tf.int64)
    return graph.replace_features(
        node_sets={node_set_name: node_features}, edge_sets={edge_set_name: edge_features}
    )
