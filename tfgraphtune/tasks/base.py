"""The Task protocol: everything about a learning problem that is not the GNN.

A `Task` (compare TF-GNN's ``runner.Task`` and KerasHub's ``Task``) owns, for one task kind:

* its data: `prepare` loads any source (known data set, tables, TFRecord), splits it,
  fits the preprocessing on the training data only and applies it everywhere;
* its model: `build_model` puts the task's head on any `Backbone`;
* its training signal: `loss`, `keras_metrics` (weighted where the task weights rows) and
  `fit_inputs` for ``model.fit``;
* its evaluation: `evaluate` (exact metrics per split, with numpy) and `predictions`;
* its serving outputs: `serving_outputs` (what the exported SavedModel returns).

The one training path (`tfgraphtune.training.train`), the tuner, the exporter and the
benchmarks use tasks only through this protocol, so a capability written once works for
every task kind, and adding a task kind means adding one module to `tfgraphtune.tasks`.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np
import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.data.preprocessing import Preprocessing

# How a task's outputs are laid out per request graph in the serving export.
ROWS = ("nodes", "graphs")


@dataclasses.dataclass
class FitInputs:
    """What ``model.fit`` trains on, as functions of a `tf.distribute.InputContext`.

    Each function is called once per input pipeline (worker) and returns the data set of
    that pipeline's replicas, its elements handed to them in turn (see
    `tfgraphtune.distribute.inputs`); with one replica it is the plain data set.

    Both data sets repeat: an epoch is `steps_per_epoch` steps (one pass over the training
    data), a validation `validation_steps` steps (one pass), as ``fit`` needs for
    distributed data sets.

    Attributes:
      train: Context -> training data set (repeating).
      validation: Context -> validation data set (repeating).
      steps_per_epoch: Steps of one training pass.
      validation_steps: Steps of one validation pass.
      reuse_validation_iterator: Validate over one iterator kept for the whole ``fit``
        (`tfgraphtune.training.validation`): for inputs whose iterators are costly to
        make (sampled subgraphs).
    """

    train: Callable[[tf.distribute.InputContext], tf.data.Dataset]
    validation: Callable[[tf.distribute.InputContext], tf.data.Dataset]
    steps_per_epoch: int = 1
    validation_steps: int = 1
    reuse_validation_iterator: bool = False

    @property
    def epoch_steps(self) -> int:
        """How many steps one epoch takes (learning-rate schedules decay over
        ``epochs * epoch_steps``)."""
        return self.steps_per_epoch


@dataclasses.dataclass
class TaskData:
    """What `Task.prepare` returns: the task's inputs per split, preprocessed.

    Attributes:
      task: The task name.
      schema: The GraphSchema of the raw data.
      node_set: The node set the backbone reads.
      edge_set: The edge set it convolves over.
      feature: The input node feature.
      num_features: Width of that feature.
      feature_dtype: Its raw dtype name (what a serving request carries).
      preprocessing: Fitted on the training data only (see `Preprocessing`).
      splits: Split name -> indices (nodes for node tasks, graphs for graph tasks; link
        prediction splits edges and keeps them in `inputs`).
      num_outputs: Output width: classes, or regression targets.
      target_mean: Mean of the training labels (regression), else None.
      target_std: Their standard deviation (regression), else None.
      notes: What loading and cleaning changed, in words.
      warmup_graph: ``(features, source, target)`` raw arrays of a small request graph
        (serving warmup and export tests).
      inputs: The task's own prepared inputs (a graph, graph batches, an edge split).
      source: The raw data set.
    """

    task: str
    schema: tfgnn.GraphSchema
    node_set: str
    edge_set: str
    feature: str
    num_features: int
    feature_dtype: str
    preprocessing: Preprocessing
    splits: Mapping[str, np.ndarray]
    num_outputs: int
    target_mean: float | None
    target_std: float | None
    notes: tuple[str, ...]
    warmup_graph: tuple[np.ndarray, np.ndarray, np.ndarray]
    inputs: Any
    source: Any


def target_statistics(labels: np.ndarray) -> tuple[float, float]:
    """``(mean, std)`` of training regression targets; a constant target gets std 1."""
    labels = np.asarray(labels, np.float64)
    std = float(labels.std())
    return float(labels.mean()), std if std > 0 else 1.0


def dataset_fields(dataset, graph: tfgnn.GraphTensor) -> dict[str, Any]:
    """The `TaskData` fields every task takes from its raw data set.

    Args:
      dataset: The raw `NodeDataset` or `GraphDataset`.
      graph: A raw graph of it (its feature gives the width and dtype; the first nodes
        make the warmup request).
    """
    raw = graph.node_sets[dataset.node_set][dataset.feature]
    return {
        "schema": dataset.schema,
        "node_set": dataset.node_set,
        "edge_set": dataset.edge_set,
        "feature": dataset.feature,
        "num_features": int(raw.shape[-1]),
        "feature_dtype": raw.dtype.name,
        "notes": tuple(dataset.notes),
        "warmup_graph": request_graph(graph, dataset.node_set, dataset.feature, dataset.edge_set),
        "source": dataset,
    }


def request_graph(
    graph: tfgnn.GraphTensor, node_set: str, feature: str, edge_set: str, num_nodes: int = 32
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The subgraph induced by the first `num_nodes` nodes: raw features and local edges."""
    nodes = graph.node_sets[node_set]
    num_nodes = min(num_nodes, int(nodes.total_size))
    features = nodes[feature].numpy()[:num_nodes]
    adjacency = graph.edge_sets[edge_set].adjacency
    source, target = adjacency.source.numpy(), adjacency.target.numpy()
    keep = (source < num_nodes) & (target < num_nodes)
    return features, source[keep].astype(np.int64), target[keep].astype(np.int64)


