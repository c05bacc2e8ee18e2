"""The popularity baseline: every user gets the items with the most training events."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfgraphtune.recommend.base import _check_count


@tf.keras.utils.register_keras_serializable(package="tfgraphtune")
class Popularity(tf.keras.Model):
    """Scores an item by its number of training interactions, the same for every user.

    Args:
      num_items: Number of item indices.
      num_users: Number of user indices (kept for a common interface).

    Call args:
      inputs: ``(users, items)`` int index tensors.

    Example:

    >>> model = Popularity(3, num_users=2)
    >>> model.set_interactions(users=[0, 1, 1], items=[2, 2, 0])
    >>> model.score_users([0]).numpy().tolist()
    [[1.0, 0.0, 2.0]]
    """

    def __init__(self, num_items: int, *, num_users: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.num_items = _check_count("num_items", num_items)
        self.num_users = _check_count("num_users", num_users)
        self.build()

    def build(self, input_shape=None):
        if self.built:
            return
        self.counts = self.add_weight(
            name="counts", shape=(self.num_items,), initializer="zeros", trainable=False
        )
        self.built = True

    @classmethod
    def from_split(cls, split, **kwargs) -> Popularity:
        """A model with the split's training counts."""
        model = cls(split.num_items, num_users=split.num_users, **kwargs)
        model.set_interactions(users=split.train.users, items=split.train.items)
        return model

    def set_interactions(self, *, users, items) -> None:
        """Counts the training events of each item."""
        del users  # Popularity ignores who interacted.
        self.counts.assign(np.bincount(np.asarray(items), minlength=self.num_items).astype("f4"))

    def call(self, inputs, training=None):
        _, items = inputs
        return tf.gather(self.counts, tf.cast(items, tf.int32))

    def score_users(self, users) -> tf.Tensor:
        count = tf.shape(tf.reshape(users, [-1]))[0]
        return tf.tile(self.counts[tf.newaxis], [count, 1])

    def score_fn(self):
        counts = self.counts.numpy()
        return lambda users: np.broadcast_to(counts, (len(np.asarray(users)), self.num_items))

    def get_config(self) -> dict:
        return {**super().get_config(), "num_items": self.num_items, "num_users": self.num_users}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
