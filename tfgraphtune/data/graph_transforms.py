"""Transforms on a GraphTensor that return a new GraphTensor (the input is never changed)."""

from __future__ import annotations

import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.data.errors import ValidationError

FEATURE_NORMALIZATIONS = ("row_sum", "standardize")


def normalize_node_feature(
    graph: tfgnn.GraphTensor, node_set: str, feature: str, method: str = "row_sum"
) -> tfgnn.GraphTensor:
    """Normalizes one node feature: rows summing to 1, or columns to zero mean / unit variance.

    ``row_sum`` divides each row by its sum (rows summing to 0 stay 0), as Kipf & Welling
    preprocess bag-of-words features; ``standardize`` centres each column and divides by its
    standard deviation (constant columns are only centred).

    Raises:
      ValidationError: Unknown method, node set or feature.
    """
    if method not in FEATURE_NORMALIZATIONS:
        raise ValidationError(
            f"unknown feature normalization {method!r}; expected one of {FEATURE_NORMALIZATIONS}."
        )
    if node_set not in graph.node_sets or feature not in graph.node_sets[node_set].features:
        raise ValidationError(
            f"node set {node_set!r} has no feature {feature!r} to normalize.",
            set_name=node_set,
            feature=feature,
        )
    values = tf.cast(graph.node_sets[node_set][feature], tf.float32)
    if method == "row_sum":
        values = tf.math.divide_no_nan(values, tf.reduce_sum(values, axis=-1, keepdims=True))
    else:
        mean, variance = tf.nn.moments(values, axes=[0], keepdims=True)
        std = tf.sqrt(variance)
        values = tf.where(std > 0, (values - mean) / tf.where(std > 0, std, 1.0), values - mean)
    features = dict(graph.node_sets[node_set].features)
    features[feature] = values
    return graph.replace_features(node_sets={node_set: features})
