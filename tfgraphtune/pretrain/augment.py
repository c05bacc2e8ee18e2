"""Graph augmentations for contrastive pre-training (GraphCL): each returns a new graph.

They act on one node set and one edge set within it, on a graph of one or many
components; other node or edge sets are not supported (they would need re-indexing too).
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_gnn as tfgnn

AUGMENTATIONS = ("node_drop", "edge_perturb", "feature_mask")


def _uniform(rng, shape, minval=0, maxval=None, dtype=tf.float32):
    """``tf.random.uniform``, from the generator `rng` when one is given."""
    if rng is None:
        return tf.random.uniform(shape, minval, maxval, dtype=dtype)
    return rng.uniform(shape, minval, maxval, dtype=dtype)


def _node_components(node_set) -> tf.Tensor:
    sizes = node_set.sizes
    return tf.repeat(tf.range(tf.shape(sizes, out_type=tf.int64)[0]), tf.cast(sizes, tf.int64))


def _check_sets(graph: tfgnn.GraphTensor, node_set: str, edge_set: str) -> None:
    if set(graph.node_sets) != {node_set} or set(graph.edge_sets) != {edge_set}:
        raise ValueError(
            f"graph augmentations support one node set and one edge set; expected "
            f"{node_set!r} and {edge_set!r}, received node sets {sorted(graph.node_sets)} and "
            f"edge sets {sorted(graph.edge_sets)}."
        )


def _rebuild(
    graph, node_set, edge_set, node_sizes, node_features, edge_sizes, source, target, edge_features
):
    return tfgnn.GraphTensor.from_pieces(
        context=graph.context,
        node_sets={node_set: tfgnn.NodeSet.from_fields(sizes=node_sizes, features=node_features)},
        edge_sets={
            edge_set: tfgnn.EdgeSet.from_fields(
                sizes=edge_sizes,
                features=edge_features,
                adjacency=tfgnn.Adjacency.from_indices((node_set, source), (node_set, target)),
            )
        },
    )


def drop_nodes(graph: tfgnn.GraphTensor, node_set: str, edge_set: str, rate: float, rng=None):
    """Removes each node with probability `rate`, with its edges (ids are re-numbered)."""
    _check_sets(graph, node_set, edge_set)
    nodes, edges = graph.node_sets[node_set], graph.edge_sets[edge_set]
    keep = _uniform(rng, [nodes.total_size]) >= rate
    new_index = tf.cumsum(tf.cast(keep, tf.int64)) - 1
    source, target = edges.adjacency.source, edges.adjacency.target
    edge_keep = tf.gather(keep, source) & tf.gather(keep, target)
    components = _node_components(nodes)
    num_components = tf.shape(nodes.sizes, out_type=tf.int64)[0]
    node_sizes = tf.math.unsorted_segment_sum(
        tf.cast(keep, nodes.sizes.dtype), components, num_components
    )
    edge_sizes = tf.math.unsorted_segment_sum(
        tf.cast(edge_keep, edges.sizes.dtype), tf.gather(components, source), num_components
    )
    return _rebuild(
        graph,
        node_set,
        edge_set,
        node_sizes,
        {k: tf.boolean_mask(v, keep) for k, v in nodes.features.items()},
        edge_sizes,
        tf.gather(new_index, tf.boolean_mask(source, edge_keep)),
        tf.gather(new_index, tf.boolean_mask(target, edge_keep)),
        {k: tf.boolean_mask(v, edge_keep) for k, v in edges.features.items()},
    )


def perturb_edges(graph: tfgnn.GraphTensor, node_set: str, edge_set: str, rate: float, rng=None):
    """Drops each edge with probability `rate` and adds as many random edges, each inside
    the component of a random node; added edges get zero edge features."""
    _check_sets(graph, node_set, edge_set)
    nodes, edges = graph.node_sets[node_set], graph.edge_sets[edge_set]
    source, target = edges.adjacency.source, edges.adjacency.target
    keep = _uniform(rng, tf.shape(source)) >= rate
    num_new = tf.reduce_sum(tf.cast(~keep, tf.int64))
    components = _node_components(nodes)
    sizes = tf.cast(nodes.sizes, tf.int64)
    offsets = tf.cumsum(sizes, exclusive=True)
    new_source = _uniform(rng, [num_new], 0, tf.maximum(nodes.total_size, 1), dtype=tf.int64)
    new_component = tf.gather(components, new_source)
    new_target = tf.gather(offsets, new_component) + tf.cast(
        _uniform(rng, [num_new]) * tf.cast(tf.gather(sizes, new_component), tf.float32),
        tf.int64,
    )
    all_source = tf.concat([tf.boolean_mask(source, keep), new_source], 0)
    all_target = tf.concat([tf.boolean_mask(target, keep), new_target], 0)
    all_components = tf.gather(components, all_source)
    # Edges of a component must be contiguous: order them by component.
    order = tf.argsort(all_components, stable=True)
    num_components = tf.shape(sizes, out_type=tf.int64)[0]
    edge_sizes = tf.math.unsorted_segment_sum(
        tf.ones_like(all_components, edges.sizes.dtype), all_components, num_components
    )
    features = {}
    for name, value in edges.features.items():
        kept = tf.boolean_mask(value, keep)
        added = tf.zeros(
            tf.concat([[num_new], tf.shape(value, out_type=tf.int64)[1:]], 0), value.dtype
        )
        features[name] = tf.gather(tf.concat([kept, added], 0), order)
    return _rebuild(
        graph,
        node_set,
        edge_set,
        nodes.sizes,
        dict(nodes.features),
        edge_sizes,
        tf.gather(all_source, order),
        tf.gather(all_target, order),
        features,
    )


def mask_features(graph: tfgnn.GraphTensor, node_set: str, feature: str, rate: float, rng=None):
    """Sets the `feature` row of each node to zeros with probability `rate`."""
    nodes = graph.node_sets[node_set]
    value = nodes[feature]
    keep = tf.cast(_uniform(rng, [nodes.total_size]) >= rate, value.dtype)
    features = dict(nodes.features)
    features[feature] = value * tf.reshape(keep, [-1] + [1] * (value.shape.rank - 1))
    return graph.replace_features(node_sets={node_set: features})


def augment(graph, name: str, *, node_set: str, edge_set: str, feature: str, rate: float, rng=None):
    """One augmentation by name (see `AUGMENTATIONS`); `rng`: a `tf.random.Generator`
    (default: TensorFlow's global stateful random ops)."""
    if name == "node_drop":
        return drop_nodes(graph, node_set, edge_set, rate, rng)
    if name == "edge_perturb":
        return perturb_edges(graph, node_set, edge_set, rate, rng)
    if name == "feature_mask":
        return mask_features(graph, node_set, feature, rate, rng)
    raise ValueError(
        f"Received an invalid augmentation, expected one of {list(AUGMENTATIONS)}. "
        f"Received: {name!r}"
    )
