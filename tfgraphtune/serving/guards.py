"""In-graph request checks of the exported model: size limits, edge indices, finite features.

Each check is a ``tf.debugging.assert_*`` op, so a bad request ends in an
``INVALID_ARGUMENT`` error whose message names the problem (TF Serving returns it to the
client as is), and the model's ops run only after every check passed: a CSR product over an
out-of-range index must never run. The ops are core TensorFlow ops, so the SavedModel
needs neither tfgraphtune nor tensorflow_gnn to load.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from tfgraphtune.checks import positive_int


@dataclasses.dataclass(frozen=True)
class ServingLimits:
    """The largest graph one request may hold (per graph, i.e. per tf.Example / batch row).

    Attributes:
      max_nodes: Most nodes in one graph.
      max_edges: Most edges in one graph.
    """

    max_nodes: int = 100_000
    max_edges: int = 1_000_000

    def __post_init__(self):
        for name in ("max_nodes", "max_edges"):
            positive_int(name, getattr(self, name))


def check_sizes(
    node_sizes: tf.Tensor,
    edge_sizes: tf.Tensor,
    limits: ServingLimits,
    *,
    node_set: str,
    edge_set: str,
) -> list[tf.Operation]:
    """Asserts that every graph has at most `limits` nodes and edges (and no negative count)."""
    node_sizes = tf.cast(node_sizes, tf.int64)
    edge_sizes = tf.cast(edge_sizes, tf.int64)
    return [
        tf.debugging.assert_less_equal(
            node_sizes,
            tf.constant(limits.max_nodes, tf.int64),
            message=f"graph too large: node set '{node_set}' has more nodes than the "
            f"exported maximum of {limits.max_nodes} per graph; split the request",
        ),
        tf.debugging.assert_less_equal(
            edge_sizes,
            tf.constant(limits.max_edges, tf.int64),
            message=f"graph too large: edge set '{edge_set}' has more edges than the "
            f"exported maximum of {limits.max_edges} per graph; split the request",
        ),
        tf.debugging.assert_non_negative(
            node_sizes, message=f"node set '{node_set}': a graph has a negative node count"
        ),
        tf.debugging.assert_non_negative(
            edge_sizes, message=f"edge set '{edge_set}': a graph has a negative edge count"
        ),
    ]


def check_edge_indices(
    indices: tf.Tensor,
    edge_graph: tf.Tensor,
    node_offsets: tf.Tensor,
    node_sizes: tf.Tensor,
    *,
    edge_set: str,
    endpoint: str,
) -> list[tf.Operation]:
    """Asserts ``0 <= index - offset < size`` of the graph each edge belongs to.

    Args:
      indices: ``[E]`` node indices in the merged graph (each graph's local index plus the
        number of nodes of the graphs before it).
      edge_graph: ``[E]`` the graph (component) of each edge.
      node_offsets: ``[G]`` first merged node index of each graph.
      node_sizes: ``[G]`` node count of each graph.
      edge_set: Edge set name, for the message.
      endpoint: ``"source"`` or ``"target"``, for the message.
    """
    local = tf.cast(indices, tf.int64) - tf.gather(tf.cast(node_offsets, tf.int64), edge_graph)
    sizes = tf.gather(tf.cast(node_sizes, tf.int64), edge_graph)
    return [
        tf.debugging.assert_non_negative(
            local,
            message=f"edge index out of range: edge set '{edge_set}' has a negative {endpoint} "
            "index",
        ),
        tf.debugging.assert_less(
            local,
            sizes,
            message=f"edge index out of range: edge set '{edge_set}' has a {endpoint} index "
            "not below the number of nodes of its graph",
        ),
    ]


def check_finite(values: tf.Tensor, *, node_set: str, feature: str) -> tf.Tensor:
    """Returns `values`, failing at run time if any entry is NaN or infinite."""
    if not values.dtype.is_floating:
        return values
    return tf.debugging.assert_all_finite(
        values,
        message=f"non-finite feature: node set '{node_set}' feature '{feature}' holds NaN or Inf",
    )


def check_feature_width(
    value_counts: tf.Tensor,
    node_sizes: tf.Tensor,
    num_features: int,
    *,
    node_set: str,
    feature: str,
) -> list[tf.Operation]:
    """Asserts that each graph's feature holds ``num_nodes x num_features`` values.

    Args:
      value_counts: ``[G]`` number of feature values each graph holds (flat).
      node_sizes: ``[G]`` node count of each graph.
      num_features: The exported feature width.
      node_set: Node set name, for the message.
      feature: Feature name, for the message.

    Returns:
      The assert ops.
    """
    return [
        tf.debugging.assert_equal(
            tf.cast(value_counts, tf.int64),
            tf.cast(node_sizes, tf.int64) * num_features,
            message=f"wrong feature width: node set '{node_set}' feature '{feature}' must hold "
            f"{num_features} values per node (num_nodes x {num_features} per graph)",
        )
    ]


def check_dense_width(node_features: tf.Tensor, num_features: int) -> list[tf.Operation]:
    """Asserts that ``node_features`` is ``[batch, nodes, num_features]``.

    Compares element counts rather than the last dimension, which graph optimizations
    could replace by the signature's static width.

    Args:
      node_features: The ``predict_dense`` input.
      num_features: The exported feature width.

    Returns:
      The assert ops.
    """
    shape = tf.shape(node_features, out_type=tf.int64)
    return [
        tf.debugging.assert_equal(
            tf.size(node_features, out_type=tf.int64),
            shape[0] * shape[1] * num_features,
            message=f"wrong feature width: node_features must have shape [batch, nodes, "
            f"{num_features}]",
        )
    ]


def check_edge_counts(
    source_counts: tf.Tensor, target_counts: tf.Tensor, edge_sizes: tf.Tensor, *, edge_set: str
) -> list[tf.Operation]:
    """Asserts that each graph has as many source and target indices as edges.

    Args:
      source_counts: ``[G]`` number of source indices of each graph.
      target_counts: ``[G]`` number of target indices of each graph.
      edge_sizes: ``[G]`` edge count of each graph.
      edge_set: Edge set name, for the message.

    Returns:
      The assert ops.
    """
    edge_sizes = tf.cast(edge_sizes, tf.int64)
    return [
        tf.debugging.assert_equal(
            tf.cast(counts, tf.int64),
            edge_sizes,
            message=f"edge set '{edge_set}': a graph's number of {endpoint} indices differs "
            "from its number of edges (#size)",
        )
        for endpoint, counts in (("source", source_counts), ("target", target_counts))
    ]


def check_padded_counts(
    counts: tf.Tensor, padded: tf.Tensor, *, what: str, input_name: str
) -> list[tf.Operation]:
    """Asserts ``0 <= counts <= padded`` for the dense signature's per-row counts."""
    counts = tf.cast(counts, tf.int64)
    return [
        tf.debugging.assert_non_negative(counts, message=f"{input_name} must not be negative"),
        tf.debugging.assert_less_equal(
            counts,
            tf.cast(padded, tf.int64),
            message=f"{input_name} exceeds the padded number of {what} in the request",
        ),
    ]


def check_same_rows(tensors: dict[str, tf.Tensor]) -> list[tf.Operation]:
    """Asserts that the named tensors share their first dimension (the batch)."""
    names = list(tensors)
    first = tf.shape(tensors[names[0]], out_type=tf.int64)[0]
    return [
        tf.debugging.assert_equal(
            tf.shape(tensors[name], out_type=tf.int64)[0],
            first,
            message=f"inputs {names} must have the same batch size (first dimension); "
            f"{name!r} differs from {names[0]!r}",
        )
        for name in names[1:]
    ]
