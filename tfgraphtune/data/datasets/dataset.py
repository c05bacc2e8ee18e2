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
      label: The node feature with the class ids.
      num_classes: Number of classes.
      splits: Split name -> sorted int64 node indices (``train``, ``validation``, ``test``).
      notes: What loading changed in the raw files (rows dropped or added), in words.
    """

    name: str
    graph: tfgnn.GraphTensor
    schema: tfgnn.GraphSchema
    node_set: str
    edge_set: str
    feature: str
    label: str
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
            "notes": list(self.notes),
        }


@dataclasses.dataclass(frozen=True)
class GraphDataset:
    """Many small graphs, each with a class label on its context (graph classification).

    Attributes:
      name: The data set's name, e.g. ``"mutag"``.
      graphs: One GraphTensor per graph (one component each).
      schema: Their GraphSchema.
      node_set: The node set; `edge_set` the edge set; `feature` the node input feature.
      label: The context feature with the class id.
      num_classes: Number of classes.
      notes: What loading changed in the raw files, in words.
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

    @property
    def labels(self) -> np.ndarray:
        return np.array([int(g.context[self.label][0]) for g in self.graphs], dtype=np.int64)

    def describe(self) -> dict:
        """Counts: graphs, total nodes and directed edges, features, classes, class sizes."""
        labels = self.labels
        return {
            "name": self.name,
            "kind": "graph classification (many graphs)",
            "graphs": len(self.graphs),
            "nodes": int(sum(int(g.node_sets[self.node_set].total_size) for g in self.graphs)),
            "directed_edges": int(
                sum(int(g.edge_sets[self.edge_set].total_size) for g in self.graphs)
            ),
            "features": int(self.graphs[0].node_sets[self.node_set][self.feature].shape[-1]),
            "classes": self.num_classes,
            "class_sizes": [int(c) for c in np.bincount(labels, minlength=self.num_classes)],
            "notes": list(self.notes),
        }