class Task(abc.ABC):
    """One task kind. Subclasses set the class attributes and implement the methods.

    Attributes:
      name: The config's ``task`` value.
      rows: What one served output row is about: ``"nodes"`` or ``"graphs"``.
      heads: The ``model.head`` kinds the task can use (empty: it has no ``head``).
      default_head: The head when ``model.head`` is null.
      regression: Whether the outputs are regression targets.
      metric_names: Names of the Keras metrics it logs (``loss`` is always logged, and
        every name again with ``val_``).
      default_objective: ``(metric, direction)`` tuning and reports look at first, named
        as `evaluate` reports it with the split prefix (``val_accuracy``).
      config_keys: Task-specific config keys this task honours, beyond the common ones; a
        non-default value in a task-specific key outside this set is a config error.
    """

    name: ClassVar[str]
    rows: ClassVar[str]
    heads: ClassVar[tuple[str, ...]] = ()
    default_head: ClassVar[str | None] = None
    regression: ClassVar[bool] = False
    metric_names: ClassVar[tuple[str, ...]] = ()
    default_objective: ClassVar[tuple[str, str]] = ("val_loss", "min")
    config_keys: ClassVar[frozenset[str]] = frozenset()
    # Whether Keras metrics use the sample weights (node tasks weight the split's rows).
    metrics_weighted: ClassVar[bool] = True
    # Defaults the common code needs to tell "set by the user" from "left alone".
    TASK_SPECIFIC_DEFAULTS: ClassVar[dict[str, Any]] = {
        "model.readout": "sum",
        "model.decoder": "dot",
        "train.negatives_per_positive": 1,
        "train.label_smoothing": 0.0,
        "data.folds": 10,
        "data.fold": 0,
        "data.validation_fraction": 0.1,
        "data.val_fraction": 0.05,
        "data.test_fraction": 0.1,
        "data.sampling.fanouts": None,
        "data.sampling.samples": None,
        "data.interactions.path": None,
        "data.interactions.movielens_dir": None,
        "data.interactions.train_path": None,
        "model.recommender": "lightgcn",
        "model.embedding_dim": 64,
        "model.side_features": False,
        "train.contrastive_weight": 0.0,
        "train.bpr_weight": 1.0,
        "train.ks": [10, 20],
    }

    # --- configuration -------------------------------------------------------------

    def head_of(self, config: Mapping[str, Any]) -> str | None:
        """The head kind the config asks for (``model.head``, else the task's default)."""
        return config["model"]["head"] or self.default_head

    def head_options(self, data: TaskData, config: Mapping[str, Any]) -> dict[str, Any]:
        """A task model's head arguments: the config's head and the data's target scaling."""
        model = config["model"]
        return {
            "head": self.head_of(config),
            "head_dropout": model["head_dropout"],
            "head_hidden_units": model["head_hidden_units"],
            "target_mean": data.target_mean,
            "target_std": data.target_std,
        }

    def logged_metrics(self) -> list[str]:
        """Every name ``model.fit`` logs for this task (``loss``, metrics, ``val_`` ones)."""
        names = ["loss", *self.metric_names]
        return names + [f"val_{name}" for name in names] + list(self.extra_logged)

    def check_config(self, config: Mapping[str, Any]) -> list[str]:
        """Settings this task cannot honour, one message each (empty when all can).

        Checked at config load, before any data is read: a head the task has no use for,
        a task-specific key of another task set to a non-default value, an early-stopping
        monitor that no metric logs.
        """
        problems = []
        head = config["model"]["head"]
        if head is not None and head not in self.heads:
            allowed = f"one of {list(self.heads)} or null" if self.heads else "null"
            problems.append(
                f"config key 'model.head' is {head!r}, which task {self.name!r} cannot use; "
                f"set it to {allowed}"
            )
        for dotted, default in self.TASK_SPECIFIC_DEFAULTS.items():
            value = config
            for part in dotted.split("."):
                value = value[part]
            if dotted not in self.config_keys and value != default:
                problems.append(
                    f"config key {dotted!r} is set to {value!r}, but task "
                    f"{self.name!r} does not use it; remove it (default {default!r})"
                )
        stopping = config["train"]["early_stopping"] or {}
        monitor = stopping.get("monitor", "val_loss")
        if stopping.get("patience") and monitor not in self.logged_metrics():
            problems.append(
                f"config key 'train.early_stopping.monitor' is {monitor!r}, which task "
                f"{self.name!r} does not log, so early stopping would never trigger; use one of "
                f"{self.logged_metrics()}"
            )
        return problems

    # --- data ----------------------------------------------------------------------

    @abc.abstractmethod
    def prepare(
        self,
        config: Mapping[str, Any],
        *,
        preprocessing: Preprocessing | None = None,
        gcn_normalization: bool = False,
        source=None,
    ) -> TaskData:
        """Loads, splits and preprocesses the config's data.

        Args:
          config: A full config.
          source: A raw `NodeDataset` / `GraphDataset` to use instead of the config's
            ``data`` source (a graph built in Python, a grown graph for continual
            fine-tuning).
          preprocessing: A stored `Preprocessing` to apply instead of fitting one (what
            evaluating a run folder does, so it sees exactly the training inputs).
          gcn_normalization: Whether to cache GCN coefficients on fixed graphs (the
            backbone or head uses GCN convolutions).
        """

    # --- model ---------------------------------------------------------------------

    @abc.abstractmethod
    def build_model(self, backbone, data: TaskData, config: Mapping[str, Any]) -> tf.keras.Model:
        """The task's Keras model around `backbone` (not yet called)."""

    def example_inputs(self, graph: tfgnn.GraphTensor) -> Any:
        """What the model is called with, for a graph (to build its weights)."""
        return graph

    def build_inputs(self, data: TaskData) -> Any:
        """Model inputs that create every weight, from prepared data."""
        return self.example_inputs(self.any_graph(data))

    def output_fields(self, dataset, train_labels: np.ndarray) -> dict[str, Any]:
        """`TaskData`'s output width and (regression) training target statistics."""
        if not self.regression:
            return {"num_outputs": dataset.num_classes, "target_mean": None, "target_std": None}
        mean, std = target_statistics(train_labels)
        return {"num_outputs": 1, "target_mean": mean, "target_std": std}

    @abc.abstractmethod
    def any_graph(self, data: TaskData) -> tfgnn.GraphTensor:
        """A preprocessed graph of the data the model accepts."""

    @abc.abstractmethod
    def loss(self, config: Mapping[str, Any]) -> tf.keras.losses.Loss:
        """The training loss."""

    @abc.abstractmethod
    def keras_metrics(self, config: Mapping[str, Any]) -> list[tf.keras.metrics.Metric]:
        """Metrics logged by ``fit`` (names as in `metric_names`)."""

    @abc.abstractmethod
    def fit_inputs(self, data: TaskData, config: Mapping[str, Any]) -> FitInputs:
        """The training and validation data sets."""

    def training_callbacks(self, data: TaskData) -> list[tf.keras.callbacks.Callback]:
        """Callbacks that log task metrics Keras cannot compute (run before early stopping)."""
        return []

    # Names those callbacks log (with their ``val_`` prefix), for early stopping checks.
    extra_logged: ClassVar[tuple[str, ...]] = ()

    # --- evaluation ----------------------------------------------------------------

    @abc.abstractmethod
    def evaluate(self, model: tf.keras.Model, data: TaskData) -> dict[str, dict[str, float]]:
        """Exact metrics per split (``train``, ``validation``, ``test``)."""

    def tables(self, model: tf.keras.Model, data: TaskData) -> dict[str, Any]:
        """Extra result tables for the run folder (e.g. per-class test report)."""
        return {}

    # --- pictures ------------------------------------------------------------------

    def embeddings(self, model: tf.keras.Model, data: TaskData) -> tuple[np.ndarray, Any]:
        """``(embeddings, colours)``: the learned embedding of every row this task predicts
        (nodes or graphs) and what to colour them by (class ids, targets, or None)."""
        raise NotImplementedError

    def test_predictions(
        self, model: tf.keras.Model, data: TaskData
    ) -> tuple[np.ndarray, np.ndarray, str]:
        """``(labels, outputs, split)`` of the test split (validation when there is no test
        split) for the task's pictures."""
        raise NotImplementedError

    def figures(self, model: tf.keras.Model, data: TaskData) -> dict[str, Any]:
        """The run folder's pictures of this task's predictions, name -> matplotlib Figure.

        The base draws the embedding projection; the kinds add theirs (confusion matrix,
        predicted vs true, ROC and precision-recall curves) by extending this method.
        """
        from tfgraphtune.reporting import plots

        try:
            embeddings, colours = self.embeddings(model, data)
        except NotImplementedError:
            return {}
        return {"embeddings": plots.embedding_projection(embeddings, colours, what=self.rows[:-1])}

    # --- serving -------------------------------------------------------------------

    @abc.abstractmethod
    def serving_outputs(self, model: tf.keras.Model, graph: tfgnn.GraphTensor) -> dict:
        """The export's outputs on a merged request graph, one row per `rows`."""

    serving_outputs_doc: ClassVar[str] = ""
    # Whether the model is a head on a `Backbone` (one node set, one edge set). A
    # recommender's model carries its own bipartite user-item graph and per-id
    # embeddings, so `train` asks `build_model(None, ...)` for it (or, resuming a run,
    # `build_model(resumed_model, ...)`) and skips the backbone-only steps (fine-tuning
    # strategies, pre-trained backbones); see `tfgraphtune.tasks.recommendation`.
    uses_backbone: ClassVar[bool] = True
    # Whether `export` writes its own SavedModel (`export_run(run, out, ...)`) instead of
    # the graph-request module (retrieval exports take ids, not graphs).
    exports_itself: ClassVar[bool] = False

    # Pair scoring (link prediction): the export adds signatures taking node pairs.
    scores_pairs: ClassVar[bool] = False

    def pair_scores(self, model, graph: tfgnn.GraphTensor, pairs: tf.Tensor) -> dict:
        """Outputs per node pair (only tasks with ``scores_pairs``)."""
        raise NotImplementedError(f"task {self.name!r} does not score node pairs.")
