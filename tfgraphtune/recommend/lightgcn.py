"""LightGCN (He et al., "LightGCN: Simplifying and Powering Graph Convolution Network for
Recommendation", SIGIR 2020).

Users and items are the nodes of one bipartite graph with adjacency
A = [[0, R], [R^T, 0]] (R the binary user-item training matrix). With
Â = D^{-1/2} A D^{-1/2} (D the degrees) and E^(0) the learned ego embeddings, each layer is

    E^(k+1) = Â E^(k)          (no feature transform, no non-linearity, no self loop)

and the final embedding is the mean of all layers including layer 0,
E = 1/(K+1) sum_{k=0..K} E^(k) (the paper's alpha_k = 1/(K+1)). A pair scores
e_u . e_i. The paper's L2 penalty acts on the ego embeddings of the batch (see
`losses.l2_embedding_loss`).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfgraphtune.data.errors import ValidationError
from tfgraphtune.recommend.base import EmbeddingRecommender, _check_count


def normalized_adjacency(
    users: np.ndarray, items: np.ndarray, num_users: int, num_items: int
) -> tuple[np.ndarray, np.ndarray]:
    """The symmetric-normalised bipartite adjacency Â as COO (indices, values).

    Node ``u`` is user u, node ``num_users + i`` item i. Repeated pairs count once.

    Returns:
      int64 indices [2E, 2] in row-major order and float32 values [2E], where the entry
      of (u, i) and of (i, u) is 1 / sqrt(deg(u) deg(i)).
    """
    keys = np.unique(np.asarray(users, np.int64) * num_items + np.asarray(items, np.int64))
    users, items = keys // num_items, keys % num_items
    user_degree = np.bincount(users, minlength=num_users).astype(np.float64)
    item_degree = np.bincount(items, minlength=num_items).astype(np.float64)
    weight = 1.0 / np.sqrt(user_degree[users] * item_degree[items])
    rows = np.concatenate([users, num_users + items])
    cols = np.concatenate([num_users + items, users])
    values = np.concatenate([weight, weight]).astype(np.float32)
    order = np.lexsort((cols, rows))
    return np.stack([rows[order], cols[order]], axis=1), values[order]


@tf.keras.utils.register_keras_serializable(package="tfgraphtune")
class LightGCN(EmbeddingRecommender):
    """LightGCN over one fixed training graph.

    The normalised adjacency is built once, by `set_interactions` (or `from_split`),
    and kept in two non-trainable variables, so saved weights (and a SavedModel) carry
    the graph with the embeddings.

    Args:
      num_users: Number of user indices.
      num_items: Number of item indices.
      num_interactions: Number of distinct training (user, item) pairs; fixes the
        shape of the stored adjacency.
      num_layers: Propagation layers K (the paper uses 3).
      embedding_dim: Embedding size (the paper uses 64).
      init_stddev: Standard deviation of the normal initializer of the ego embeddings.

    Example:

    >>> model = LightGCN(2, 3, num_interactions=3, num_layers=2, embedding_dim=4)
    >>> model.set_interactions(users=[0, 0, 1], items=[0, 1, 2])
    >>> model.score_users([1]).shape
    TensorShape([1, 3])
    """

    def __init__(
        self,
        num_users: int,
        num_items: int,
        *,
        num_interactions: int,
        num_layers: int = 3,
        embedding_dim: int = 64,
        init_stddev: float = 0.1,
        **kwargs,
    ):
        self.num_interactions = _check_count("num_interactions", num_interactions)
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 0:
            raise ValidationError(
                "Received an invalid value for num_layers, expected an integer >= 0. "
                f"Received: num_layers={num_layers!r}"
            )
        self.num_layers = num_layers
        super().__init__(
            num_users, num_items, embedding_dim=embedding_dim, init_stddev=init_stddev, **kwargs
        )

    def _build_extra(self) -> None:
        size = 2 * self.num_interactions
        self.adjacency_indices = self.add_weight(
            name="adjacency_indices",
            shape=(size, 2),
            dtype=tf.int64,
            initializer="zeros",
            trainable=False,
        )
        self.adjacency_values = self.add_weight(
            name="adjacency_values",
            shape=(size,),
            dtype=tf.float32,
            initializer="zeros",
            trainable=False,
        )

    @classmethod
    def from_split(cls, split, **kwargs) -> LightGCN:
        """A model sized for the split, its graph set from the training pairs."""
        users, items = split.train_pairs
        distinct = len(np.unique(users.astype(np.int64) * split.num_items + items))
        model = cls(split.num_users, split.num_items, num_interactions=distinct, **kwargs)
        model.set_interactions(users=users, items=items)
        return model

    def set_interactions(self, *, users, items) -> None:
        """Builds the normalised adjacency of these training pairs, once."""
        indices, values = normalized_adjacency(users, items, self.num_users, self.num_items)
        if len(values) != 2 * self.num_interactions:
            raise ValidationError(
                f"LightGCN was built for num_interactions={self.num_interactions} distinct "
                f"pairs but received {len(values) // 2}; build it with LightGCN.from_split "
                "or pass the matching num_interactions."
            )
        self.adjacency_indices.assign(indices)
        self.adjacency_values.assign(values)

    def adjacency(self) -> tf.sparse.SparseTensor:
        """The normalised (U + I) x (U + I) adjacency as a SparseTensor."""
        size = self.num_users + self.num_items
        return tf.sparse.SparseTensor(
            self.adjacency_indices, self.adjacency_values, dense_shape=[size, size]
        )

    def propagate(self, *, noise_eps: float = 0.0, training: bool = False):
        from tfgraphtune.recommend.contrastive import add_uniform_noise

        adjacency = self.adjacency()
        hidden = tf.concat([self.user_embeddings, self.item_embeddings], axis=0)
        total = hidden
        for _ in range(self.num_layers):
            hidden = tf.sparse.sparse_dense_matmul(adjacency, hidden)
            if noise_eps:
                hidden = add_uniform_noise(hidden, noise_eps)
            total = total + hidden
        final = total / float(self.num_layers + 1)
        return final[: self.num_users], final[self.num_users :]

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "num_interactions": self.num_interactions,
            "num_layers": self.num_layers,
        }
