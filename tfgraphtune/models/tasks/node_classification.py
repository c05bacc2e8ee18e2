"""Node classification (and regression) on one graph: model and full-batch inputs."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.data.datasets.dataset import NodeDataset
from tfgraphtune.models.tasks.task_model import HeadedModel


@tf.keras.utils.register_keras_serializable(package="tfgraphtune")
class NodeModel(HeadedModel):
    """Backbone + head producing one output row per node of the backbone's node set.

    For classification the outputs are logits ``[N, num_classes]``; for regression
    ``[N, units]`` values.

    Args: see `HeadedModel` (``head``: ``"linear"``, ``"mlp"`` or ``"gcn"``).

    Call args:
      graph: A `tfgnn.GraphTensor`.
    """

    def call(self, graph: tfgnn.GraphTensor, training=None):
        embeddings = self.backbone(graph, training=training)
        return self.head(embeddings, graph=graph, training=training)


def split_weights(num_nodes: int, indices: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Per-node sample weights selecting `indices`, scaled so weighted means are split means.

    Keras averages weighted losses over all N rows; weighting the chosen rows by
    ``N / len(indices)`` makes the loss the mean over the split, which keeps an L2 penalty
    at the strength it has in the paper (an unscaled mask would weaken the data term by
    ``len(indices) / N``). `scale` multiplies that: ``n`` replicas that each see a
    ``1 / n`` share of the split's nodes use ``scale = n``, so the sum of their scaled losses
    is the one-replica loss.
    """
    weights = np.zeros(num_nodes, dtype=np.float32)
    weights[np.asarray(indices, dtype=np.int64)] = scale * num_nodes / max(len(indices), 1)
    return weights


def full_batch_inputs(
    dataset: NodeDataset, graph: tfgnn.GraphTensor | None = None
) -> dict[str, tf.data.Dataset]:
    """One-element ``(graph, labels, weights)`` data sets per split for `model.fit`.

    Args:
      dataset: The node data set (labels and splits).
      graph: The graph to feed (e.g. after feature normalization); default `dataset.graph`.

    Returns:
      Split name -> `tf.data.Dataset` with one element; train/evaluate with it directly.
    """
    graph = dataset.graph if graph is None else graph
    labels = tf.constant(dataset.labels)
    return {
        name: tf.data.Dataset.from_tensors(
            (graph, labels, tf.constant(split_weights(dataset.num_nodes, indices)))
        )
        for name, indices in dataset.splits.items()
    }
