"""Containers for loaded data sets: one big graph (node tasks) or many small graphs."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import tensorflow_gnn as tfgnn


@dataclasses.dataclass(frozen=True)
class NodeDataset:
    """One graph whose nodes carry labels, with a train/validation/test split of node ids.

    Attributes:
      name: The data set's name, e.g. ``"cora"``.
      graph: The GraphTensor (one component).
      schema: Its GraphSchema.
      node_set: The labelled node set.
      edge_set: The edge set between those nodes.
      feature: The node feature with the input features.
      label: The node feature with the labels (int class ids, or float regression
        targets), or None for an unlabelled graph (pre-training, link prediction).
      num_classes: Number of classes (0 for regression targets or no labels).
      splits: Split name -> sorted int64 node indices (``train``, ``validation``, ``test``).
      notes: What loading changed in the raw files (rows dropped or added), in words.
    """

    name: str
    graph: tfgnn.GraphTensor
    schema: tfgnn.GraphSchema
    node_set: str
    edge_set: str
    feature: str
    label: str | None
    num_classes: int
    splits: Mapping[str, np.ndarray]
    notes: tuple[str, ...] = ()

    @property
    def num_nodes(self) -> int:
        return int(self.graph.node_sets[self.node_set].total_size)

    @property
    def num_edges(self) -> int:
        return int(self.graph.edge_sets[self.edge_set].total_size)

    @property
    def num_features(self) -> int:
        return int(self.graph.node_sets[self.node_set][self.feature].shape[-1])

    @property
    def labels(self) -> np.ndarray:
        """The node labels; raises `ValueError` for an unlabelled graph."""
        if self.label is None:
            raise ValueError(f"data set {self.name!r} has no node labels.")
        return self.graph.node_sets[self.node_set][self.label].numpy()

    def describe(self) -> dict:
        """Counts a user checks first: nodes, directed edges, features, classes, split sizes."""
        return {
            "name": self.name,
            "kind": "node classification (one graph)",
            "nodes": self.num_nodes,
            "directed_edges": self.num_edges,
            "features": self.num_features,
            "classes": self.num_classes,
            "split": {name: int(len(ids)) for name, ids in self.splits.items()},
            "label": self.label,
            "notes": list(self.notes),
        }


@dataclasses.dataclass(frozen=True)
class GraphDataset:
    """Many small graphs, each with a label on its context (graph classification/regression).

    Attributes:
      name: The data set's name, e.g. ``"mutag"``.
      graphs: One GraphTensor per graph (one component each).
      schema: Their GraphSchema.
      node_set: The node set; `edge_set` the edge set; `feature` the node input feature.
      label: The context feature with the label (int class id, or float target).
      num_classes: Number of classes (0 for regression targets).
      notes: What loading changed in the raw files, in words.
      splits: Split name -> graph indices when the source fixes them (a split column);
        empty when the task draws seeded folds.
    """

    name: str
    graphs: tuple[tfgnn.GraphTensor, ...]
    schema: tfgnn.GraphSchema
    node_set: str
    edge_set: str
    feature: str
    label: str
    num_classes: int
    notes: tuple[str, ...] = ()
    splits: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)

    @property
    def labels(self) -> np.ndarray:
        """One label per graph: int64 class ids, or float32 regression targets."""
        values = np.stack([g.context[self.label].numpy().reshape(-1)[0] for g in self.graphs])
        if np.issubdtype(values.dtype, np.integer):
            return values.astype(np.int64)
        return values.astype(np.float32)

    def describe(self) -> dict:
        """Counts: graphs, total nodes and directed edges, features, classes, class sizes."""
        labels = self.labels
        return {
            "name": self.name,
            "kind": (
                "graph classification (many graphs)"
                if self.num_classes
                else "graph regression (many graphs)"
            ),
            "graphs": len(self.graphs),
            "nodes": int(sum(int(g.node_sets[self.node_set].total_size) for g in self.graphs)),
            "directed_edges": int(
                sum(int(g.edge_sets[self.edge_set].total_size) for g in self.graphs)
            ),
            "features": int(self.graphs[0].node_sets[self.node_set][self.feature].shape[-1]),
            "classes": self.num_classes,
            "class_sizes": (
                [int(c) for c in np.bincount(labels, minlength=self.num_classes)]
                if self.num_classes
                else None
            ),
            "notes": list(self.notes),
        }
