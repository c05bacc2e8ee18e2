"""Node classification (and regression) on one graph: model and full-batch inputs."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.data.datasets.dataset import NodeDataset
from tfgraphtune.models.backbone import Backbone
from tfgraphtune.models.tasks.heads import Head


@tf.keras.utils.register_keras_serializable(package="tfgraphtune")
class NodeModel(tf.keras.Model):
    """Backbone + head producing one output row per node of the backbone's node set.

    For classification the outputs are logits ``[N, num_classes]``; for regression
    ``[N, units]`` values.

    Args:
      backbone: The `Backbone`.
      units: Number of classes (classification) or targets (regression).
      head: ``"linear"``, ``"mlp"`` or ``"gcn"`` (see `Head`).
      head_dropout: Dropout rate on the head's input.
      head_hidden_units: Hidden width of an ``"mlp"`` head.
      target_mean: Regression only: the head predicts ``target_mean + target_std * z``
        (see `Head`); None for classification.
      target_std: See `target_mean`.

    Call args:
      graph: A `tfgnn.GraphTensor`.
    """

    def __init__(
        self,
        backbone: Backbone,
        units: int,
        *,
        head: str = "linear",
        head_dropout: float = 0.0,
        head_hidden_units: int = 64,
        target_mean: float | None = None,
        target_std: float | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.backbone = backbone
        self.units = units
        self.head = Head(
            units,
            kind=head,
            hidden_units=head_hidden_units,
            dropout=head_dropout,
            target_mean=target_mean,
            target_std=target_std,
            name="head",
        )

    def call(self, graph: tfgnn.GraphTensor, training=None):
        embeddings = self.backbone(graph, training=training)
        return self.head(embeddings, graph=graph, training=training)

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "backbone": tf.keras.layers.serialize(self.backbone),
            "units": self.units,
            "head": self.head.kind,
            "head_dropout": self.head.dropout,
            "head_hidden_units": self.head.hidden_units,
            "target_mean": self.head.target_mean,
            "target_std": self.head.target_std,
        }

    def get_build_config(self):
        # Built by its first call on a GraphTensor; an input shape cannot rebuild it.
        return None

    @classmethod
    def from_config(cls, config: dict) -> NodeModel:
        config = dict(config)
        config["backbone"] = tf.keras.layers.deserialize(config["backbone"])
        return cls(**config)


def split_weights(num_nodes: int, indices: np.ndarray) -> np.ndarray:
    """Per-node sample weights selecting `indices`, scaled so weighted means are split means.

    Keras averages weighted losses over all N rows; weighting the chosen rows by
    ``N / len(indices)`` makes the loss the mean over the split, which keeps an L2 penalty
    at the strength it has in the paper (an unscaled mask would weaken the data term by
    ``len(indices) / N``).
    """
    weights = np.zeros(num_nodes, dtype=np.float32)
    weights[np.asarray(indices)] = num_nodes / max(len(indices), 1)
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
