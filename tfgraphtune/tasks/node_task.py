"""What node classification and node regression share: one graph, a node split, full batch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from tfgraphtune.data import sources
from tfgraphtune.data.preprocessing import Preprocessing
from tfgraphtune.layers.propagation import precompute_gcn_normalization
from tfgraphtune.models.tasks.heads import HEAD_KINDS
from tfgraphtune.models.tasks.node_classification import NodeModel, full_batch_inputs
from tfgraphtune.tasks.base import FitInputs, Task, TaskData, dataset_fields


class NodeTask(Task):
    """A prediction per node of one graph, trained full batch on the training nodes.

    Labels and the split come from the source (the data set's public split, the tables'
    split table, the TFRecord's split feature). The feature normalization is fitted on
    the training nodes only. The graph is fixed, so GCN coefficients are cached once.
    """

    rows = "nodes"
    heads = HEAD_KINDS
    default_head = "gcn"

    def prepare(
        self, config, *, preprocessing=None, gcn_normalization=False, source=None
    ) -> TaskData:
        data = config["data"]
        dataset = source if source is not None else sources.load_node_data(data)
        labels = dataset.labels
        self.check_labels(labels, f"node set {dataset.node_set!r} of {dataset.name!r}")
        train_ids = dataset.splits["train"]
        raw = dataset.graph.node_sets[dataset.node_set][dataset.feature]
        if preprocessing is None:
            preprocessing = Preprocessing.fit(
                data["normalize_features"],
                raw.numpy()[train_ids],
                edge_cleaning=sources.cleaning_steps(data),
                fitted_on=f"{len(train_ids)} training nodes",
            )
        graph = preprocessing.apply(dataset.graph, dataset.node_set, dataset.feature)
        if gcn_normalization:
            # The graph is fixed: compute D^-1/2 (A+I) D^-1/2 once, not every step.
            graph = precompute_gcn_normalization(graph, dataset.edge_set)
        return TaskData(
            task=self.name,
            preprocessing=preprocessing,
            splits=dict(dataset.splits),
            inputs=graph,
            **self.output_fields(dataset, labels[train_ids]),
            **dataset_fields(dataset, dataset.graph),
        )

    def any_graph(self, data: TaskData):
        return data.inputs

    def build_model(self, backbone, data: TaskData, config: Mapping[str, Any]) -> NodeModel:
        model = config["model"]
        return NodeModel(
            backbone,
            data.num_outputs,
            head=self.head_of(config),
            head_dropout=model["head_dropout"],
            head_hidden_units=model["head_hidden_units"],
            target_mean=data.target_mean,
            target_std=data.target_std,
        )

    def fit_inputs(self, data: TaskData, config) -> FitInputs:
        inputs = full_batch_inputs(data.source, data.inputs)
        return FitInputs(inputs["train"].repeat(), inputs["validation"], steps_per_epoch=1)

    def outputs(self, model, data: TaskData) -> np.ndarray:
        """One full-graph inference: ``[nodes, outputs]``."""
        return model(data.inputs, training=False).numpy()

    def evaluate(self, model, data: TaskData) -> dict[str, dict[str, float]]:
        outputs = self.outputs(model, data)
        labels = data.source.labels
        return {
            split: self.score(labels[ids], outputs[ids])
            for split, ids in data.splits.items()
            if len(ids)
        }

    def serving_outputs(self, model, graph):
        embeddings = model.backbone(graph, training=False)
        return self.outputs_from(model.head(embeddings, graph=graph, training=False), embeddings)
