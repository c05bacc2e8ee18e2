"""What graph classification and graph regression share: many graphs, batched, one row each."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from tfgraphtune.data import sources
from tfgraphtune.data.errors import ValidationError
from tfgraphtune.data.graph_batching import GraphBatcher
from tfgraphtune.data.preprocessing import Preprocessing
from tfgraphtune.data.splits import stratified_folds, stratified_holdout
from tfgraphtune.distribute.inputs import local_replicas
from tfgraphtune.models.tasks.graph_classification import GRAPH_HEADS, GraphModel
from tfgraphtune.tasks.base import FitInputs, Task, TaskData, dataset_fields

SPLITS = ("train", "validation", "test")


def graph_splits(dataset, config: Mapping[str, Any], *, stratify: bool) -> dict[str, np.ndarray]:
    """The source's own split, else seeded k-fold: fold ``data.fold`` tests, and
    ``data.validation_fraction`` of the other folds validates (stratified by class for
    classification)."""
    if dataset.splits:
        for name in ("train", "validation"):
            if not len(dataset.splits.get(name, ())):
                raise ValidationError(f"the graphs' split column puts no graph in {name!r}.")
        return {name: np.asarray(dataset.splits.get(name, []), np.int64) for name in SPLITS}
    data, seed = config["data"], int(config["train"]["seed"])
    strata = dataset.labels if stratify else np.zeros(len(dataset.graphs), np.int64)
    folds = stratified_folds(strata, int(data["folds"]), seed)
    fold = int(data["fold"])
    rest = np.sort(np.concatenate([f for i, f in enumerate(folds) if i != fold]))
    train, validation = stratified_holdout(rest, strata, float(data["validation_fraction"]), seed)
    return {"train": train, "validation": validation, "test": folds[fold]}


class GraphTask(Task):
    """A prediction per graph: node embeddings pooled per graph (``model.readout``), a head.

    Graphs are merged into batches of ``train.batch_size`` components; the training
    batches are reshuffled every epoch. The feature normalization is fitted on the nodes
    of the training graphs only.
    """

    rows = "graphs"
    heads = GRAPH_HEADS
    default_head = "mlp"
    config_keys = frozenset(
        {"model.readout", "data.folds", "data.fold", "data.validation_fraction"}
    )

    def prepare(
        self, config, *, preprocessing=None, gcn_normalization=False, source=None
    ) -> TaskData:
        data = config["data"]
        dataset = source if source is not None else sources.load_graph_data(data)
        labels = dataset.labels
        self.check_labels(labels, f"the graphs of {dataset.name!r}")
        splits = graph_splits(dataset, config, stratify=not self.regression)
        ns, feature = dataset.node_set, dataset.feature
        batcher = GraphBatcher(dataset.graphs, label_feature=dataset.label)
        if preprocessing is None:
            raw = batcher.node_sets[ns].values[feature]
            preprocessing = Preprocessing.fit(
                data["normalize_features"],
                raw[batcher.node_rows(ns, splits["train"])],
                edge_cleaning=sources.cleaning_steps(data),
                fitted_on=f"the nodes of {len(splits['train'])} training graphs",
            )
        if preprocessing.feature_normalization:
            batcher.transform_feature(ns, feature, preprocessing.normalize)
        batch_size = int(config["train"]["batch_size"])
        seed = int(config["train"]["seed"])

        def batches(indices, shuffle=False):
            return batcher.dataset(indices, batch_size=batch_size, shuffle=shuffle, seed=seed)

        # Evaluation batches per split; training batches are made per replica (fit_inputs).
        inputs = {name: batches(ids) for name, ids in splits.items() if len(ids)}
        inputs["batcher"] = batcher
        return TaskData(
            task=self.name,
            preprocessing=preprocessing,
            splits=splits,
            inputs=inputs,
            **self.output_fields(dataset, labels[splits["train"]]),
            **dataset_fields(dataset, dataset.graphs[0]),
        )

    def any_graph(self, data: TaskData):
        return next(iter(data.inputs["validation"]))[0]

    def build_model(self, backbone, data: TaskData, config) -> GraphModel:
        return GraphModel(
            backbone,
            data.num_outputs,
            readout=config["model"]["readout"],
            **self.head_options(data, config),
        )

    def fit_inputs(self, data: TaskData, config) -> FitInputs:
        batcher = data.inputs["batcher"]
        global_batch, seed = int(config["train"]["batch_size"]), int(config["train"]["seed"])

        def split(ids, shuffle):
            def dataset_fn(context):
                return batcher.replica_dataset(
                    ids,
                    global_batch_size=global_batch,
                    replicas=local_replicas(context),
                    num_replicas=context.num_replicas_in_sync,
                    shuffle=shuffle,
                    seed=seed,
                ).repeat()

            return dataset_fn, -(-len(ids) // global_batch)

        train, steps = split(data.splits["train"], True)
        validation, validation_steps = split(data.splits["validation"], False)
        return FitInputs(train, validation, steps, validation_steps)

    def predictions(self, model, data: TaskData, split: str) -> tuple[np.ndarray, np.ndarray]:
        """``(labels, outputs)`` of one split, in split order."""
        outputs, labels = [], []
        for graph, batch_labels in data.inputs[split]:
            outputs.append(model(graph, training=False).numpy())
            labels.append(batch_labels.numpy())
        return np.concatenate(labels), np.concatenate(outputs)

    def evaluate(self, model, data: TaskData) -> dict[str, dict[str, float]]:
        metrics = {}
        for split in SPLITS:
            if split in data.inputs:
                metrics[split] = self.score(*self.predictions(model, data, split))
        return metrics

    def embeddings(self, model, data: TaskData):
        embeddings, labels = [], []
        for split in SPLITS:
            for graph, batch_labels in data.inputs.get(split, ()):
                embeddings.append(model.graph_embeddings(graph, training=False).numpy())
                labels.append(batch_labels.numpy())
        return np.concatenate(embeddings), np.concatenate(labels)

    def test_predictions(self, model, data: TaskData):
        split = "test" if "test" in data.inputs else "validation"
        return (*self.predictions(model, data, split), split)

    def serving_outputs(self, model, graph):
        embeddings = model.graph_embeddings(graph, training=False)
        return self.outputs_from(model.head(embeddings, training=False), embeddings)
