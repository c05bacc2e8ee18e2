"""Node classification: a class per node of one graph (Cora, CiteSeer, your own tables)."""

from __future__ import annotations

import tensorflow as tf

from tfgraphtune.tasks.base import classification_outputs
from tfgraphtune.tasks.node_task import NodeTask
from tfgraphtune.training.evaluation import classification_metrics, per_class_report
from tfgraphtune.training.losses import SparseCategoricalCrossentropyWithSmoothing


class NodeClassification(NodeTask):
    """Cross-entropy (with optional label smoothing) on the training nodes' class ids.

    Metrics: accuracy (Keras, weighted to the split's nodes) during training; accuracy and
    macro-F1 per split at evaluation. Served: ``logits``, ``probabilities``, ``class_ids``
    and the backbone's ``embeddings`` per node.
    """

    name = "node_classification"
    metric_names = ("accuracy",)
    default_objective = ("val_accuracy", "max")
    config_keys = frozenset({"train.label_smoothing"})
    serving_outputs_doc = (
        "`logits`, `probabilities` [B,N,C], `class_ids` [B,N] (-1 on padding), "
        "`embeddings` [B,N,H] (the backbone's node embeddings), `num_nodes` [B]."
    )

    def loss(self, config):
        return SparseCategoricalCrossentropyWithSmoothing(config["train"]["label_smoothing"])

    def keras_metrics(self, config):
        return [tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy")]

    def score(self, labels, outputs):
        return classification_metrics(labels, outputs)

    def tables(self, model, data):
        test = data.splits.get("test")
        if test is None or not len(test):
            return {}
        outputs = self.outputs(model, data)
        return {"per_class_test": per_class_report(data.source.labels[test], outputs[test])}

    def outputs_from(self, values, embeddings):
        return classification_outputs(values, embeddings)
