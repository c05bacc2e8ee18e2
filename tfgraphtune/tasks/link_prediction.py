"""Link prediction: score node pairs of one graph; held-out edges never pass messages."""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from tfgraphtune.data import sources
from tfgraphtune.data.preprocessing import Preprocessing
from tfgraphtune.distribute.inputs import local_replicas, replica_shard
from tfgraphtune.distribute.sampling import NeighborSampler
from tfgraphtune.layers.propagation import precompute_gcn_normalization
from tfgraphtune.models.inference import predict
from tfgraphtune.models.tasks.link_prediction import (
    LinkModel,
    link_inputs,
    pair_labels_and_weights,
    split_edges,
    uniform_negative_pairs,
)
from tfgraphtune.tasks.base import FitInputs, Task, TaskData, dataset_fields
from tfgraphtune.training.losses import PairBinaryCrossentropy
from tfgraphtune.training.ranking_metrics import average_precision, roc_auc


class LinkPrediction(Task):
    """Edges of the graph's edge set split into train/validation/test (Kipf & Welling's GAE
    protocol, `split_edges`); the model scores pairs with ``model.decoder`` over backbone
    embeddings computed on the training edges only.

    Training pairs every training edge with ``train.negatives_per_positive`` fresh random
    pairs per epoch (or, with ``all``, the GAE's loss over every pair). Evaluation: exact
    ROC-AUC and average precision on the held-out edges against as many non-edges. The
    feature normalization is fitted on every node (all node features are inputs; the
    labels are the edges). Served: node ``embeddings``; the ``score_pairs`` signatures
    score pairs of a request graph's nodes.
    """

    name = "link_prediction"
    rows = "nodes"
    metric_names = ("auc", "ap")
    default_objective = ("val_roc_auc", "max")
    config_keys = frozenset(
        {
            "model.decoder",
            "train.negatives_per_positive",
            "data.val_fraction",
            "data.test_fraction",
            "data.sampling.fanouts",
        }
    )
    scores_pairs = True
    # Positives weigh as much as their negatives in the loss; ROC-AUC/AP stay unweighted.
    metrics_weighted = False
    serving_outputs_doc = (
        "`embeddings` [B,N,H] (node embeddings for any pair decoder or nearest-neighbour "
        "index), `num_nodes` [B]; the `score_pairs` signatures also take `pairs` [B,P,2] "
        "(node indices local to each graph) and `num_pairs` [B], and return `logits`, "
        "`probabilities` [B,P] (0 on padding)."
    )

    def prepare(
        self, config, *, preprocessing=None, gcn_normalization=False, source=None
    ) -> TaskData:
        data = config["data"]
        dataset = (
            source
            if source is not None
            else sources.load_node_data(data, labelled=False, split=False)
        )
        raw = dataset.graph.node_sets[dataset.node_set][dataset.feature]
        if preprocessing is None:
            preprocessing = Preprocessing.fit(
                data["normalize_features"],
                raw.numpy(),
                edge_cleaning=sources.cleaning_steps(data),
                fitted_on=f"all {dataset.num_nodes} nodes (their features are inputs)",
            )
        graph = preprocessing.apply(dataset.graph, dataset.node_set, dataset.feature)
        split = split_edges(
            graph,
            dataset.edge_set,
            val_fraction=float(data["val_fraction"]),
            test_fraction=float(data["test_fraction"]),
            seed=int(config["train"]["seed"]),
        )
        if gcn_normalization:
            # The message-passing graph is fixed: compute the GCN coefficients once.
            split = dataclasses.replace(
                split,
                train_graph=precompute_gcn_normalization(split.train_graph, dataset.edge_set),
            )
        return TaskData(
            task=self.name,
            preprocessing=preprocessing,
            splits={
                "train": split.train_pos,
                "validation": split.val_pairs,
                "test": split.test_pairs,
            },
            num_outputs=1,
            target_mean=None,
            target_std=None,
            inputs=split,
            **dataset_fields(dataset, dataset.graph),
        )

    def any_graph(self, data: TaskData):
        return data.inputs.train_graph

    def example_inputs(self, graph):
        return graph, tf.zeros([1, 2], tf.int64)

    def build_model(self, backbone, data: TaskData, config) -> LinkModel:
        model = config["model"]
        return LinkModel(
            backbone,
            decoder=model["decoder"],
            hidden_units=model["head_hidden_units"],
            dropout=model["head_dropout"],
        )

    def loss(self, config):
        return PairBinaryCrossentropy()

    def keras_metrics(self, config):
        return [
            tf.keras.metrics.AUC(curve="ROC", from_logits=True, name="auc"),
            tf.keras.metrics.AUC(curve="PR", from_logits=True, name="ap"),
        ]

    def fit_inputs(self, data: TaskData, config) -> FitInputs:
        split, seed = data.inputs, int(config["train"]["seed"])
        negatives = config["train"]["negatives_per_positive"]
        if config["data"]["sampling"]["fanouts"]:
            return self.sampled_inputs(data, config)

        def replica_inputs(context, replica):
            if negatives == "all":
                # Every replica reconstructs the whole adjacency (LinkModel scales the loss).
                return link_inputs(split, negatives_per_positive="all", seed=seed)
            n = context.num_replicas_in_sync
            return link_inputs(
                split,
                negatives_per_positive=negatives,
                seed=seed * 1000 + replica,
                positives=replica_shard(split.train_pos, replica, n),
                scale=n,
            )

        def inputs_fn(name):
            def dataset_fn(context):
                datasets = [replica_inputs(context, r)[name] for r in local_replicas(context)]
                dataset = datasets[0]
                for other in datasets[1:]:
                    dataset = dataset.concatenate(other)
                return dataset.repeat()

            return dataset_fn

        return FitInputs(inputs_fn("train"), inputs_fn("validation"))

    def sampled_inputs(self, data: TaskData, config) -> FitInputs:
        """Batches of seed edges (and fresh negatives), each endpoint a sampled subgraph."""
        split, seed = data.inputs, int(config["train"]["seed"])
        sampling = config["data"]["sampling"]
        negatives = config["train"]["negatives_per_positive"]
        if negatives == "all":
            raise ValueError(
                "train.negatives_per_positive: all scores every node pair of the whole graph; "
                "with data.sampling.fanouts use an integer."
            )
        sampler = NeighborSampler(
            split.train_graph,
            node_set=data.node_set,
            edge_set=data.edge_set,
            fanouts=sampling["fanouts"],
            features=[data.feature],
            seed=seed,
        )
        global_batch = int(sampling["batch_size"])
        num_nodes = split.num_nodes

        def sampled_pairs_function():
            sample = sampler.sampling_function()

            def sampled_pairs(pairs, labels, weights):
                # Each endpoint becomes the root of its own sampled subgraph.
                graph, roots = sample(tf.reshape(pairs, [-1]))
                return (graph, tf.reshape(roots, [-1, 2])), labels, weights

            return sampled_pairs

        def train_fn(context):
            sampled_pairs = sampled_pairs_function()
            shard = replica_shard(
                split.train_pos, context.input_pipeline_id, context.num_input_pipelines
            )
            batch = context.get_per_replica_batch_size(global_batch)

            def with_negatives(positives, step_seed):
                positive = tf.shape(positives)[0]
                negative_pairs = uniform_negative_pairs(step_seed, positive * negatives, num_nodes)
                # Weighted as in full-batch training.
                labels, weights = pair_labels_and_weights(positive, negatives)
                pairs = tf.concat([positives, negative_pairs], axis=0)
                return sampled_pairs(pairs, labels, weights)

            edges = tf.data.Dataset.from_tensor_slices(shard.astype(np.int64))
            edges = edges.shuffle(len(shard), seed=seed, reshuffle_each_iteration=True)
            edges = edges.repeat().batch(batch)
            step_seeds = tf.data.Dataset.random(seed=seed + context.input_pipeline_id)
            return tf.data.Dataset.zip((edges, step_seeds)).map(with_negatives).prefetch(2)

        def validation_fn(context):
            pairs = replica_shard(
                split.val_pairs, context.input_pipeline_id, context.num_input_pipelines
            )
            labels = replica_shard(
                split.val_labels, context.input_pipeline_id, context.num_input_pipelines
            )
            batch = context.get_per_replica_batch_size(global_batch)
            sampled_pairs = sampled_pairs_function()
            data_set = tf.data.Dataset.from_tensor_slices(
                (pairs.astype(np.int64), labels, np.ones(len(labels), np.float32))
            )
            return data_set.repeat().batch(batch).map(sampled_pairs)

        steps = max(-(-len(split.train_pos) // global_batch), 1)
        return FitInputs(
            train_fn,
            validation_fn,
            steps_per_epoch=steps,
            validation_steps=max(-(-len(split.val_pairs) // global_batch), 1),
            reuse_validation_iterator=True,
        )

    extra_logged = ("val_roc_auc", "val_average_precision")

    def training_callbacks(self, data: TaskData) -> list[tf.keras.callbacks.Callback]:
        return [ExactPairMetrics(self, data)]

    def scores(self, model, data: TaskData, pairs: np.ndarray) -> np.ndarray:
        """Logits of node pairs on the training graph."""
        return predict(model, (data.inputs.train_graph, tf.constant(pairs))).numpy()

    def evaluate(self, model, data: TaskData) -> dict[str, dict[str, float]]:
        split = data.inputs
        metrics = {}
        for name, pairs, labels in (
            ("validation", split.val_pairs, split.val_labels),
            ("test", split.test_pairs, split.test_labels),
        ):
            scores = self.scores(model, data, pairs)
            metrics[name] = {
                "roc_auc": roc_auc(labels, scores),
                "ap": average_precision(labels, scores),
            }
        return metrics

    def embeddings(self, model, data: TaskData):
        embeddings = model.backbone(data.inputs.train_graph, training=False).numpy()
        # Node classes, when the source has them, show whether the embeddings group them.
        try:
            classes = data.source.labels
        except (AttributeError, ValueError):  # An unlabelled graph.
            classes = None
        return embeddings, classes

    def test_predictions(self, model, data: TaskData):
        split = data.inputs
        return split.test_labels, self.scores(model, data, split.test_pairs), "test"

    def figures(self, model, data: TaskData) -> dict:
        from tfgraphtune.reporting import plots

        figures = super().figures(model, data)
        labels, scores, split = self.test_predictions(model, data)
        if len(np.unique(labels)) == 2:  # No curve without test edges and non-edges.
            figures["roc_pr_curves"] = plots.roc_pr_curves(labels, scores, split=split)
        return figures

    def serving_outputs(self, model, graph):
        return {"embeddings": model.backbone(graph, training=False)}

    def pair_scores(self, model, graph, pairs):
        logits = model.decode(model.backbone(graph, training=False), pairs, training=False)
        return {"logits": logits, "probabilities": tf.sigmoid(logits)}


class ExactPairMetrics(tf.keras.callbacks.Callback):
    """Logs the exact ROC-AUC and average precision of the validation pairs every epoch.

    Keras's ``AUC`` metric approximates the curves on a fixed threshold grid; published
    link prediction results (and model selection by them) use the exact values, which one
    forward pass over the validation pairs gives. Logged as ``val_roc_auc`` and
    ``val_average_precision`` for early stopping and the history.
    """

    def __init__(self, task: LinkPrediction, data: TaskData):
        super().__init__()
        self.task, self.data = task, data

    def on_epoch_end(self, epoch, logs=None):
        split = self.data.inputs
        scores = self.task.scores(self.model, self.data, split.val_pairs)
        if logs is not None:
            logs["val_roc_auc"] = roc_auc(split.val_labels, scores)
            logs["val_average_precision"] = average_precision(split.val_labels, scores)
