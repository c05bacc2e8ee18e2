"""Graph auto-encoder: embeddings whose inner products reconstruct the edges."""

from __future__ import annotations

import tensorflow as tf

from tfgraphtune.models.backbone import Backbone
from tfgraphtune.pretrain.base import PretrainModel


class GraphAutoEncoder(PretrainModel):
    """Kipf & Welling, "Variational Graph Auto-Encoders" (NeurIPS BDL workshop 2016), GAE.

    ``p(A_ij = 1) = sigmoid(z_i . z_j)``; the loss is the binary cross-entropy of the
    graph's edges against `negatives_per_edge` uniformly sampled node pairs per edge (as
    PyG's ``GAE.recon_loss``), averaged over positives and negatives separately.

    Args:
      backbone: The encoder (the paper: GCN 32 -> 16, the last layer linear, so build it
        with ``final_activation=False``).
      negatives_per_edge: Negative pairs sampled per edge each step.
    """

    def __init__(self, backbone: Backbone, *, negatives_per_edge: int = 1, **kwargs):
        super().__init__(backbone, **kwargs)
        if not isinstance(negatives_per_edge, int) or negatives_per_edge < 1:
            raise ValueError(
                f"Received an invalid value for negatives_per_edge, expected a positive "
                f"integer. Received: negatives_per_edge={negatives_per_edge!r}"
            )
        self.negatives_per_edge = negatives_per_edge

    def edge_logits(self, embeddings, source, target):
        return tf.reduce_sum(tf.gather(embeddings, source) * tf.gather(embeddings, target), axis=-1)

    def pretrain_loss(self, graph, training=None):
        embeddings = self.backbone(graph, training=training)
        edge_set_name = self.backbone.edge_set or next(iter(graph.edge_sets))
        adjacency = graph.edge_sets[edge_set_name].adjacency
        num_nodes = tf.shape(embeddings, out_type=tf.int64)[0]
        num_negatives = tf.shape(adjacency.source, out_type=tf.int64)[0] * self.negatives_per_edge
        negative_source = self.random.uniform([num_negatives], 0, num_nodes, dtype=tf.int64)
        negative_target = self.random.uniform([num_negatives], 0, num_nodes, dtype=tf.int64)
        positive = self.edge_logits(embeddings, adjacency.source, adjacency.target)
        negative = self.edge_logits(embeddings, negative_source, negative_target)
        loss_pos = tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(positive), positive)
        loss_neg = tf.nn.sigmoid_cross_entropy_with_logits(tf.zeros_like(negative), negative)
        return tf.reduce_mean(loss_pos) + tf.reduce_mean(loss_neg)
