"""Knowledge distillation from a trained teacher run (Hinton et al., 2015; GLNN, 2022).

``finetune.distill.teacher: RUN_DIR`` trains the config's model as a student of the
teacher run's node classifier:

    loss = alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T))   on every node
         + (1 - alpha) * CE(labels, student)                              on training nodes

Soft targets on every node of the graph (labelled or not) follow GLNN (Zhang et al.,
"Graph-less Neural Networks", ICLR 2022); ``T^2`` keeps the soft term's gradients at the
hard term's scale (Hinton et al.). ``student: gnn`` trains the config's GNN (usually
smaller than the teacher); ``student: mlp`` an `MLPBackbone` on node features alone, whose
export answers one node from its features, without the graph.

The run goes through the one train path: a `DistilledTask` wraps the node classification
task so only its training signal changes (what ``fit`` iterates, the loss, the logged
accuracy); the run folder, evaluation and export are those of any node classification run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import tensorflow as tf

from tfgraphtune.tasks.base import FitInputs, TaskData

STUDENTS = ("gnn", "mlp")
# Tasks a teacher's soft targets apply to (one class distribution per node).
DISTILLABLE_TASKS = ("node_classification",)


def settings(config: Mapping[str, Any]) -> dict[str, Any] | None:
    """The config's ``finetune.distill`` section when a teacher is set, else None."""
    distill = (config.get("finetune") or {}).get("distill") or {}
    return dict(distill) if distill.get("teacher") else None


def student_kind(config: Mapping[str, Any]) -> str | None:
    """``"gnn"`` or ``"mlp"`` when distilling, else None."""
    distill = settings(config)
    return distill["student"] if distill else None


def check(config: Mapping[str, Any], task) -> list[str]:
    """What a distillation config cannot do, one message each (checked before data)."""
    from tfgraphtune.data.errors import ValidationError
    from tfgraphtune.training import run_folder

    distill = settings(config)
    if distill is None:
        return []
    problems = []
    if task.name not in DISTILLABLE_TASKS:
        return [
            f"config key 'finetune.distill.teacher' is set, but task {task.name!r} cannot be "
            f"distilled: soft targets apply to {list(DISTILLABLE_TASKS)}; remove "
            "finetune.distill.teacher"
        ]
    try:
        teacher_task = run_folder.read_run_config(distill["teacher"])["task"]
    except ValidationError as err:
        return [f"config key 'finetune.distill.teacher': {err}"]
    if teacher_task != task.name:
        problems.append(
            f"config key 'finetune.distill.teacher' names a {teacher_task} run; a "
            f"{task.name} student needs a {task.name} teacher"
        )
    finetune = config["finetune"]
    if config["data"]["sampling"]["fanouts"]:
        problems.append(
            "config key 'data.sampling.fanouts' is set, but distillation trains full batch "
            "(soft targets on every node); set it to null"
        )
    if distill["student"] == "mlp":
        if finetune["backbone"] or finetune["resume"] or finetune["strategy"] != "full":
            problems.append(
                "config key 'finetune.distill.student' is 'mlp', which trains a new MLP "
                "from scratch: remove finetune.backbone / finetune.resume and use strategy "
                "full"
            )
        if config["model"]["head"] == "gcn":
            problems.append(
                "config key 'model.head' is 'gcn', but an MLP student serves without the "
                "graph; set it to linear, mlp or null (linear)"
            )
    return problems


def teacher_logits(teacher_dir, config: Mapping[str, Any], data: TaskData) -> np.ndarray:
    """The teacher run's logits ``[N, C]`` for every node of the student's data.

    The teacher sees its own preprocessing of the same data set; its nodes and labels must
    be the student's.

    Raises:
      ConfigError: The teacher was trained on other nodes, labels or classes.
    """
    from tfgraphtune.training import backbones, run_folder
    from tfgraphtune.training.config import ConfigError
    from tfgraphtune.training.train import prepare_data

    run = run_folder.load_run(teacher_dir)
    teacher_config = dict(run.config)
    data_dir = config["data"].get("data_dir")
    if data_dir:
        teacher_config["data"] = {**teacher_config["data"], "data_dir": data_dir}
    source = backbones.BackboneSource(backbones.SCRATCH, None, run.model.backbone.get_config())
    teacher_data = prepare_data(teacher_config, run.task, source, preprocessing=run.preprocessing)
    same = teacher_data.num_outputs == data.num_outputs and np.array_equal(
        teacher_data.source.labels, data.source.labels
    )
    if not same:
        raise ConfigError(
            f"config key 'finetune.distill.teacher': {teacher_dir} was trained on other data "
            f"({teacher_data.source.name!r}: {teacher_data.source.num_nodes} nodes, "
            f"{teacher_data.num_outputs} classes; the student's {data.source.name!r} has "
            f"{data.source.num_nodes} nodes, {data.num_outputs} classes, or other labels)"
        )
    return run.model(teacher_data.inputs, training=False).numpy().astype(np.float32)


def pack_targets(labels, kl_weights, ce_weights, teacher: np.ndarray) -> np.ndarray:
    """``[N, 3 + C]`` targets: label, soft-term weight, hard-term weight, teacher logits."""
    columns = [np.asarray(x, np.float32)[:, None] for x in (labels, kl_weights, ce_weights)]
    return np.concatenate([*columns, teacher.astype(np.float32)], axis=1)


