"""Batches of many small graphs, merged with numpy into one GraphTensor of components each.

Why not ``tf.data`` alone: TF-GNN's way (stack the graphs into a rank-1 GraphTensor, then
``batch().map(merge_batch_to_components)``) traces a batching function per data set and
stacks through a Python generator, about two seconds for MUTAG's 188 graphs, paid again
for every split of every run. Merging is a few concatenations and index offsets, so the
graphs are flattened into arrays once (`GraphBatcher`) and each batch is assembled from
them in milliseconds; ``tf.data`` then only hands the batches to ``model.fit``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.checks import positive_int


class _Pieces:
    """One node or edge set of every graph, flattened: counts and concatenated values."""

    def __init__(self, counts: np.ndarray, values: dict[str, np.ndarray]):
        self.counts = counts.astype(np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.counts)])
        self.values = values

    def rows(self, indices: np.ndarray) -> np.ndarray:
        """Row numbers of the chosen graphs' items, graph by graph."""
        if len(indices) == 0:
            return np.zeros(0, np.int64)
        return np.concatenate(
            [np.arange(self.starts[i], self.starts[i + 1]) for i in indices]
        ).astype(np.int64)


class GraphBatcher:
    """Merges chosen graphs of a list into one scalar GraphTensor with a component each.

    Args:
      graphs: Scalar GraphTensors with one component each and the same features.
      label_feature: A context feature holding each graph's label: returned apart from
        the merged graph (which no longer holds it), or None.

    Raises:
      ValueError: No graphs, or the label feature is missing.
    """

    def __init__(self, graphs: Sequence[tfgnn.GraphTensor], *, label_feature: str | None):
        if not graphs:
            raise ValueError("graph_batches needs at least one graph; received an empty sequence.")
        first = graphs[0]
        if label_feature is not None and label_feature not in first.context.features:
            raise ValueError(
                f"the graphs have no context feature {label_feature!r} to read labels from; "
                f"context features: {sorted(first.context.features)}."
            )
        self.num_graphs = len(graphs)
        self.label_feature = label_feature
        self.index_dtype = first.indices_dtype
        self.node_sets = {
            name: self._pieces([g.node_sets[name] for g in graphs]) for name in first.node_sets
        }
        self.edge_sets = {}
        self.endpoints = {}
        for name, edge_set in first.edge_sets.items():
            pieces = [g.edge_sets[name] for g in graphs]
            flat = self._pieces(pieces)
            flat.values["#source"] = np.concatenate([p.adjacency.source.numpy() for p in pieces])
            flat.values["#target"] = np.concatenate([p.adjacency.target.numpy() for p in pieces])
            self.edge_sets[name] = flat
            self.endpoints[name] = (edge_set.adjacency.source_name, edge_set.adjacency.target_name)
        self.context = {
            name: np.concatenate([g.context[name].numpy() for g in graphs])
            for name in first.context.features
            if name != label_feature
        }
        self.labels = (
            None
            if label_feature is None
            else np.concatenate([g.context[label_feature].numpy().reshape(-1) for g in graphs])
        )

    def node_rows(self, node_set: str, indices) -> np.ndarray:
        """Rows of the flattened node features of the chosen graphs."""
        return self.node_sets[node_set].rows(np.asarray(indices, np.int64))

    def transform_feature(self, node_set: str, feature: str, function) -> None:
        """Replaces a node feature of every graph by ``function(values)`` (flattened rows)."""
        values = self.node_sets[node_set].values
        values[feature] = function(values[feature])

    @staticmethod
    def _pieces(pieces) -> _Pieces:
        counts = np.array([int(p.sizes.numpy().sum()) for p in pieces])
        values = {
            name: np.concatenate([p[name].numpy() for p in pieces]) for name in pieces[0].features
        }
        return _Pieces(counts, values)

    def merge(self, indices) -> tuple[tfgnn.GraphTensor, np.ndarray | None]:
        """``(graph with one component per chosen graph, their labels)``, in `indices` order."""
        indices = np.asarray(indices, np.int64).reshape(-1)
        dtype = self.index_dtype

        def sizes(counts):
            return tf.constant(counts, dtype)

        node_sets = {
            name: tfgnn.NodeSet.from_fields(
                sizes=sizes(flat.counts[indices]),
                features={k: tf.constant(v[flat.rows(indices)]) for k, v in flat.values.items()},
            )
            for name, flat in self.node_sets.items()
        }
        # Each graph's local node indices shift by the nodes of the graphs before it.
        node_offsets = {
            name: np.cumsum(flat.counts[indices]) - flat.counts[indices]
            for name, flat in self.node_sets.items()
        }
        edge_sets = {}
        for name, flat in self.edge_sets.items():
            rows = flat.rows(indices)
            counts = flat.counts[indices]
            source_set, target_set = self.endpoints[name]
            source = flat.values["#source"][rows] + np.repeat(node_offsets[source_set], counts)
            target = flat.values["#target"][rows] + np.repeat(node_offsets[target_set], counts)
            features = {
                k: tf.constant(v[rows]) for k, v in flat.values.items() if not k.startswith("#")
            }
            edge_sets[name] = tfgnn.EdgeSet.from_fields(
                sizes=sizes(counts),
                features=features,
                adjacency=tfgnn.Adjacency.from_indices(
                    (source_set, tf.constant(source, dtype)),
                    (target_set, tf.constant(target, dtype)),
                ),
            )
        context = tfgnn.Context.from_fields(
            sizes=sizes(np.ones(len(indices), np.int64)),
            features={k: tf.constant(v[indices]) for k, v in self.context.items()},
        )
        graph = tfgnn.GraphTensor.from_pieces(
            context=context, node_sets=node_sets, edge_sets=edge_sets
        )
        return graph, None if self.labels is None else self.labels[indices]

    def dataset(
        self, indices, *, batch_size: int = 32, shuffle: bool = False, seed: int = 0
    ) -> tf.data.Dataset:
        """``(merged graph, labels)`` batches of the chosen graphs, for ``model.fit``.

        With `shuffle`, every pass (epoch) draws a new order from a generator seeded with
        `seed`, so a new data set with the same seed repeats the same sequence of epochs.

        Raises:
          ValueError: No or out-of-range indices, or a bad `batch_size`.
        """
        indices = self._check(indices)
        positive_int("batch_size", batch_size)
        rng = np.random.default_rng(seed)

        def chunks():
            order = rng.permutation(indices) if shuffle else indices
            return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]

        return self.dataset_of_chunks(chunks)

    def replica_dataset(
        self,
        indices,
        *,
        global_batch_size: int,
        replicas: list[int],
        num_replicas: int,
        shuffle: bool = False,
        seed: int = 0,
    ) -> tf.data.Dataset:
        """The batches of some replicas of a distributed run, one step's worth per round.

        Every input pipeline draws the same permutation (same `seed`), cuts it into global
        batches of `global_batch_size` graphs and each global batch into `num_replicas`
        near-equal parts; this data set yields the parts of `replicas` in turn. The
        replicas of all workers together see exactly the batches of a one-replica run.

        Raises:
          ValueError: Bad indices, or fewer graphs in a global batch than replicas.
        """
        indices = self._check(indices)
        positive_int("global_batch_size", global_batch_size)
        if min(global_batch_size, len(indices)) < num_replicas:
            raise ValueError(
                f"a global batch of {min(global_batch_size, len(indices))} graphs cannot feed "
                f"{num_replicas} replicas; raise train.batch_size or use fewer replicas."
            )
        rng = np.random.default_rng(seed)

        def chunks():
            order = rng.permutation(indices) if shuffle else indices
            batches = [
                order[i : i + global_batch_size] for i in range(0, len(order), global_batch_size)
            ]
            parts = [np.array_split(batch, num_replicas) for batch in batches]
            return [batch_parts[r] for batch_parts in parts for r in replicas]

        return self.dataset_of_chunks(chunks)

    def _check(self, indices) -> np.ndarray:
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        if indices.size == 0:
            raise ValueError("graph_batches needs at least one index; received none.")
        if indices.min() < 0 or indices.max() >= self.num_graphs:
            raise ValueError(
                f"indices must lie in [0, {self.num_graphs}); received values from "
                f"{indices.min()} to {indices.max()}."
            )
        return indices

    def dataset_of_chunks(self, chunks) -> tf.data.Dataset:
        """A data set merging, each pass, the index arrays ``chunks()`` returns."""
        example, labels = self.merge(np.zeros(1, np.int64))
        graph_spec = example.spec.relax(num_components=True, num_nodes=True, num_edges=True)

        def batches():
            for chunk in chunks():
                graph, batch_labels = self.merge(chunk)
                yield graph if labels is None else (graph, batch_labels)

        signature = (
            graph_spec
            if labels is None
            else (graph_spec, tf.TensorSpec([None], tf.as_dtype(labels.dtype)))
        )
        return tf.data.Dataset.from_generator(batches, output_signature=signature).prefetch(2)
