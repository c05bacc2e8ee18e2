"""What node classification and node regression share: one graph, a node split, full batch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import tensorflow as tf

from tfgraphtune.data import sources
from tfgraphtune.data.preprocessing import Preprocessing
from tfgraphtune.distribute.inputs import (
    local_replicas,
    one_element_per_replica,
    replica_shard,
)
from tfgraphtune.distribute.sampling import NeighborSampler
from tfgraphtune.layers.propagation import precompute_gcn_normalization
from tfgraphtune.models.inference import predict
from tfgraphtune.models.tasks.heads import HEAD_KINDS
from tfgraphtune.models.tasks.node_classification import NodeModel, split_weights
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
    config_keys = frozenset({"data.sampling.fanouts", "data.sampling.samples"})

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
        return NodeModel(backbone, data.num_outputs, **self.head_options(data, config))

    def fit_inputs(self, data: TaskData, config) -> FitInputs:
        sampling = config["data"]["sampling"]
        if sampling["samples"]:
            return self.presampled_inputs(data, config)
        if sampling["fanouts"]:
            return self.sampled_inputs(data, config)
        graph, labels = data.inputs, tf.constant(data.source.labels)
        num_nodes = data.source.num_nodes

        def split(ids):
            # Every replica holds the whole graph and the loss of its share of the split's
            # nodes, weighted so the replicas' gradients add up to the one-replica gradient.
            def dataset_fn(context):
                n = context.num_replicas_in_sync
                elements = [
                    (graph, labels, split_weights(num_nodes, replica_shard(ids, r, n), scale=n))
                    for r in local_replicas(context)
                ]
                return one_element_per_replica(elements, repeat=True)

            return dataset_fn

        return FitInputs(split(data.splits["train"]), split(data.splits["validation"]))

    def sampled_inputs(self, data: TaskData, config) -> FitInputs:
        """Batches of sampled subgraphs rooted at the split's nodes (`NeighborSampler`)."""
        sampling, seed = config["data"]["sampling"], int(config["train"]["seed"])
        sampler = NeighborSampler(
            data.inputs,
            node_set=data.node_set,
            edge_set=data.edge_set,
            fanouts=sampling["fanouts"],
            features=[data.feature, data.source.label],
            seed=seed,
        )
        label = data.source.label
        global_batch = int(sampling["batch_size"])

        def split(ids, train):
            def dataset_fn(context):
                shard = replica_shard(ids, context.input_pipeline_id, context.num_input_pipelines)
                batch = context.get_per_replica_batch_size(global_batch)
                batches = sampler.dataset(
                    shard, batch_size=batch, shuffle=train, seed=seed, repeat=True
                )
                return batches.map(lambda graph, roots, _: rooted_example(graph, roots, label))

            return dataset_fn

        steps = [max(-(-len(data.splits[s]) // global_batch), 1) for s in ("train", "validation")]
        return FitInputs(
            split(data.splits["train"], True),
            split(data.splits["validation"], False),
            steps_per_epoch=steps[0],
            validation_steps=steps[1],
            reuse_validation_iterator=True,
        )

    def presampled_inputs(self, data: TaskData, config) -> FitInputs:
        """Batches read from a `tfgraphtune sample` folder (TF-GNN's Beam sampler): the
        training process holds one batch of subgraphs, not the graph's edges."""
        from tfgraphtune.distribute import beam_sampling

        sampling, seed = config["data"]["sampling"], int(config["train"]["seed"])
        folder = sampling["samples"]
        meta = beam_sampling.read_sampling_meta(folder)
        label = meta["label"]
        global_batch = int(sampling["batch_size"])

        def split(name, train):
            def dataset_fn(context):
                batches = beam_sampling.sampled_batches(
                    folder,
                    name,
                    batch_size=context.get_per_replica_batch_size(global_batch),
                    shuffle=train,
                    seed=seed,
                    shard=(context.input_pipeline_id, context.num_input_pipelines),
                )
                return batches.map(lambda graph, roots: rooted_example(graph, roots, label))

            return dataset_fn

        steps = [
            max(-(-meta["seeds"][name] // global_batch), 1) for name in ("train", "validation")
        ]
        return FitInputs(
            split("train", True),
            split("validation", False),
            steps_per_epoch=steps[0],
            validation_steps=steps[1],
            reuse_validation_iterator=True,
        )

    def outputs(self, model, data: TaskData) -> np.ndarray:
        """One full-graph inference (compiled): ``[nodes, outputs]``."""
        return predict(model, data.inputs).numpy()

    def evaluate(self, model, data: TaskData) -> dict[str, dict[str, float]]:
        outputs = self.outputs(model, data)
        labels = data.source.labels
        return {
            split: self.score(labels[ids], outputs[ids])
            for split, ids in data.splits.items()
            if len(ids)
        }

    def embeddings(self, model, data: TaskData):
        return model.backbone(data.inputs, training=False).numpy(), data.source.labels

    def test_predictions(self, model, data: TaskData):
        split = "test" if len(data.splits.get("test", ())) else "validation"
        ids = data.splits[split]
        return data.source.labels[ids], self.outputs(model, data)[ids], split

    def serving_outputs(self, model, graph):
        embeddings = model.backbone(graph, training=False)
        return self.outputs_from(model.head(embeddings, graph=graph, training=False), embeddings)


def rooted_example(graph, roots, label: str):
    """``(graph, labels, weights)`` of a sampled batch: the loss is the roots' mean."""
    node_set = next(iter(graph.node_sets))
    nodes = graph.node_sets[node_set]
    features = dict(nodes.features)
    labels = features.pop(label)
    rows = tf.shape(labels, out_type=tf.int64)[0]
    scale = tf.cast(rows, tf.float32) / tf.cast(tf.shape(roots)[0], tf.float32)
    weights = tf.scatter_nd(roots[:, None], tf.fill(tf.shape(roots), scale), [rows])
    return graph.replace_features(node_sets={node_set: features}), labels, weights
