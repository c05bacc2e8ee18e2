"""What the convolutions share: option checks, kernel creation and ``H W`` projection."""

from __future__ import annotations

from typing import Any

import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.layers import propagation


def check_units(units: Any) -> int:
    """Returns `units` if it is a positive integer.

    Raises:
      ValueError: Otherwise, with the value received.
    """
    if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
        raise ValueError(
            "Received an invalid value for units, expected a positive integer. "
            f"Received: units={units!r}"
        )
    return units


def project(node_states: tf.Tensor | tf.SparseTensor, kernel: tf.Variable) -> tf.Tensor:
    """``node_states @ kernel`` for dense or sparse node states."""
    if isinstance(node_states, tf.SparseTensor):
        return tf.sparse.sparse_dense_matmul(node_states, kernel)
    return tf.matmul(node_states, kernel)


def homogeneous_edge_set(graph: tfgnn.GraphTensor, edge_set_name: str | None, layer: str):
    """Returns ``(name, edge_set, node_set)`` for an edge set within one node set.

    Raises:
      ValueError: The edge set is unknown or connects two different node sets.
    """
    name = propagation.single_edge_set(graph, edge_set_name)
    edge_set = graph.edge_sets[name]
    adjacency = edge_set.adjacency
    if adjacency.source_name != adjacency.target_name:
        raise ValueError(
            f"{layer} needs an edge set within one node set; {name!r} goes from "
            f"{adjacency.source_name!r} to {adjacency.target_name!r}."
        )
    return name, edge_set, graph.node_sets[adjacency.target_name]


def fresh_initializer(initializer):
    """A new instance of a Keras initializer, so two weights never share initial values.

    An unseeded initializer instance returns the same values on every call; one instance per
    weight keeps, for example, GraphSAGE's self and neighbour kernels different.
    """
    return initializer.__class__.from_config(initializer.get_config())
