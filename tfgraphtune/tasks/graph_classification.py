"""Graph classification: a class per graph (MUTAG, molecules from your tables)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfgraphtune.tasks.base import classification_outputs
from tfgraphtune.tasks.graph_task import GraphTask
from tfgraphtune.training.evaluation import classification_metrics, per_class_report
from tfgraphtune.training.losses import SparseCategoricalCrossentropyWithSmoothing
from tfgraphtune.training.ranking_metrics import roc_auc


class GraphClassification(GraphTask):
    """Cross-entropy on graph class ids; accuracy, macro-F1 (and ROC-AUC for two classes).

    Served: ``logits``, ``probabilities``, ``class_ids`` and the pooled readout the head
    sees as ``embeddings``, one row per request graph.
    """

    name = "graph_classification"
    metric_names = ("accuracy",)
    default_objective = ("val_accuracy", "max")
    config_keys = GraphTask.config_keys | {"train.label_smoothing"}
    serving_outputs_doc = (
        "`logits`, `probabilities` [B,C], `class_ids` [B], `embeddings` [B,D] (the pooled "
        "graph readout the head sees), `num_nodes` [B]; one row per request graph."
    )

    def loss(self, config):
        return SparseCategoricalCrossentropyWithSmoothing(config["train"]["label_smoothing"])

    def keras_metrics(self, config):
        return [tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy")]

    def score(self, labels, outputs):
        metrics = classification_metrics(labels, outputs)
        if outputs.shape[-1] == 2 and len(np.unique(labels)) == 2:
            metrics["roc_auc"] = roc_auc(labels, outputs[:, 1] - outputs[:, 0])
        return metrics

    def tables(self, model, data):
        if "test" not in data.inputs:
            return {}
        labels, outputs = self.predictions(model, data, "test")
        return {"per_class_test": per_class_report(labels, outputs)}

    def outputs_from(self, values, embeddings):
        return classification_outputs(values, embeddings)
