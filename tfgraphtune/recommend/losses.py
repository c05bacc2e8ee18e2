"""Pairwise ranking losses for implicit feedback."""

from __future__ import annotations

import tensorflow as tf


def bpr_loss(positive_scores, negative_scores) -> tf.Tensor:
    """Bayesian Personalised Ranking loss (Rendle et al., UAI 2009).

    L = mean over triples (u, i, j) of -ln sigmoid(s_ui - s_uj), written as
    softplus(s_uj - s_ui), which does not overflow for large score gaps.

    Example: scores 2 vs 0 give softplus(-2) = ln(1 + e^-2) = 0.1269.
    """
    difference = tf.convert_to_tensor(negative_scores) - tf.convert_to_tensor(positive_scores)
    return tf.reduce_mean(tf.nn.softplus(difference))


def l2_embedding_loss(*embeddings, batch_size) -> tf.Tensor:
    """LightGCN's L2 penalty: sum of squared norms of the batch's ego embeddings / 2 / batch.

    He et al.'s released code: ``(|e_u|^2 + |e_i|^2 + |e_j|^2) / 2 / batch_size``,
    multiplied by the weight decay (1e-4 in the paper) by the caller.
    """
    total = tf.add_n([tf.reduce_sum(tf.square(e)) for e in embeddings])
    return total / 2.0 / tf.cast(batch_size, total.dtype)
