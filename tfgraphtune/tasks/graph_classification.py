"""Graph classification: a class per graph (MUTAG, molecules from your tables)."""

from __future__ import annotations

from tfgraphtune.tasks.graph_task import GraphTask
from tfgraphtune.tasks.kinds import Classification
from tfgraphtune.training.evaluation import per_class_report


class GraphClassification(Classification, GraphTask):
    """A class per graph; folds stratified by class."""

    name = "graph_classification"
    config_keys = GraphTask.config_keys | {"train.label_smoothing"}
    serving_outputs_doc = (
        "`logits`, `probabilities` [B,C], `class_ids` [B], `embeddings` [B,D] (the pooled "
        "graph readout the head sees), `num_nodes` [B]; one row per request graph."
    )

    def tables(self, model, data):
        if "test" not in data.inputs:
            return {}
        labels, outputs = self.predictions(model, data, "test")
        return {"per_class_test": per_class_report(labels, outputs)}
