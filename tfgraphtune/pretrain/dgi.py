"""Deep Graph Infomax: node embeddings that tell the real graph from a corrupted one."""

from __future__ import annotations

import tensorflow as tf

from tfgraphtune.models.backbone import Backbone
from tfgraphtune.pretrain.base import PretrainModel, node_features, replace_node_feature


class DeepGraphInfomax(PretrainModel):
    """Veličković et al., "Deep Graph Infomax" (ICLR 2019).

    With embeddings ``H = enc(X, A)``, corrupted ones ``H~ = enc(P X, A)`` (``P`` a random
    row permutation) and the summary ``s = sigmoid(mean_i h_i)``, the loss is the binary
    cross-entropy of the bilinear discriminator ``D(h, s) = h^T W s``:
    ``-(1/2N) sum_i [log sigma(D(h_i, s)) + log(1 - sigma(D(h~_i, s)))]``.

    Args:
      backbone: The encoder (the paper: one GCN layer, 512 units, PReLU).

    Example:
      >>> model = DeepGraphInfomax(Backbone(node_set="paper", feature="feat",
      ...     hidden_units=512, num_layers=1, activation="prelu", dropout=0.0))
      >>> model.compile(tf.keras.optimizers.Adam(1e-3))
      >>> model.fit(graph_data(graph), steps_per_epoch=1, epochs=300)
    """

    def __init__(self, backbone: Backbone, **kwargs):
        super().__init__(backbone, **kwargs)
        units = backbone.output_units
        # torch.nn.Bilinear(units, units, 1) with xavier_uniform_ and a zero bias, as the
        # authors' code: its weight [1, units, units] has fan_in units^2 and fan_out units.
        limit = (6.0 / (units * units + units)) ** 0.5
        self.discriminator = self.add_weight(
            name="discriminator",
            shape=(units, units),
            initializer=tf.keras.initializers.RandomUniform(-limit, limit),
        )
        self.discriminator_bias = self.add_weight(
            name="discriminator_bias", shape=(), initializer="zeros"
        )

    def corrupt(self, graph):
        """The graph with its node feature rows shuffled (structure unchanged)."""
        features = node_features(graph, self.backbone)
        return replace_node_feature(
            graph, self.backbone.node_set, self.backbone.feature, self.shuffle(features)
        )

    def pretrain_loss(self, graph, training=None):
        positive = self.backbone(graph, training=training)
        negative = self.backbone(self.corrupt(graph), training=training)
        summary = tf.sigmoid(tf.reduce_mean(positive, axis=0))
        projected = tf.linalg.matvec(self.discriminator, summary)
        logits_pos = tf.linalg.matvec(positive, projected) + self.discriminator_bias
        logits_neg = tf.linalg.matvec(negative, projected) + self.discriminator_bias
        loss_pos = tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(logits_pos), logits_pos)
        loss_neg = tf.nn.sigmoid_cross_entropy_with_logits(tf.zeros_like(logits_neg), logits_neg)
        return 0.5 * (tf.reduce_mean(loss_pos) + tf.reduce_mean(loss_neg))
