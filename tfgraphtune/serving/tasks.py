"""What each exportable task serves: its output tensors and what one output row stands for.

A task's outputs are computed from the Keras model on the merged request graph (one
component per request row). ``rows`` says how the exported module shapes them:

``"nodes"``
  One row per node of the served node set; the module pads them to ``[B, N, ...]``
  (padded rows hold 0, class id -1).
``"graphs"``
  One row per request graph (per component), ``[B, ...]``; nothing to pad.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import tensorflow as tf
import tensorflow_gnn as tfgnn

ROWS = ("nodes", "graphs")
# What padded rows of a "nodes" task hold, per output (0 for the others).
PAD_VALUES = {"class_ids": -1}

# (keras model, merged graph) -> {output name: tensor with one row per `rows`}.
TaskOutputs = Callable[[tf.keras.Model, tfgnn.GraphTensor], Mapping[str, tf.Tensor]]


@dataclasses.dataclass(frozen=True)
class ServingTask:
    """An exportable task.

    Attributes:
      name: The task name of the run config.
      outputs: Computes the outputs (the same computation as ``model(graph)``).
      rows: ``"nodes"`` or ``"graphs"`` (see the module docstring).
      outputs_doc: The outputs, with shapes, for the export's README.
    """

    name: str
    outputs: TaskOutputs
    rows: str
    outputs_doc: str

    def __post_init__(self):
        if self.rows not in ROWS:
            raise ValueError(
                f"Received an invalid value for rows, expected one of {list(ROWS)}. "
                f"Received: rows={self.rows!r}"
            )


def _classification(logits: tf.Tensor, embeddings: tf.Tensor) -> dict[str, tf.Tensor]:
    return {
        "logits": logits,
        "probabilities": tf.nn.softmax(logits, axis=-1),
        "class_ids": tf.argmax(logits, axis=-1, output_type=tf.int64),
        "embeddings": embeddings,
    }


def node_classification_outputs(model, graph: tfgnn.GraphTensor) -> dict[str, tf.Tensor]:
    """Per-node outputs of a `NodeModel`.

    Args:
      model: The trained `NodeModel`.
      graph: The merged request graph.

    Returns:
      ``logits``, ``probabilities`` ``[nodes, C]``, ``class_ids`` ``[nodes]`` and the
      backbone's ``embeddings`` ``[nodes, H]``.
    """
    embeddings = model.backbone(graph, training=False)
    logits = model.head(embeddings, graph=graph, training=False)
    return _classification(logits, embeddings)


def graph_classification_outputs(model, graph: tfgnn.GraphTensor) -> dict[str, tf.Tensor]:
    """Per-graph outputs of a `GraphModel`.

    Args:
      model: The trained `GraphModel`.
      graph: The merged request graph, one component per request graph.

    Returns:
      ``logits``, ``probabilities`` ``[graphs, C]``, ``class_ids`` ``[graphs]`` and the
      pooled readout the head sees as ``embeddings`` ``[graphs, D]``.
    """
    embeddings = model.graph_embeddings(graph, training=False)
    logits = model.head(embeddings, training=False)
    return _classification(logits, embeddings)


SERVING_TASKS: dict[str, ServingTask] = {
    task.name: task
    for task in (
        ServingTask(
            "node_classification",
            node_classification_outputs,
            "nodes",
            "`logits`, `probabilities` [B,N,C], `class_ids` [B,N] (-1 on padding), "
            "`embeddings` [B,N,H] (the backbone's node embeddings), `num_nodes` [B].",
        ),
        ServingTask(
            "graph_classification",
            graph_classification_outputs,
            "graphs",
            "`logits`, `probabilities` [B,C], `class_ids` [B], `embeddings` [B,D] (the "
            "pooled graph readout the head sees), `num_nodes` [B]; one row per request graph.",
        ),
    )
}


def serving_task(task: str) -> ServingTask:
    """The `ServingTask` called `task`.

    Args:
      task: A task name, e.g. ``"graph_classification"``.

    Returns:
      Its `ServingTask`.

    Raises:
      ValueError: The task cannot be exported; the message names it and the tasks that can.
    """
    if task not in SERVING_TASKS:
        raise ValueError(
            f"task {task!r} cannot be exported; exportable tasks: "
            f"{', '.join(sorted(SERVING_TASKS))}."
        )
    return SERVING_TASKS[task]
