"""Graph classification (and regression): node embeddings pooled per graph, then a head."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.data.graph_batching import GraphBatcher
from tfgraphtune.models.backbone import Backbone
from tfgraphtune.models.tasks.task_model import HeadedModel

READOUTS = ("mean", "sum", "max")
GRAPH_HEADS = ("linear", "mlp")
# "max_no_inf" gives 0 instead of -inf for a graph without nodes.
_REDUCE_TYPES = {"mean": "mean", "sum": "sum", "max": "max_no_inf"}


def _check_readout(readout: str | Sequence[str]) -> list[str]:
    names = [readout] if isinstance(readout, str) else list(readout)
    if not names or any(name not in READOUTS for name in names) or len(set(names)) < len(names):
        raise ValueError(
            f"Received an invalid value for readout, expected one of {list(READOUTS)} or a "
            f"non-empty list of distinct ones. Received: readout={readout!r}"
        )
    return names


@tf.keras.utils.register_keras_serializable(package="tfgraphtune")
class GraphModel(HeadedModel):
    """Backbone, readout over each graph component, head: one output row per graph.

    The readout pools the node embeddings of every component (one graph each, after
    `graph_batches`) with ``tfgnn.pool_nodes_to_context``; several readouts are
    concatenated, e.g. ``["sum", "mean"]``. The sum readout is the injective one of GIN
    (Xu, Hu, Leskovec & Jegelka, "How Powerful are Graph Neural Networks?", ICLR 2019):
    ``h_G = READOUT({h_v : v in G})``.

    Args:
      backbone: The `Backbone` computing node embeddings.
      units: Number of classes (outputs are logits ``[num_graphs, units]``) or of regression
        targets (values ``[num_graphs, units]``).
      readout: ``"mean"``, ``"sum"``, ``"max"``, or a list of them to concatenate.
      head: ``"linear"`` or ``"mlp"`` (see `Head`).
      head_dropout: Dropout rate on the pooled embeddings (and the MLP's hidden layer).
      head_hidden_units: Hidden width of an ``"mlp"`` head.
      target_mean: Regression only: the head predicts ``target_mean + target_std * z``
        (see `Head`); None for classification.
      target_std: See `target_mean`.

    Call args:
      graph: A scalar `tfgnn.GraphTensor` with one component per graph.

    Returns:
      ``[num_components, units]``.

    Raises:
      ValueError: An invalid `readout`, `head`, `units` or `head_dropout`.

    Example:
      >>> backbone = Backbone(node_set="atom", feature="feat", conv="gin", hidden_units=64)
      >>> model = GraphModel(backbone, 2, readout="sum", head="mlp")
      >>> logits = model(merged_graph)  # [num_graphs, 2]
    """

    def __init__(
        self,
        backbone: Backbone,
        units: int,
        *,
        readout: str | Sequence[str] = "mean",
        head: str = "mlp",
        head_dropout: float = 0.0,
        head_hidden_units: int = 64,
        target_mean: float | None = None,
        target_std: float | None = None,
        **kwargs,
    ):
        readouts = _check_readout(readout)
        if head not in GRAPH_HEADS:
            raise ValueError(
                f"Received an invalid value for head, expected one of {list(GRAPH_HEADS)}. "
                f"Received: head={head!r}"
            )
        super().__init__(
            backbone,
            units,
            head=head,
            head_dropout=head_dropout,
            head_hidden_units=head_hidden_units,
            target_mean=target_mean,
            target_std=target_std,
            **kwargs,
        )
        self.readout = readout if isinstance(readout, str) else readouts
        self.readouts = readouts

    def call(self, graph: tfgnn.GraphTensor, training=None):
        return self.head(self.graph_embeddings(graph, training=training), training=training)

    def graph_embeddings(self, graph: tfgnn.GraphTensor, training=None) -> tf.Tensor:
        """The pooled readout the head sees: one row per graph component.

        Args:
          graph: A scalar `tfgnn.GraphTensor` with one component per graph.
          training: Keras training flag for the backbone.

        Returns:
          ``[num_components, D]`` where ``D`` is the backbone's width times the number of
          readouts.
        """
        embeddings = self.backbone(graph, training=training)
        pooled = [
            tfgnn.pool_nodes_to_context(
                graph,
                self.backbone.node_set,
                _REDUCE_TYPES[name],
                feature_value=embeddings,
            )
            for name in self.readouts
        ]
        return pooled[0] if len(pooled) == 1 else tf.concat(pooled, axis=-1)

    def task_config(self) -> dict:
        return {**super().task_config(), "readout": self.readout}


def graph_batches(
    graphs: Sequence[tfgnn.GraphTensor],
    indices: Sequence[int] | np.ndarray,
    *,
    label_feature: str = "label",
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int = 0,
) -> tf.data.Dataset:
    """Mini-batches of whole graphs for `model.fit`: ``(merged graph, labels)``.

    Each element merges `batch_size` graphs into one scalar GraphTensor with one component
    per graph, so a `GraphModel` returns one row per graph in batch order. The labels are
    read from the context feature `label_feature` (one value per graph) and removed from
    the graph, so the model cannot see them. To batch several splits of the same graphs,
    build one `GraphBatcher` and call its ``dataset`` per split (it flattens them once).

    Args:
      graphs: Scalar GraphTensors with one component each and the same features.
      indices: Which graphs to use, in order (e.g. a cross-validation fold).
      label_feature: The context feature holding each graph's label.
      batch_size: Graphs per batch; the last batch may be smaller.
      shuffle: Reshuffle the graphs every epoch (iteration of the data set).
      seed: Seed of the shuffling; the sequence of epochs is the same for the same seed.

    Returns:
      A `tf.data.Dataset` of ``(GraphTensor, labels [B])``.

    Raises:
      ValueError: No graphs or indices, indices out of range, a bad `batch_size`, or graphs
        without `label_feature`.
    """
    return GraphBatcher(graphs, label_feature=label_feature).dataset(
        indices, batch_size=batch_size, shuffle=shuffle, seed=seed
    )
