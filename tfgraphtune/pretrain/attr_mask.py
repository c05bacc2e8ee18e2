"""Attribute masking: predict the masked nodes' (categorical) attributes from their context."""

from __future__ import annotations

import tensorflow as tf

from tfgraphtune.models.backbone import Backbone
from tfgraphtune.pretrain.base import PretrainModel, node_features, replace_node_feature


class AttributeMasking(PretrainModel):
    """Hu et al., "Strategies for Pre-training Graph Neural Networks" (ICLR 2020).

    A `mask_rate` of the nodes get their input features replaced by zeros (the mask); a
    linear layer on the backbone's node states predicts the original attribute of the
    masked nodes: softmax cross-entropy on the argmax of one-hot features
    (``target="categorical"``, atom types in molecules) or mean squared error on the
    feature vector (``target="continuous"``).

    Args:
      backbone: The node encoder.
      mask_rate: Fraction of nodes masked per step, in (0, 1). The paper uses 0.15.
      target: ``"categorical"`` or ``"continuous"``.
    """

    def __init__(
        self, backbone: Backbone, *, mask_rate: float = 0.15, target: str = "categorical", **kwargs
    ):
        super().__init__(backbone, **kwargs)
        if not 0.0 < mask_rate < 1.0:
            raise ValueError(
                f"Received an invalid value for mask_rate, expected a rate in (0, 1). "
                f"Received: mask_rate={mask_rate!r}"
            )
        if target not in ("categorical", "continuous"):
            raise ValueError(
                f"Received an invalid value for target, expected 'categorical' or "
                f"'continuous'. Received: target={target!r}"
            )
        self.mask_rate = float(mask_rate)
        self.target = target
        self.predictor = None

    def call(self, graph, training=None):
        embeddings = super().call(graph, training=training)
        # The predictor's variables exist after the first call (the runner's build pass):
        # the optimizer and a crash-safe backup must see every variable before training.
        self._build_predictor(graph, embeddings.shape)
        return embeddings

    def _build_predictor(self, graph, state_shape) -> None:
        if self.predictor is None:
            width = int(node_features(graph, self.backbone).shape[-1])
            self.predictor = tf.keras.layers.Dense(width, name="attribute_predictor")
            self.predictor.build(tf.TensorShape([None, state_shape[-1]]))

    def pretrain_loss(self, graph, training=None):
        features = node_features(graph, self.backbone)
        num_nodes = tf.shape(features)[0]
        mask = self.random.uniform([num_nodes]) < self.mask_rate
        # At least one masked node, so the loss is defined on tiny graphs too.
        mask = tf.tensor_scatter_nd_update(
            mask, [[self.random.uniform([], 0, num_nodes, dtype=tf.int32)]], [True]
        )
        masked = tf.where(mask[:, None], tf.zeros_like(features), features)
        graph = replace_node_feature(graph, self.backbone.node_set, self.backbone.feature, masked)
        states = tf.boolean_mask(self.backbone(graph, training=training), mask)
        self._build_predictor(graph, states.shape)
        predictions = self.predictor(states)
        targets = tf.boolean_mask(features, mask)
        if self.target == "categorical":
            return tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(tf.argmax(targets, -1), predictions)
            )
        return tf.reduce_mean(tf.square(predictions - targets))
