"""SimGCL's graph contrastive objective (Yu et al., "Are Graph Augmentations Necessary?
Simple Graph Contrastive Learning for Recommendation", SIGIR 2022).

SimGCL replaces SGL's graph augmentations (Wu et al., SIGIR 2021) by noise: two views of
the embeddings come from two propagations where every layer's output gets

    E^(k) <- E^(k) + eps * sign(E^(k)) * normalize(U),   U ~ Uniform(0, 1)^d

(the noise vector has norm eps and lies in the same hyperoctant as the embedding). The
views are contrasted with InfoNCE over the batch's distinct users and, separately, the
batch's distinct positive items:

    L_cl = mean_i -log( exp(z'_i . z''_i / t) / sum_j exp(z'_i . z''_j / t) )

with z the L2-normalised view embeddings and t the temperature (paper defaults:
eps = 0.1, t = 0.2, lambda = 0.2 on Yelp2018 / 0.5 on Amazon-Book). The total loss is
L_bpr + lambda * L_cl + L2.

One deviation from SimGCL's reference code: there, the final embedding averages layers
1..K (the ego layer left out); here both views use LightGCN's mean over layers 0..K, so
the contrastive views and the recommendation share one encoder. With
``bpr_weight=0`` in `fit_recommender` the objective alone pre-trains the embeddings
(`pretrain_contrastive`), which BPR then fine-tunes.
"""

from __future__ import annotations

import tensorflow as tf


def add_uniform_noise(embeddings, eps: float) -> tf.Tensor:
    """SimGCL's perturbation: eps-norm uniform noise in the embedding's hyperoctant."""
    embeddings = tf.convert_to_tensor(embeddings)
    noise = tf.math.l2_normalize(tf.random.uniform(tf.shape(embeddings)), axis=-1)
    return embeddings + tf.sign(embeddings) * noise * eps


def info_nce(view_a, view_b, temperature: float) -> tf.Tensor:
    """InfoNCE between two views: row i of `view_a` should match row i of `view_b`."""
    view_a = tf.math.l2_normalize(view_a, axis=-1)
    view_b = tf.math.l2_normalize(view_b, axis=-1)
    logits = tf.matmul(view_a, view_b, transpose_b=True) / temperature
    labels = tf.range(tf.shape(logits)[0])
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    return tf.reduce_mean(losses)


def simgcl_loss(model, users, items, *, noise_eps: float = 0.1, temperature: float = 0.2):
    """SimGCL's contrastive loss for one batch.

    Args:
      model: An `EmbeddingRecommender` (its ``propagate(noise_eps=...)`` gives a view).
      users: int [B] user indices of the batch.
      items: int [B] positive item indices of the batch.
      noise_eps: Noise magnitude eps.
      temperature: InfoNCE temperature t.

    Returns:
      The user InfoNCE plus the item InfoNCE (as in the reference code).
    """
    users_a, items_a = model.propagate(noise_eps=noise_eps, training=True)
    users_b, items_b = model.propagate(noise_eps=noise_eps, training=True)
    distinct_users, _ = tf.unique(tf.cast(users, tf.int32))
    distinct_items, _ = tf.unique(tf.cast(items, tf.int32))
    user_loss = info_nce(
        tf.gather(users_a, distinct_users), tf.gather(users_b, distinct_users), temperature
    )
    item_loss = info_nce(
        tf.gather(items_a, distinct_items), tf.gather(items_b, distinct_items), temperature
    )
    return user_loss + item_loss


def pretrain_contrastive(model, split, *, epochs: int, **kwargs):
    """Pre-trains with the contrastive loss alone (no BPR); returns the Keras History.

    Keyword arguments go to `fit_recommender` (batch_size, learning_rate, l2, seed,
    noise_eps, temperature, ...). Fine-tune afterwards with `fit_recommender`.
    """
    from tfgraphtune.recommend.trainer import fit_recommender

    kwargs.setdefault("contrastive_weight", 1.0)
    return fit_recommender(model, split, epochs=epochs, bpr_weight=0.0, **kwargs)
