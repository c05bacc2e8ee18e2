"""`RecommenderModel`: a user-item recommender that carries its training graph.

One Keras model for every ``model.recommender`` of the recommendation task:

* ``"lightgcn"``: `tfgraphtune.recommend.lightgcn.LightGCN` (He et al., SIGIR 2020).
* ``"mf"``: `tfgraphtune.recommend.matrix_factorization.MatrixFactorization` (BPR-MF).
* ``"gcn"`` / ``"sage"``: `HeteroGNNEncoder` (TF-GNN GraphUpdates per edge set) on
  per-id embeddings or Dense-projected side features.

Every kind scores ``s(u, i) = e_u . e_i``. The training interactions are non-trainable
int32 variables of the model (``graph_users`` / ``graph_items``), and side features are
non-trainable too, so a run folder's weights hold the whole graph: `embeddings` needs
nothing but the restored model, and the seen items of every user come with it.

Training (``model.fit``): the model is called on ``[B, 3]`` triplets ``(user, positive,
negative)`` and returns ``[B, 2]`` scores; `BPRLoss` is ``-log sigmoid(s_pos - s_neg)``.
It adds an L2 penalty on the batch's layer-0 embeddings (as LightGCN does) and, with
``contrastive_weight > 0``, SimGCL's contrastive loss (`tfgraphtune.recommend.contrastive`:
noise at every LightGCN layer; on the final embeddings for MF/GCN/SAGE).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfgraphtune.recommend.contrastive import add_uniform_noise, info_nce
from tfgraphtune.recommend.hetero_gnn import HETERO_CONVS, HeteroGNNEncoder
from tfgraphtune.recommend.lightgcn import LightGCN
from tfgraphtune.recommend.matrix_factorization import MatrixFactorization

RECOMMENDERS = ("lightgcn", "mf", *HETERO_CONVS)


@tf.keras.utils.register_keras_serializable(package="tfgraphtune")
class BPRLoss(tf.keras.losses.Loss):
    """Bayesian personalised ranking: ``mean(-log sigmoid(s_pos - s_neg))`` over triplets.

    ``y_pred`` is ``[B, 2]`` (positive, negative scores); ``y_true`` is ignored.

    Args:
      weight: Factor on the loss (0: the model's added losses alone, e.g. SimGCL
        pre-training).
    """

    def __init__(self, weight: float = 1.0, name: str = "bpr", **kwargs):
        super().__init__(name=name, **kwargs)
        self.weight = float(weight)

    def get_config(self):
        return {**super().get_config(), "weight": self.weight}

    def call(self, y_true, y_pred):
        return self.weight * tf.math.softplus(y_pred[:, 1] - y_pred[:, 0])


def _normal() -> tf.keras.initializers.Initializer:
    return tf.keras.initializers.RandomNormal(stddev=0.1)


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(
            f"Received an invalid value for {name}, expected an integer >= {minimum}. "
            f"Received: {name}={value!r}"
        )
    return int(value)


@tf.keras.utils.register_keras_serializable(package="tfgraphtune")
class RecommenderModel(tf.keras.Model):
    """User and item embeddings from the training interaction graph, dot-scored.

    Args:
      num_users: Users (rows ``0..U-1``).
      num_items: Items (rows ``0..I-1``).
      num_interactions: Training interactions the graph holds.
      recommender: ``"lightgcn"``, ``"mf"``, ``"gcn"`` or ``"sage"``.
      embedding_dim: Width of the embeddings.
      num_layers: Propagation layers (LightGCN) or GraphUpdates (GCN/SAGE); MF ignores it.
      user_feature_dim: Width of user side features (0: learned per-id embeddings).
      item_feature_dim: Width of item side features (0: learned per-id embeddings).
      l2: L2 penalty on the batch's layer-0 embeddings.
      contrastive_weight: Weight of SimGCL's contrastive loss (0: off).
      contrastive_eps: SimGCL's noise magnitude.
      contrastive_temperature: SimGCL's InfoNCE temperature.

    Call args:
      inputs: ``[B, 3]`` int32 ``(user, positive item, negative item)`` rows.

    Returns:
      ``[B, 2]`` scores of the positive and negative item.

    Example:
      >>> model = RecommenderModel(num_users=3, num_items=4, num_interactions=5)
      >>> model(tf.zeros([1, 3], tf.int32))
      >>> model.set_interactions(users=[0, 0, 1, 2, 2], items=[0, 1, 1, 2, 3])
      >>> user_embeddings, item_embeddings = model.embeddings()
    """

    def __init__(
        self,
        *,
        num_users: int,
        num_items: int,
        num_interactions: int,
        recommender: str = "lightgcn",
        embedding_dim: int = 64,
        num_layers: int = 3,
        user_feature_dim: int = 0,
        item_feature_dim: int = 0,
        l2: float = 1e-4,
        contrastive_weight: float = 0.0,
        contrastive_eps: float = 0.1,
        contrastive_temperature: float = 0.2,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if recommender not in RECOMMENDERS:
            raise ValueError(
                "Received an invalid value for recommender, expected one of "
                f"{list(RECOMMENDERS)}. Received: recommender={recommender!r}"
            )
        self.num_users = _check_int("num_users", num_users, 1)
        self.num_items = _check_int("num_items", num_items, 1)
        self.num_interactions = _check_int("num_interactions", num_interactions, 0)
        self.recommender = recommender
        self.embedding_dim = _check_int("embedding_dim", embedding_dim, 1)
        self.num_layers = _check_int("num_layers", num_layers, 0)
        self.user_feature_dim = _check_int("user_feature_dim", user_feature_dim, 0)
        self.item_feature_dim = _check_int("item_feature_dim", item_feature_dim, 0)
        self.l2 = float(l2)
        self.contrastive_weight = float(contrastive_weight)
        self.contrastive_eps = float(contrastive_eps)
        self.contrastive_temperature = float(contrastive_temperature)
        if recommender in ("lightgcn", "mf") and (user_feature_dim or item_feature_dim):
            raise ValueError(
                f"recommender {recommender!r} learns per-id embeddings only; side features "
                "need recommender 'gcn' or 'sage'."
            )
        self.encoder = self.core = None
        if recommender == "lightgcn":
            self.core = LightGCN(
                self.num_users,
                self.num_items,
                num_interactions=max(self.num_interactions, 1),
                num_layers=self.num_layers,
                embedding_dim=self.embedding_dim,
            )
        elif recommender == "mf":
            self.core = MatrixFactorization(
                self.num_users, self.num_items, embedding_dim=self.embedding_dim
            )
        else:
            self.encoder = HeteroGNNEncoder(
                conv=recommender, units=self.embedding_dim, num_layers=max(self.num_layers, 1)
            )
            self.user_projection = (
                tf.keras.layers.Dense(self.embedding_dim) if self.user_feature_dim else None
            )
            self.item_projection = (
                tf.keras.layers.Dense(self.embedding_dim) if self.item_feature_dim else None
            )

    def get_config(self):
        return {
            "name": self.name,
            "num_users": self.num_users,
            "num_items": self.num_items,
            "num_interactions": self.num_interactions,
            "recommender": self.recommender,
            "embedding_dim": self.embedding_dim,
            "num_layers": self.num_layers,
            "user_feature_dim": self.user_feature_dim,
            "item_feature_dim": self.item_feature_dim,
            "l2": self.l2,
            "contrastive_weight": self.contrastive_weight,
            "contrastive_eps": self.contrastive_eps,
            "contrastive_temperature": self.contrastive_temperature,
        }

    def get_build_config(self):
        return None  # Built by its first call (`load_run` calls it on example triplets).

    def build(self, input_shape=None):
        # The training graph and side features: state of the model, not trained.
        self.graph_users = self.add_weight(
            name="graph_users", shape=[self.num_interactions], dtype=tf.int32,
            initializer="zeros", trainable=False,
        )  # fmt: skip
        self.graph_items = self.add_weight(
            name="graph_items", shape=[self.num_interactions], dtype=tf.int32,
            initializer="zeros", trainable=False,
        )  # fmt: skip
        self.user_features = self.item_features = None
        if self.core is None:  # LightGCN / MF own their per-id embeddings.
            self.user_features, self.user_embedding = self._node_state(
                "user", self.num_users, self.user_feature_dim
            )
            self.item_features, self.item_embedding = self._node_state(
                "item", self.num_items, self.item_feature_dim
            )
        super().build(input_shape)

    def _node_state(self, node_set: str, rows: int, feature_dim: int):
        """``(side features, None)`` (not trained) or ``(None, per-id embeddings)``."""
        if feature_dim:
            features = self.add_weight(
                name=f"{node_set}_features", shape=[rows, feature_dim],
                initializer="zeros", trainable=False,
            )  # fmt: skip
            return features, None
        embedding = self.add_weight(
            name=f"{node_set}_embedding", shape=[rows, self.embedding_dim], initializer=_normal()
        )
        return None, embedding

    # --- the graph -----------------------------------------------------------------

    def set_interactions(self, *, users, items, user_features=None, item_features=None) -> None:
        """Stores the training interactions (and side features) the model propagates over.

        Args:
          users: ``[E]`` user rows.
          items: ``[E]`` item rows.
          user_features: ``[U, user_feature_dim]`` or None.
          item_features: ``[I, item_feature_dim]`` or None.

        Raises:
          ValueError: Sizes that differ from the model's.
        """
        if not self.built:
            self(tf.zeros([1, 3], tf.int32))
        users, items = np.asarray(users, np.int32), np.asarray(items, np.int32)
        if users.shape != (self.num_interactions,) or items.shape != users.shape:
            raise ValueError(
                f"expected {self.num_interactions} training interactions; received "
                f"{users.shape} users and {items.shape} items."
            )
        self.graph_users.assign(users)
        self.graph_items.assign(items)
        if self.recommender == "lightgcn" and len(users):
            self.core.set_interactions(users=users, items=items)
        for features, variable, what in (
            (user_features, self.user_features, "user"),
            (item_features, self.item_features, "item"),
        ):
            if variable is not None:
                if features is None:
                    raise ValueError(f"the model reads {what} side features; pass them.")
                variable.assign(np.asarray(features, np.float32))

    def seen_items(self) -> tf.RaggedTensor:
        """``[U, None]`` item rows each user interacted with in training (sorted)."""
        users, items = self.graph_users, self.graph_items
        order = tf.argsort(users * self.num_items + items, stable=True)
        return tf.RaggedTensor.from_value_rowids(
            tf.gather(items, order), tf.gather(users, order), nrows=self.num_users
        )

    def item_degrees(self) -> tf.Tensor:
        """``[I]`` training interactions per item."""
        return tf.math.unsorted_segment_sum(
            tf.ones_like(self.graph_items, tf.float32), self.graph_items, self.num_items
        )

    # --- embeddings ----------------------------------------------------------------

    def _initial_states(self):
        if self.core is not None:
            return self.core.user_embeddings, self.core.item_embeddings
        user = self.user_embedding if self.user_features is None else self.user_features
        item = self.item_embedding if self.item_features is None else self.item_features
        return user, item

    def _embeddings(self, *, training=None, noise: bool = False):
        if self.core is not None:  # tfgraphtune.recommend.lightgcn / matrix_factorization
            eps = self.contrastive_eps if noise else 0.0
            return self.core.propagate(noise_eps=eps, training=bool(training))
        user, item = self._initial_states()
        if self.recommender in HETERO_CONVS:
            if self.user_projection is not None:
                user = self.user_projection(user)
            if self.item_projection is not None:
                item = self.item_projection(item)
            user, item = self.encoder(
                (self.graph_users, self.graph_items, user, item), training=training
            )
        if noise:  # SimGCL's noise on the final GNN embeddings.
            user = add_uniform_noise(user, self.contrastive_eps)
            item = add_uniform_noise(item, self.contrastive_eps)
        return user, item

    def embeddings(self) -> tuple[tf.Tensor, tf.Tensor]:
        """``(user_embeddings [U, d], item_embeddings [I, d])`` for inference."""
        if not self.built:
            self(tf.zeros([1, 3], tf.int32))
        return self._embeddings(training=False)

    # --- training ------------------------------------------------------------------

    def call(self, inputs, training=None):
        inputs = tf.cast(inputs, tf.int32)
        user_rows, positive, negative = inputs[:, 0], inputs[:, 1], inputs[:, 2]
        user, item = self._embeddings(training=training)
        u = tf.gather(user, user_rows)
        scores = tf.stack(
            [
                tf.reduce_sum(u * tf.gather(item, positive), -1),
                tf.reduce_sum(u * tf.gather(item, negative), -1),
            ],
            axis=1,
        )
        if training:
            if self.l2:
                user0, item0 = self._initial_states()
                batch = tf.cast(tf.shape(inputs)[0], tf.float32)
                penalty = (
                    tf.reduce_sum(tf.square(tf.gather(user0, user_rows)))
                    + tf.reduce_sum(tf.square(tf.gather(item0, positive)))
                    + tf.reduce_sum(tf.square(tf.gather(item0, negative)))
                )
                self.add_loss(self.l2 * 0.5 * penalty / batch)
            if self.contrastive_weight:
                self.add_loss(self.contrastive_weight * self._contrastive(user_rows, positive))
        return scores

    def _contrastive(self, user_rows, item_rows):
        user1, item1 = self._embeddings(training=True, noise=True)
        user2, item2 = self._embeddings(training=True, noise=True)
        users, _ = tf.unique(user_rows)
        items, _ = tf.unique(item_rows)
        return info_nce(
            tf.gather(user1, users), tf.gather(user2, users), self.contrastive_temperature
        ) + info_nce(tf.gather(item1, items), tf.gather(item2, items), self.contrastive_temperature)
