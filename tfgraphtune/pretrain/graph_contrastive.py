"""Graph-level contrastive pre-training with augmentations (GraphCL)."""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.checks import rate as check_rate
from tfgraphtune.layers.propagation import single_edge_set
from tfgraphtune.models.backbone import Backbone
from tfgraphtune.pretrain.augment import AUGMENTATIONS, augment
from tfgraphtune.pretrain.base import PretrainModel


def nt_xent(first: tf.Tensor, second: tf.Tensor, temperature: float) -> tf.Tensor:
    """Symmetric NT-Xent: view ``i`` of one side must pick view ``i`` of the other among the
    batch, with cosine similarities divided by `temperature`."""
    first = tf.math.l2_normalize(first, axis=-1)
    second = tf.math.l2_normalize(second, axis=-1)
    logits = tf.matmul(first, second, transpose_b=True) / temperature
    labels = tf.range(tf.shape(logits)[0])
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
    loss_t = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, tf.transpose(logits))
    return 0.5 * (tf.reduce_mean(loss) + tf.reduce_mean(loss_t))


class GraphContrastive(PretrainModel):
    """You et al., "Graph Contrastive Learning with Augmentations" (NeurIPS 2020).

    Each graph of a batch (the components of a merged GraphTensor) is seen through two
    augmentations — the first view uses ``augmentations[0]``, the second
    ``augmentations[1]`` (GraphCL picks one pair per data set); the backbone's node states
    are mean-pooled per graph, passed through a 2-layer projection head, and the NT-Xent
    loss pulls the two views of a graph together against the other graphs of the batch.

    Args:
      backbone: The node encoder.
      augmentations: Two names from ``node_drop``, ``edge_perturb``, ``feature_mask``.
      rate: The augmentation strength (fraction of nodes / edges / feature rows).
      temperature: NT-Xent temperature ``tau > 0``.
      projection_units: Width of the projection head.
    """

    def __init__(
        self,
        backbone: Backbone,
        *,
        augmentations: Sequence[str] = ("node_drop", "edge_perturb"),
        rate: float = 0.2,
        temperature: float = 0.5,
        projection_units: int = 128,
        **kwargs,
    ):
        super().__init__(backbone, **kwargs)
        augmentations = tuple(augmentations)
        if len(augmentations) != 2 or any(a not in AUGMENTATIONS for a in augmentations):
            raise ValueError(
                f"Received an invalid value for augmentations, expected two of "
                f"{list(AUGMENTATIONS)}. Received: augmentations={list(augmentations)!r}"
            )
        check_rate("rate", rate)
        if temperature <= 0:
            raise ValueError(
                f"Received an invalid value for temperature, expected a number > 0. "
                f"Received: temperature={temperature!r}"
            )
        self.augmentations = augmentations
        self.rate = float(rate)
        self.temperature = float(temperature)
        self.projection = tf.keras.Sequential(
            [
                tf.keras.layers.Dense(projection_units, activation="relu"),
                tf.keras.layers.Dense(projection_units),
            ],
            name="projection",
        )

    def graph_embeddings(self, graph: tfgnn.GraphTensor, training=None) -> tf.Tensor:
        """``[num_components, units]`` mean of the node states per graph."""
        states = self.backbone(graph, training=training)
        return tfgnn.pool_nodes_to_context(
            graph, self.backbone.node_set, "mean", feature_value=states
        )

    def view(self, graph, name: str):
        edge_set = single_edge_set(graph, self.backbone.edge_set)
        return augment(
            graph,
            name,
            node_set=self.backbone.node_set,
            edge_set=edge_set,
            feature=self.backbone.feature,
            rate=self.rate,
            rng=self.random,
        )

    def pretrain_loss(self, graph, training=None):
        first = self.projection(
            self.graph_embeddings(self.view(graph, self.augmentations[0]), training)
        )
        second = self.projection(
            self.graph_embeddings(self.view(graph, self.augmentations[1]), training)
        )
        return nt_xent(first, second, self.temperature)
