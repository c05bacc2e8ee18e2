"""BPR matrix factorisation (Rendle et al., "BPR: Bayesian Personalized Ranking from
Implicit Feedback", UAI 2009): score(u, i) = e_u . e_i with learned per-id embeddings."""

from __future__ import annotations

import tensorflow as tf

from tfgraphtune.recommend.base import EmbeddingRecommender


@tf.keras.utils.register_keras_serializable(package="tfgraphtune")
class MatrixFactorization(EmbeddingRecommender):
    """Matrix factorisation: the final embeddings are the ego embeddings.

    Trained with the BPR loss by `fit_recommender` it is the BPR-MF baseline.

    Example:

    >>> model = MatrixFactorization(3, 4, embedding_dim=8)
    >>> model.score_users([0, 2]).shape
    TensorShape([2, 4])
    """

    def propagate(self, *, noise_eps: float = 0.0, training: bool = False):
        users, items = self.user_embeddings, self.item_embeddings
        if noise_eps:
            from tfgraphtune.recommend.contrastive import add_uniform_noise

            users = add_uniform_noise(users, noise_eps)
            items = add_uniform_noise(items, noise_eps)
        return tf.convert_to_tensor(users), tf.convert_to_tensor(items)