@tf.keras.utils.register_keras_serializable(package="tfgraphtune")
class DistillationLoss(tf.keras.losses.Loss):
    """Per node: ``alpha T^2 KL(teacher_T || student_T) w_kl + (1 - alpha) CE w_ce``.

    ``y_true`` is `pack_targets`'s ``[N, 3 + C]``; the per-node weights in it make the
    Keras mean over the batch's rows the mean KL over the soft-target nodes plus the mean
    cross-entropy over the labelled nodes.

    Args:
      temperature: ``T`` > 0.
      alpha: Weight of the soft term in [0, 1].
    """

    def __init__(self, temperature: float = 1.0, alpha: float = 0.5, **kwargs):
        kwargs.setdefault("name", "distillation")
        super().__init__(**kwargs)
        self.temperature = float(temperature)
        self.alpha = float(alpha)

    def call(self, y_true, y_pred):
        y_true = tf.cast(y_true, y_pred.dtype)
        labels = tf.cast(y_true[:, 0], tf.int64)
        kl_weight, ce_weight, teacher = y_true[:, 1], y_true[:, 2], y_true[:, 3:]
        t = self.temperature
        teacher_log = tf.nn.log_softmax(teacher / t)
        student_log = tf.nn.log_softmax(y_pred / t)
        kl = tf.reduce_sum(tf.exp(teacher_log) * (teacher_log - student_log), axis=-1)
        # Labels of rows with zero weight may be anything (-1): clip them into range.
        safe = tf.clip_by_value(labels, 0, tf.cast(tf.shape(y_pred)[-1] - 1, tf.int64))
        ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=safe, logits=y_pred)
        return self.alpha * t * t * kl * kl_weight + (1 - self.alpha) * ce * ce_weight

    def get_config(self) -> dict:
        return {**super().get_config(), "temperature": self.temperature, "alpha": self.alpha}


class DistilledAccuracy(tf.keras.metrics.Mean):
    """Accuracy on the labelled rows of `pack_targets`'s targets (logged as ``accuracy``)."""

    def __init__(self, name: str = "accuracy", **kwargs):
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels = tf.cast(y_true[:, 0], tf.int64)
        weights = tf.cast(y_true[:, 2] > 0, tf.float32)
        if sample_weight is not None:
            weights *= tf.reshape(tf.cast(sample_weight, tf.float32), [-1])
        correct = tf.cast(tf.equal(tf.argmax(y_pred, axis=-1), labels), tf.float32)
        return super().update_state(correct, sample_weight=weights)


class DistilledTask:
    """A node classification `Task` whose training signal is the teacher's plus the labels.

    Every other method and attribute is the wrapped task's (its name too, so the run
    folder is a plain node classification run).
    """

    def __init__(self, task, distill: Mapping[str, Any], teacher: np.ndarray):
        self._task = task
        self.distill = dict(distill)
        self.teacher = teacher

    def __getattr__(self, name):
        return getattr(self._task, name)

    def fit_inputs(self, data: TaskData, config) -> FitInputs:
        num_nodes = data.source.num_nodes
        labels = data.source.labels

        def element(ids, kl_everywhere: bool):
            rows = np.zeros(num_nodes, np.float32)
            rows[ids] = num_nodes / max(len(ids), 1)
            kl = np.ones(num_nodes, np.float32) if kl_everywhere else rows
            targets = pack_targets(labels, kl, rows, self.teacher)
            value = (data.inputs, tf.constant(targets), tf.ones([num_nodes], tf.float32))

            def dataset_fn(context):
                return tf.data.Dataset.from_tensors(value).repeat()

            return dataset_fn

        # Training: soft targets on every node (GLNN), labels on the training nodes.
        # Validation: both terms on the validation nodes (val_loss), accuracy there.
        return FitInputs(
            element(data.splits["train"], True), element(data.splits["validation"], False)
        )

    def loss(self, config):
        return DistillationLoss(self.distill["temperature"], self.distill["alpha"])

    def keras_metrics(self, config):
        return [DistilledAccuracy()]

    def training_callbacks(self, data):
        return []


def wrap(task, config: Mapping[str, Any], data: TaskData):
    """`task` itself, or a `DistilledTask` when the config names a teacher."""
    distill = settings(config)
    if distill is None:
        return task
    return DistilledTask(task, distill, teacher_logits(distill["teacher"], config, data))


def build_mlp_student(config: Mapping[str, Any], task, data: TaskData):
    """The MLP student: `MLPBackbone` on the config's ``model`` widths, a linear/MLP head."""
    from tfgraphtune.models.mlp_backbone import MLPBackbone
    from tfgraphtune.models.tasks.node_classification import NodeModel

    model = config["model"]
    backbone = MLPBackbone(
        node_set=data.node_set,
        feature=data.feature,
        hidden_units=model["hidden_units"],
        num_layers=model["num_layers"],
        activation=model["activation"] if model["activation"] != "prelu" else "relu",
        dropout=model["dropout"],
        input_dropout=model["input_dropout"],
        l2=model["l2"],
        name="mlp_backbone",
    )
    return NodeModel(
        backbone,
        data.num_outputs,
        head=model["head"] or "linear",
        head_dropout=model["head_dropout"],
        head_hidden_units=model["head_hidden_units"],
    )
