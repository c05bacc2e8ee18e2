"""Many small graphs from flat arrays: the layout TU files, molecule sets and graph tables share."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.data.errors import ValidationError


def graphs_from_flat_arrays(
    *,
    node_features: np.ndarray,
    graph_of_node: np.ndarray,
    edges: np.ndarray,
    labels: np.ndarray,
    node_set: str,
    edge_set: str,
    feature: str = "feat",
    label: str = "label",
    edge_features: Mapping[str, np.ndarray] | None = None,
    where: str = "the graph tables",
) -> tuple[tfgnn.GraphTensor, ...]:
    """One scalar GraphTensor per graph, its label on the context.

    Args:
      node_features: ``[N, F]`` features of all nodes, graph by graph.
      graph_of_node: ``[N]`` graph index of each node, ``0..G-1``, non-decreasing.
      edges: ``[E, 2]`` (source, target) indices into all nodes.
      labels: ``[G]`` one label per graph (int class ids or float targets).
      node_set, edge_set, feature, label: Names in the graphs.
      edge_features: Optional ``[E]``-row edge features.
      where: What the arrays came from, for error messages.

    Returns:
      A tuple of ``G`` GraphTensors with one component each.

    Raises:
      ValidationError: Nodes not grouped by graph, an edge between two graphs, or a
        label count that differs from the number of graphs.
    """
    graph_of_node = np.asarray(graph_of_node, np.int64)
    edges = np.asarray(edges, np.int64).reshape(-1, 2)
    num_graphs = len(labels)
    if len(graph_of_node) and np.any(np.diff(graph_of_node) < 0):
        raise ValidationError(f"{where}: nodes must be listed graph by graph.")
    if len(graph_of_node) and graph_of_node.max() + 1 > num_graphs:
        raise ValidationError(
            f"{where}: nodes name {graph_of_node.max() + 1} graphs but there are only "
            f"{num_graphs} graph labels."
        )
    edge_graph = graph_of_node[edges[:, 0]]
    crossing = edge_graph != graph_of_node[edges[:, 1]]
    if np.any(crossing):
        row = int(np.flatnonzero(crossing)[0])
        raise ValidationError(
            f"{where}: edge row {row} joins nodes of different graphs; every edge must stay "
            "within one graph.",
            rows=[row],
        )
    node_start = np.searchsorted(graph_of_node, np.arange(num_graphs + 1))
    order = np.argsort(edge_graph, kind="stable")
    edge_start = np.searchsorted(edge_graph[order], np.arange(num_graphs + 1))
    labels = np.asarray(labels)
    graphs = []
    for g in range(num_graphs):
        rows = order[edge_start[g] : edge_start[g + 1]]
        local = edges[rows] - node_start[g]
        extra = {name: tf.constant(values[rows]) for name, values in (edge_features or {}).items()}
        graphs.append(
            tfgnn.GraphTensor.from_pieces(
                context=tfgnn.Context.from_fields(features={label: tf.constant(labels[g : g + 1])}),
                node_sets={
                    node_set: tfgnn.NodeSet.from_fields(
                        sizes=tf.constant([node_start[g + 1] - node_start[g]]),
                        features={
                            feature: tf.constant(node_features[node_start[g] : node_start[g + 1]])
                        },
                    )
                },
                edge_sets={
                    edge_set: tfgnn.EdgeSet.from_fields(
                        sizes=tf.constant([len(rows)]),
                        features=extra,
                        adjacency=tfgnn.Adjacency.from_indices(
                            source=(node_set, tf.constant(local[:, 0])),
                            target=(node_set, tf.constant(local[:, 1])),
                        ),
                    )
                },
            )
        )
    return tuple(graphs)
