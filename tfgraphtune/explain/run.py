"""Explaining one prediction of a model, or of a run folder's model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.data.errors import ValidationError
from tfgraphtune.explain.explanation import Explanation
from tfgraphtune.explain.gnnexplainer import gnn_explainer
from tfgraphtune.explain.integrated_gradients import integrated_gradients
from tfgraphtune.explain.scoring import Scorer
from tfgraphtune.layers.conv_base import GraphConv

METHODS = ("ig", "gnnexplainer")


class ExplainError(ValidationError):
    """An explanation that cannot be made: unknown node or graph, a task without one."""


def message_passing_layers(model: tf.keras.Model) -> int:
    """How many graph convolutions a model stacks (the explained node's receptive field)."""
    return sum(isinstance(layer, GraphConv) for layer in model._flatten_layers())


def hop_distances(source: np.ndarray, target: np.ndarray, num_nodes: int, start: int,
                  max_hops: int) -> np.ndarray:  # fmt: skip
    """``[N]`` hops from each node to `start` along edge directions (-1 beyond `max_hops`).

    A node ``u`` is ``h`` hops away when a path of ``h`` edges leads from ``u`` to `start`:
    its features reach `start` after ``h`` rounds of messages.
    """
    hops = np.full(num_nodes, -1, np.int64)
    hops[start] = 0
    frontier = np.array([start])
    for hop in range(1, max_hops + 1):
        incoming = np.isin(target, frontier)
        new = np.unique(source[incoming])
        new = new[hops[new] < 0]
        if not len(new):
            break
        hops[new] = hop
        frontier = new
    return hops


def explain_model(
    model: tf.keras.Model,
    graph: tfgnn.GraphTensor,
    *,
    node_set: str,
    feature: str,
    edge_set: str,
    kind: str = "node",
    index: int = 0,
    method: str = "ig",
    output: int | None = None,
    regression: bool = False,
    steps: int = 128,
    epochs: int = 200,
    seed: int = 0,
) -> Explanation:
    """Explains one output row of `model` on `graph`.

    Args:
      model: A task model (node or graph outputs).
      graph: The preprocessed graph it is called with.
      node_set, feature, edge_set: What its backbone reads.
      kind: ``"node"`` (explain row `index` = a node) or ``"graph"`` (row `index` = a
        graph component; `graph` holds it alone).
      index: The node id or graph component.
      method: ``"ig"`` or ``"gnnexplainer"``.
      output: The output column explained; default the predicted class (0 for regression).
      regression: Whether the outputs are regression values.
      steps: Integrated gradients' trapezoid intervals.
      epochs: GNNExplainer's optimization steps.
      seed: GNNExplainer's mask initialization seed.
    """
    if method not in METHODS:
        raise ValueError(f"Received an invalid value for method, expected one of "
                         f"{list(METHODS)}. Received: method={method!r}")  # fmt: skip
    edges = graph.edge_sets[edge_set].adjacency
    source, target = edges.source.numpy().astype(np.int64), edges.target.numpy().astype(np.int64)
    num_nodes = int(graph.node_sets[node_set].total_size)
    layers = message_passing_layers(model)
    if kind == "node":
        hops = hop_distances(source, target, num_nodes, index, layers)
        # Edges whose message reaches the node within the model's layers.
        in_scope = (hops[target] >= 0) & (hops[target] < layers)
    else:
        hops = np.zeros(num_nodes, np.int64)
        in_scope = np.ones(len(source), bool)
    row = index if kind == "node" else 0
    scorer = Scorer(model, graph, node_set, feature, edge_set, row, 0)
    prediction = scorer.outputs(scorer.features, tf.ones([len(source)])).numpy()
    if output is None:
        output = 0 if regression else int(np.argmax(prediction))
    if not 0 <= output < len(prediction):
        raise ExplainError(
            f"output {output} does not exist: the model has {len(prediction)} outputs "
            f"(0..{len(prediction) - 1})."
        )
    scorer.output = int(output)
    if method == "ig":
        result = integrated_gradients(scorer, steps=steps)
        total = float(result.features.sum(dtype=np.float64) + result.edges.sum(dtype=np.float64))
        feature_importance = result.features.sum(axis=0)
        edge_importance = np.where(in_scope, result.edges, 0.0)
        node_importance = result.features.sum(axis=1)
        details = {
            "steps": steps,
            "score": result.score,
            "baseline_score": result.baseline_score,
            "attribution_sum": total,
            "completeness_error": result.completeness_error,
            "baseline": "features 0, edge weights 0",
        }
    else:
        masks = gnn_explainer(
            scorer, edges_in_scope=in_scope, epochs=epochs, regression=regression, seed=seed
        )
        feature_importance = masks.features
        edge_importance = masks.edges
        magnitude = np.abs(scorer.features.numpy()) @ masks.features
        node_importance = np.where(hops >= 0, magnitude, 0.0)
        details = {"epochs": epochs, "loss": masks.loss}
    details["message_passing_layers"] = layers
    return Explanation(
        kind=kind,
        index=int(index),
        method=method,
        output=int(output),
        prediction=prediction,
        feature_importance=np.asarray(feature_importance, np.float64),
        edge_importance=np.asarray(edge_importance, np.float64),
        node_importance=np.asarray(node_importance, np.float64),
        source=source,
        target=target,
        hops=hops,
        details=details,
    )


def explain_run(
    run_dir: str | Path,
    *,
    node: int | None = None,
    graph: int | None = None,
    method: str = "ig",
    output: int | None = None,
    steps: int = 128,
    epochs: int = 200,
    data_dir: str | None = None,
) -> Explanation:
    """Explains one prediction of a run folder's model on the run's own data.

    Node tasks take `node` (a row of the run's node set, as in the data set's order) on
    the preprocessed graph evaluation sees; graph tasks take `graph` (an index into the
    data set's graphs), preprocessed as a served request is.

    Raises:
      ExplainError: The wrong one of `node`/`graph` for the task, an unknown node or
        graph, a task that has no per-node or per-graph prediction (link prediction).
      RunFolderError: A damaged run folder.
    """
    from tfgraphtune.data import sources
    from tfgraphtune.training import backbones, run_folder
    from tfgraphtune.training.train import prepare_data

    run = run_folder.load_run(run_dir)
    task = run.task
    if task.scores_pairs or not task.heads:
        raise ExplainError(
            f"{run_dir} is a {task.name} run; explain takes node or graph classification "
            "and regression runs."
        )
    config = dict(run.config)
    if data_dir is not None:
        config["data"] = {**config["data"], "data_dir": data_dir}
    si = run.serving_input
    common = {
        "node_set": si.node_set,
        "feature": si.feature,
        "edge_set": si.edge_set,
        "method": method,
        "output": output,
        "regression": task.regression,
        "steps": steps,
        "epochs": epochs,
    }
    if task.rows == "nodes":
        if node is None:
            raise ExplainError(f"{run_dir} is a {task.name} run: pass --node ID, not --graph.")
        source = backbones.BackboneSource(backbones.SCRATCH, None, run.model.backbone.get_config())
        data = prepare_data(config, task, source, preprocessing=run.preprocessing)
        num_nodes = int(data.inputs.node_sets[si.node_set].total_size)
        if not 0 <= node < num_nodes:
            raise ExplainError(
                f"node {node} is not in the run's graph: node set {si.node_set!r} has "
                f"{num_nodes} nodes, ids 0..{num_nodes - 1}."
            )
        return explain_model(run.model, data.inputs, kind="node", index=node, **common)
    if graph is None:
        raise ExplainError(f"{run_dir} is a {task.name} run: pass --graph INDEX, not --node.")
    dataset = sources.load_graph_data(config["data"])
    if not 0 <= graph < len(dataset.graphs):
        raise ExplainError(
            f"graph {graph} is not in the run's data set {dataset.name!r}: it has "
            f"{len(dataset.graphs)} graphs, indices 0..{len(dataset.graphs) - 1}."
        )
    raw = dataset.graphs[graph]
    adjacency = raw.edge_sets[si.edge_set].adjacency
    request = run.request_graph(
        raw.node_sets[si.node_set][si.feature].numpy(),
        adjacency.source.numpy(),
        adjacency.target.numpy(),
    )
    return explain_model(run.model, request, kind="graph", index=graph, **common)
