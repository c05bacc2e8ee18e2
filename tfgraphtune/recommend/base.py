"""The shared base of embedding recommenders: per-id user and item embeddings, dot scores."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfgraphtune.data.errors import ValidationError


def _check_count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValidationError(
            f"Received an invalid value for {name}, expected an integer >= 1. "
            f"Received: {name}={value!r}"
        )
    return int(value)


class EmbeddingRecommender(tf.keras.Model):
    """Learned per-id user and item embeddings scored by a dot product.

    Subclasses define `propagate`, which maps the ego (layer-0) embeddings to the final
    user and item embeddings (identity for matrix factorisation, graph propagation for
    LightGCN).

    Args:
      num_users: Number of user indices.
      num_items: Number of item indices.
      embedding_dim: Size of each embedding.
      init_stddev: Standard deviation of the normal initializer (as LightGCN's
        PyTorch reference code, which draws N(0, 0.1^2) ego embeddings).

    Call args:
      inputs: ``(users, items)`` int index tensors of one shape.

    Returns:
      The dot-product score of each pair.
    """

    def __init__(
        self,
        num_users: int,
        num_items: int,
        *,
        embedding_dim: int = 64,
        init_stddev: float = 0.1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_users = _check_count("num_users", num_users)
        self.num_items = _check_count("num_items", num_items)
        self.embedding_dim = _check_count("embedding_dim", embedding_dim)
        if not float(init_stddev) > 0:
            raise ValidationError(
                "Received an invalid value for init_stddev, expected a number > 0. "
                f"Received: init_stddev={init_stddev!r}"
            )
        self.init_stddev = float(init_stddev)
        self.build()

    def build(self, input_shape=None):
        if self.built:
            return
        self.user_embeddings = self.add_weight(
            name="user_embeddings",
            shape=(self.num_users, self.embedding_dim),
            initializer=tf.keras.initializers.RandomNormal(stddev=self.init_stddev),
        )
        self.item_embeddings = self.add_weight(
            name="item_embeddings",
            shape=(self.num_items, self.embedding_dim),
            initializer=tf.keras.initializers.RandomNormal(stddev=self.init_stddev),
        )
        self._build_extra()
        self.built = True

    def _build_extra(self) -> None:
        """Creates weights beyond the two embedding tables (subclasses)."""

    def propagate(self, *, noise_eps: float = 0.0, training: bool = False):
        """Returns the final (user, item) embeddings.

        Args:
          noise_eps: When > 0, adds SimGCL's uniform noise of this magnitude to every
            propagated embedding (a perturbed view for the contrastive loss).
          training: Whether this is a training pass.
        """
        raise NotImplementedError

    def call(self, inputs, training=None):
        users, items = inputs
        user_final, item_final = self.propagate(training=bool(training))
        user_vectors = tf.gather(user_final, tf.cast(users, tf.int32))
        item_vectors = tf.gather(item_final, tf.cast(items, tf.int32))
        return tf.reduce_sum(user_vectors * item_vectors, axis=-1)

    def score_users(self, users) -> tf.Tensor:
        """Scores of every item for the given user indices: float32 [n, num_items]."""
        user_final, item_final = self.propagate()
        user_vectors = tf.gather(user_final, tf.cast(users, tf.int32))
        return tf.matmul(user_vectors, item_final, transpose_b=True)

    def final_embeddings(self) -> tuple[np.ndarray, np.ndarray]:
        """The final (user, item) embeddings as numpy arrays, e.g. for an ANN index."""
        user_final, item_final = self.propagate()
        return user_final.numpy(), item_final.numpy()

    def score_fn(self):
        """A function user indices -> [n, I] numpy scores (embeddings computed once)."""
        user_final, item_final = self.final_embeddings()
        return lambda users: user_final[np.asarray(users)] @ item_final.T

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "num_users": self.num_users,
            "num_items": self.num_items,
            "embedding_dim": self.embedding_dim,
            "init_stddev": self.init_stddev,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
