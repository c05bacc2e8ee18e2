"""In-graph request checks of the exported model: size limits, edge indices, finite features.

Each check is a ``tf.debugging.assert_*`` op, so a bad request ends in an
``INVALID_ARGUMENT`` error whose message names the problem (TF Serving returns it to the
client as is), and the model's ops run only after every check passed: a CSR product over an
out-of-range index must never run. The ops are core TensorFlow ops, so the SavedModel
needs neither tfgraphtune nor tensorflow_gnn to load.

A request states its sizes (``#size`` in a tf.Example, ``num_nodes``/``num_edges`` in the
dense signature). Those claims are checked against fixed caps and against the lengths of the
tensors actually sent (`check_request`) before anything sized by them is allocated, so a
request of 40 edges that claims 1e9 costs what 40 edges cost. What one request may cost in
total is bounded by `ServingLimits`' request-wide limits.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from tfgraphtune.checks import positive_int

# Request-wide limits default to this many largest graphs (TF Serving's default batch size
# in the exported batching parameters), so a full server-side batch of them is admitted.
REQUEST_GRAPHS = 32


@dataclasses.dataclass(frozen=True)
class ServingLimits:
    """The largest graph, and the largest request, the export accepts.

    A request (one call, or one server-side batch of calls) of ``B`` graphs is refused
    before any work sized by it unless every graph has at most `max_nodes` nodes and
    `max_edges` edges, ``B x (nodes of its largest graph)`` (the padded output rows) is at
    most `max_request_nodes`, and its edges (and scored pairs) number at most
    `max_request_edges`. The model's work per request is therefore at most proportional to
    ``max_request_nodes x (feature width + hidden units) + max_request_edges x hidden
    units``, whatever sizes the request claims.

    Attributes:
      max_nodes: Most nodes in one graph.
      max_edges: Most edges (and scored pairs) in one graph.
      max_request_nodes: Most padded node rows in one request; None: ``32 x max_nodes``.
      max_request_edges: Most edges (and pairs) in one request; None: ``32 x max_edges``.
    """

    max_nodes: int = 100_000
    max_edges: int = 1_000_000
    max_request_nodes: int | None = None
    max_request_edges: int | None = None

    def __post_init__(self):
        for name in ("max_nodes", "max_edges"):
            positive_int(name, getattr(self, name))
        for name, per_graph in (("nodes", self.max_nodes), ("edges", self.max_edges)):
            key = f"max_request_{name}"
            if getattr(self, key) is None:
                object.__setattr__(self, key, REQUEST_GRAPHS * per_graph)
            positive_int(key, getattr(self, key))


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


def check_request(
    node_counts: tf.Tensor,
    edge_counts: tf.Tensor,
    *,
    node_rows: tf.Tensor,
    edge_lengths: tuple[tf.Tensor, tf.Tensor],
    limits: ServingLimits,
    node_set: str,
    edge_set: str,
) -> list[tf.Operation]:
    """Asserts that a request's claimed sizes are within the limits and match what it sent.

    Run these before anything sized by `node_counts` or `edge_counts`: together they bound
    every count by a fixed cap (so no sum below overflows) and tie the counts to the
    lengths of the tensors received, so a claim costs no more than the data behind it.

    Args:
      node_counts: ``[B]`` claimed node count of each graph.
      edge_counts: ``[B]`` claimed edge count of each graph.
      node_rows: Scalar, the number of feature rows actually received (all graphs).
      edge_lengths: Scalars, the numbers of source and target indices received.
      limits: The export's limits.
      node_set: Node set name, for the messages.
      edge_set: Edge set name, for the messages.

    Returns:
      The assert ops.
    """
    node_counts = tf.cast(node_counts, tf.int64)
    edge_counts = tf.cast(edge_counts, tf.int64)
    rows = tf.size(node_counts, out_type=tf.int64)
    largest = tf.reduce_max(tf.concat([node_counts, tf.zeros([1], tf.int64)], 0))
    checks = check_sizes(node_counts, edge_counts, limits, node_set=node_set, edge_set=edge_set)
    checks += [
        # Each count <= its cap (above), so rows * largest fits int64 for any real batch.
        tf.debugging.assert_less_equal(
            rows * largest,
            tf.constant(limits.max_request_nodes, tf.int64),
            message=f"request too large: graphs x nodes of the largest graph exceeds the "
            f"exported maximum of {limits.max_request_nodes} node rows per request; send "
            "fewer graphs per request",
        ),
        tf.debugging.assert_less_equal(
            tf.reduce_sum(edge_counts),
            tf.constant(limits.max_request_edges, tf.int64),
            message=f"request too large: more edges in total than the exported maximum of "
            f"{limits.max_request_edges} per request; send fewer graphs per request",
        ),
        tf.debugging.assert_equal(
            tf.reduce_sum(node_counts),
            tf.cast(node_rows, tf.int64),
            message=f"node set '{node_set}': the node counts (#size / num_nodes) differ from "
            "the number of feature rows sent",
        ),
    ]
    for endpoint, length in zip(("source", "target"), edge_lengths):
        checks.append(
            tf.debugging.assert_equal(
                tf.reduce_sum(edge_counts),
                tf.cast(length, tf.int64),
                message=f"edge set '{edge_set}': the edge counts (#size / num_edges) differ "
                f"from the number of {endpoint} indices sent",
            )
        )
    return checks


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
