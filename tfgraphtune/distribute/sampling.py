"""Neighbour sampling with TF-GNN's in-memory sampler: batches of subgraphs rooted at seeds.

For graphs too big for full-batch training (or to shard a graph task's work over replicas),
a batch is the union of ``fanouts``-hop neighbourhoods of a few seed nodes, sampled
uniformly per hop by TF-GNN (`tensorflow_gnn.experimental.sampler`:
``SamplingSpecBuilder`` -> ``create_sampling_model_from_spec`` over
``InMemUniformEdgesSampler`` and ``InMemIndexToFeaturesAccessor``). Each seed's subgraph is
one component, its seed the component's first node; the components of a batch are merged
into one GraphTensor, so the models and losses of full-batch training apply unchanged.

Message passing flows towards the seeds: TF-GNN samples a node's *outgoing* edges, so the
sampler walks the reversed edge set and the sampled edges are turned back, giving each seed
the neighbours whose messages reach it (the same as the original on undirected graphs).

Memory: the sampler holds the graph's edges and node features (``O(E + N F)``); a batch is
``O(B prod(fanouts))``. For graphs that do not fit one machine, sample offline with TF-GNN's
Beam pipeline (``tfgraphtune sample``) and train on its TFRecord shards.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf
import tensorflow_gnn as tfgnn

ID_FEATURE = "_node_id"
# Sampling ops' layer names must be unique in the sampling model: one per hop.
_HOP = "hop{}"


class NeighborSampler:
    """Samples merged batches of rooted subgraphs from one in-memory graph.

    Args:
      graph: A scalar GraphTensor with one component (the preprocessed graph).
      node_set: The node set of the seeds and of message passing.
      edge_set: The edge set within `node_set` to sample over.
      fanouts: Neighbours sampled per hop, e.g. ``[10, 10]``.
      features: Node features to carry into the subgraphs (the model's input feature).
      seed: Seed of the sampling ops (None: nondeterministic).

    Raises:
      ValueError: Empty or non-positive fanouts.
    """

    def __init__(
        self,
        graph: tfgnn.GraphTensor,
        *,
        node_set: str,
        edge_set: str,
        fanouts: Sequence[int],
        features: Sequence[str],
        seed: int | None = None,
    ):
        from tensorflow_gnn.experimental import sampler
        from tensorflow_gnn.experimental.sampler import subgraph_pipeline

        fanouts = [int(k) for k in fanouts]
        if not fanouts or any(k <= 0 for k in fanouts):
            raise ValueError(
                "Received an invalid value for fanouts, expected a non-empty list of positive "
                f"integers. Received: fanouts={fanouts!r}"
            )
        self.node_set, self.edge_set, self.fanouts = node_set, edge_set, fanouts
        nodes = graph.node_sets[node_set]
        self.num_nodes = int(nodes.total_size)
        adjacency = graph.edge_sets[edge_set].adjacency
        # The sampler carries node ids only; features are gathered afterwards from
        # variables. Big tensors captured by the sampling model or a tf.data function are
        # copied into their graphs as constants (building the sampler for Cora's 2708 x 1433
        # features took 33 s that way, against a second with ids alone).
        self.features = {
            name: tf.Variable(nodes[name], trainable=False, name=f"sampled_{name}")
            for name in features
        }
        values = {ID_FEATURE: tf.range(self.num_nodes, dtype=tf.int64)}
        schema = tfgnn.GraphSchema()
        schema.node_sets[node_set].features[ID_FEATURE].dtype = tf.int64.as_datatype_enum
        schema.edge_sets[edge_set].source = node_set
        schema.edge_sets[edge_set].target = node_set
        builder = tfgnn.sampler.SamplingSpecBuilder(schema).seed(node_set)
        for hop, fanout in enumerate(fanouts):
            builder = builder.sample(fanout, edge_set, op_name=_HOP.format(hop))
        # Reversed edges: sampling a node's "outgoing" edges finds the nodes sending to it.
        source = tf.cast(adjacency.target, tf.int64)
        target = tf.cast(adjacency.source, tf.int64)

        def edge_sampler(op):
            return sampler.InMemUniformEdgesSampler(
                num_source_nodes=self.num_nodes,
                source=source,
                target=target,
                sample_size=op.sample_size,
                name=op.op_name,
                seed=seed,
            )

        def feature_accessor(name):
            return sampler.InMemIndexToFeaturesAccessor(values, name=f"{name}_features")

        # TF-GNN's `SamplingPipeline` itself (what `create_sampling_model_from_spec` wraps
        # in a Keras model): called inside the input pipeline's traced function, the graph
        # of its ~10k ops is built once per data set instead of once more for the Keras
        # model; run without autograph (its Python `if`s are on static values), whose
        # conversion of the sampling layers took about 20 s.
        spec = builder.build()

        def pipeline():
            # New layers per traced function: TF-GNN's samplers keep tensors made at their
            # first call, which another traced function cannot use.
            return subgraph_pipeline.SamplingPipeline(
                graph_schema=schema,
                sampling_spec=spec,
                edge_sampler_factory=edge_sampler,
                node_features_accessor_factory=feature_accessor,
            )

        self._pipeline = pipeline

    def sampling_function(self):
        """A function ``seeds [B] -> (merged graph, root rows)`` with its own sampling layers;
        call it within one traced function (an input pipeline's map)."""
        pipeline = self._pipeline()

        @tf.autograph.experimental.do_not_convert
        def sample(seeds):
            return self._sample(pipeline, seeds)

        return sample

    def _sample(self, pipeline, seeds: tf.Tensor) -> tuple[tfgnn.GraphTensor, tf.Tensor]:
        """``(merged graph with one component per seed, row of each seed in it)``."""
        batch = pipeline(tf.RaggedTensor.from_tensor(tf.reshape(seeds, [-1, 1])))
        graph = batch.merge_batch_to_components()
        ids = graph.node_sets[self.node_set][ID_FEATURE]
        features = {name: tf.gather(values, ids) for name, values in self.features.items()}
        graph = graph.replace_features(node_sets={self.node_set: features})
        return rooted_message_graph(graph, self.node_set, self.edge_set)

    def dataset(
        self, seeds: np.ndarray, *, batch_size: int, shuffle: bool, seed: int = 0, repeat=False
    ) -> tf.data.Dataset:
        """Batches of ``(graph, roots, seed ids)`` over `seeds` (reshuffled every pass)."""
        dataset = tf.data.Dataset.from_tensor_slices(np.asarray(seeds, np.int64))
        if shuffle:
            dataset = dataset.shuffle(len(seeds), seed=seed, reshuffle_each_iteration=True)
        if repeat:
            dataset = dataset.repeat()
        dataset = dataset.batch(batch_size)
        sample = self.sampling_function()

        @tf.autograph.experimental.do_not_convert
        def with_seeds(batch_seeds):
            graph, roots = sample(batch_seeds)
            return graph, roots, batch_seeds

        return dataset.map(with_seeds).prefetch(tf.data.AUTOTUNE)


def rooted_message_graph(
    graph: tfgnn.GraphTensor, node_set: str, edge_set: str
) -> tuple[tfgnn.GraphTensor, tf.Tensor]:
    """``(graph with its sampled edges turned to point at the roots, row of each root)``
    of merged samples, each component's root its first node (TF-GNN's convention)."""
    graph = _reverse_edges(graph, edge_set)
    sizes = tf.cast(graph.node_sets[node_set].sizes, tf.int64)
    return graph, tf.cumsum(sizes, exclusive=True)


def _reverse_edges(graph: tfgnn.GraphTensor, edge_set: str) -> tfgnn.GraphTensor:
    """The graph with `edge_set`'s edges turned around (sampled seed -> neighbour edges
    become neighbour -> seed message edges)."""
    edges = graph.edge_sets[edge_set]
    adjacency = edges.adjacency
    edge_sets = dict(graph.edge_sets)
    edge_sets[edge_set] = tfgnn.EdgeSet.from_fields(
        sizes=edges.sizes,
        features=edges.features,
        adjacency=tfgnn.Adjacency.from_indices(
            (adjacency.target_name, adjacency.target), (adjacency.source_name, adjacency.source)
        ),
    )
    return tfgnn.GraphTensor.from_pieces(
        context=graph.context, node_sets=graph.node_sets, edge_sets=edge_sets
    )
