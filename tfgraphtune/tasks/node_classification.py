"""Node classification: a class per node of one graph (Cora, CiteSeer, your own tables)."""

from __future__ import annotations

from tfgraphtune.tasks.kinds import Classification
from tfgraphtune.tasks.node_task import NodeTask
from tfgraphtune.training.evaluation import per_class_report


class NodeClassification(Classification, NodeTask):
    """A class per node, trained on the training nodes (Keras accuracy weighted to them)."""

    name = "node_classification"
    config_keys = NodeTask.config_keys | {"train.label_smoothing"}
    serving_outputs_doc = (
        "`logits`, `probabilities` [B,N,C], `class_ids` [B,N] (-1 on padding), "
        "`embeddings` [B,N,H] (the backbone's node embeddings), `num_nodes` [B]."
    )

    def tables(self, model, data):
        test = data.splits.get("test")
        if test is None or not len(test):
            return {}
        outputs = self.outputs(model, data)
        return {"per_class_test": per_class_report(data.source.labels[test], outputs[test])}
