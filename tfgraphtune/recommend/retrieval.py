"""Top-K retrieval with seen items excluded, and fold-in of users not seen in training.

The same TensorFlow functions answer ``tfgraphtune recommend`` and the exported
SavedModel, so both return identical lists (ties broken by `tf.math.top_k`: lower item row
first).

Fold-in rule (a user with no training interactions but a history ``H`` of items): the
user's embedding is the GCN-normalised sum of the history items' final embeddings,

    e_u = sum_{i in H} e_i / sqrt(|H| * d_i),

where ``d_i`` is item ``i``'s training degree (1 for an item nobody interacted with).
This is one LightGCN propagation step from the items to a new user node with degree
``|H|`` (``1/sqrt(d_u d_i)``), applied to the items' final (layer-averaged) embeddings;
the same rule serves MF and the GCN/SAGE recommenders. Popular items weigh less, as in
the trained propagation. Scores are dot products, so the ranking does not depend on the
overall scale of ``e_u``.
"""

from __future__ import annotations

import tensorflow as tf

NO_ITEM = -1


def fold_in(item_embeddings: tf.Tensor, item_degrees: tf.Tensor, history: tf.Tensor) -> tf.Tensor:
    """User embeddings from item histories (see the module docstring).

    Args:
      item_embeddings: ``[I, d]`` final item embeddings.
      item_degrees: ``[I]`` training interactions per item.
      history: ``[B, H]`` int32 item rows, padded with `NO_ITEM`.

    Returns:
      ``[B, d]`` user embeddings (zero for an empty history).
    """
    history = tf.cast(history, tf.int32)
    valid = history >= 0
    rows = tf.where(valid, history, tf.zeros_like(history))
    count = tf.reduce_sum(tf.cast(valid, tf.float32), axis=1, keepdims=True)
    degree = tf.maximum(tf.gather(tf.cast(item_degrees, tf.float32), rows), 1.0)
    weight = tf.where(valid, tf.math.rsqrt(degree * tf.maximum(count, 1.0)), 0.0)
    return tf.einsum("bh,bhd->bd", weight, tf.gather(item_embeddings, rows))


def top_k_excluding(
    user_vectors: tf.Tensor, item_embeddings: tf.Tensor, exclude: tf.RaggedTensor, k
) -> tuple[tf.Tensor, tf.Tensor]:
    """The `k` best items per user by dot product, never an excluded one.

    Args:
      user_vectors: ``[B, d]``.
      item_embeddings: ``[I, d]``.
      exclude: ``[B, None]`` int32 item rows to leave out per user (negative rows ignored).
      k: How many; at most ``I`` are returned.

    Returns:
      ``(scores [B, min(k, I)], item rows [B, min(k, I)])``, best first. Where fewer than
      ``k`` items remain for a user, the tail has score ``-inf`` and row `NO_ITEM`.
    """
    scores = tf.matmul(user_vectors, item_embeddings, transpose_b=True)
    exclude = tf.cast(exclude, tf.int32)
    cols = exclude.flat_values
    rows = tf.cast(exclude.value_rowids(), tf.int32)
    keep = cols >= 0
    indices = tf.stack([tf.boolean_mask(rows, keep), tf.boolean_mask(cols, keep)], axis=1)
    neg_inf = tf.fill(tf.shape(indices)[:1], tf.constant(float("-inf"), scores.dtype))
    scores = tf.tensor_scatter_nd_update(scores, indices, neg_inf)
    k = tf.minimum(tf.cast(k, tf.int32), tf.shape(item_embeddings)[0])
    values, found = tf.math.top_k(scores, k=k)
    found = tf.where(tf.math.is_finite(values), found, NO_ITEM)
    return values, found
