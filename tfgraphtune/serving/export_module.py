"""The exported serving module: a `tf.Module` holding the weights and two signatures.

What TF Serving loads is a bare `tf.Module` (not the Keras model): its variables plus
`tf.function`s traced from the Keras model, so the SavedModel holds only core TensorFlow
ops (TF-GNN's parsing is built of ``tf.io`` and ragged ops; the GCN aggregation is TF's CSR
sparse-matrix ops) and loads with TensorFlow alone.

Signatures (each request row is one graph):

``serving_default``
  ``examples``: ``[B]`` serialized ``tf.Example`` graphs in TF-GNN's encoding (what
  ``tfgnn.write_example`` writes; keys ``nodes/<set>.#size``, ``nodes/<set>.<feature>``,
  ``edges/<set>.#size``, ``edges/<set>.#source``, ``edges/<set>.#target``). Other keys in
  the examples (labels, say) are ignored.

``predict_dense`` (for TF Serving's JSON REST API)
  ``node_features`` ``[B, N, F]`` float32, ``source`` and ``target`` ``[B, E]`` int64 node
  indices local to each graph, ``num_nodes`` and ``num_edges`` ``[B]`` int64 (rows past
  them are padding). One graph is ``B = 1``. The explicit counts make the signature safe
  under TF Serving's server-side batching with ``pad_variable_length_inputs``.

Outputs (see `tfgraphtune.serving.tasks`) and ``num_nodes`` ``[B]``:

- a node task (``node_classification``): one row per node, padded to the largest request
  graph: ``logits``, ``probabilities`` ``[B, N, C]``, ``class_ids`` ``[B, N]`` (padded rows
  hold 0 and class id -1), ``embeddings`` ``[B, N, H]``;
- a graph task (``graph_classification``): one row per request graph: ``logits``,
  ``probabilities`` ``[B, C]``, ``class_ids`` ``[B]``, ``embeddings`` ``[B, D]`` (the pooled
  readout the head sees).
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable

import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.serving import guards
from tfgraphtune.serving.compression import QuantizedWeights
from tfgraphtune.serving.tasks import (  # noqa: F401  (re-exported)
    PAD_VALUES,
    SERVING_TASKS,
    node_classification_outputs,
    serving_task,
)

SERVING_DEFAULT = "serving_default"
DENSE_SIGNATURE = "predict_dense"
EXAMPLES_INPUT = "examples"
DENSE_INPUTS = ("node_features", "source", "target", "num_nodes", "num_edges")


@dataclasses.dataclass(frozen=True)
class ServingInput:
    """What a request carries: one node set with one feature and one edge set within it.

    Attributes:
      node_set: The node set the model reads (and predicts for, in node tasks).
      feature: Its input feature, ``[num_features]`` per node.
      edge_set: The edge set between those nodes.
      num_features: Width of the feature.
      dtype: The feature's dtype in the examples (``"float32"`` or ``"int64"``).
    """

    node_set: str
    feature: str
    edge_set: str
    num_features: int
    dtype: str = "float32"

    def schema(self) -> tfgnn.GraphSchema:
        """The GraphSchema of a request graph (only what the model reads)."""
        schema = tfgnn.GraphSchema()
        feature = schema.node_sets[self.node_set].features[self.feature]
        feature.dtype = tf.as_dtype(self.dtype).as_datatype_enum
        feature.shape.dim.add().size = self.num_features
        schema.edge_sets[self.edge_set].source = self.node_set
        schema.edge_sets[self.edge_set].target = self.node_set
        return schema

    def graph_spec(self) -> tfgnn.GraphTensorSpec:
        return tfgnn.create_graph_spec_from_schema_pb(self.schema())

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


def _pad_rows(values: tf.Tensor, row_lengths: tf.Tensor, pad_value) -> tf.Tensor:
    """``[sum(row_lengths), ...]`` -> ``[B, max(row_lengths), ...]``."""
    ragged = tf.RaggedTensor.from_row_lengths(values, tf.cast(row_lengths, tf.int64))
    return ragged.to_tensor(default_value=tf.cast(pad_value, values.dtype))


def _exclusive_cumsum(counts: tf.Tensor) -> tf.Tensor:
    return tf.cumsum(counts, exclusive=True)


class GraphServingModule(tf.Module):
    """The object `tf.saved_model.save` writes for TF Serving.

    Args:
      model: The trained Keras model (its variables are captured; the model itself is not
        saved, so loading needs no Keras classes).
      serving_input: What requests carry.
      task: A key of `SERVING_TASKS` (``"node_classification"``, ``"graph_classification"``).
      limits: Largest graph per request row.
      preprocess: In-graph feature preprocessing (the training-time normalization).
      weights: How the variables are stored (`QuantizedWeights`); default float32.

    Raises:
      ValueError: `task` cannot be exported (the message lists the tasks that can).
    """

    def __init__(
        self,
        model: tf.keras.Model,
        *,
        serving_input: ServingInput,
        task: str = "node_classification",
        limits: guards.ServingLimits | None = None,
        preprocess: Callable[[tf.Tensor], tf.Tensor] | None = None,
        weights: QuantizedWeights | None = None,
    ):
        super().__init__(name="graph_serving")
        serving = serving_task(task)
        limits = limits or guards.ServingLimits()
        weights = weights or QuantizedWeights(model.variables)
        preprocess = preprocess or (lambda values: values)
        # The request graph without its feature (parsed separately, see serve_examples).
        structure = serving_input.schema()
        del structure.node_sets[serving_input.node_set].features[serving_input.feature]
        structure_spec = tfgnn.create_graph_spec_from_schema_pb(structure)
        feature_key = f"{tfgnn.NODES}/{serving_input.node_set}.{serving_input.feature}"
        ns, feat, es = serving_input.node_set, serving_input.feature, serving_input.edge_set
        feature_dtype = tf.as_dtype(serving_input.dtype)
        # tf.Example holds floats as float32 and integers as int64.
        io_dtype = tf.float32 if feature_dtype.is_floating else tf.int64
        num_features = serving_input.num_features

        # Tracked: these are the SavedModel's variables.
        self.stored_weights = list(weights.stored)

        def run_model(features, node_counts, source, target, edge_counts):
            """Checks the merged graph, runs the model, pads outputs per request row."""
            node_counts = tf.cast(node_counts, tf.int64)
            edge_counts = tf.cast(edge_counts, tf.int64)
            num_rows = tf.shape(node_counts, out_type=tf.int64)[0]
            edge_row = tf.repeat(tf.range(num_rows), edge_counts)
            offsets = _exclusive_cumsum(node_counts)
            size_checks = guards.check_sizes(
                node_counts, edge_counts, limits, node_set=ns, edge_set=es
            )
            with tf.control_dependencies(size_checks):
                index_checks = [
                    *guards.check_edge_indices(
                        source, edge_row, offsets, node_counts, edge_set=es, endpoint="source"
                    ),
                    *guards.check_edge_indices(
                        target, edge_row, offsets, node_counts, edge_set=es, endpoint="target"
                    ),
                ]
                features = guards.check_finite(features, node_set=ns, feature=feat)
            # Everything the model reads waits for the checks.
            with tf.control_dependencies(index_checks):
                features = tf.identity(features)
                source = tf.identity(source)
                target = tf.identity(target)
                checked_node_counts = tf.identity(node_counts)
                checked_edge_counts = tf.identity(edge_counts)
            features = preprocess(tf.cast(features, tf.float32))
            graph = tfgnn.GraphTensor.from_pieces(
                node_sets={
                    ns: tfgnn.NodeSet.from_fields(
                        sizes=checked_node_counts, features={feat: features}
                    )
                },
                edge_sets={
                    es: tfgnn.EdgeSet.from_fields(
                        sizes=checked_edge_counts,
                        adjacency=tfgnn.Adjacency.from_indices((ns, source), (ns, target)),
                    )
                },
            )
            with weights.substituted(model):
                outputs = dict(serving.outputs(model, graph))
            if serving.rows == "nodes":
                outputs = {
                    name: _pad_rows(value, node_counts, PAD_VALUES.get(name, 0))
                    for name, value in outputs.items()
                }
            # rows == "graphs": one row per component, i.e. per request graph, already.
            outputs["num_nodes"] = node_counts
            return outputs

        @tf.function(
            input_signature=[tf.TensorSpec([None], tf.string, name=EXAMPLES_INPUT)],
            autograph=False,
        )
        def serve_examples(examples):
            # TF-GNN parses sizes and adjacency; the feature is parsed flat here, so a wrong
            # width is reported as such (TF-GNN's parsing would fail in a reshape). The
            # graphs are merged here too, after the counts are checked.
            batch = tfgnn.parse_example(structure_spec, examples)
            node_counts = tf.math.reduce_sum(batch.node_sets[ns].sizes, axis=1)
            edge_counts = tf.math.reduce_sum(batch.edge_sets[es].sizes, axis=1)
            flat = tf.io.parse_example(
                examples,
                {feature_key: tf.io.RaggedFeature(io_dtype, row_splits_dtype=tf.int64)},
            )[feature_key]
            adjacency = batch.edge_sets[es].adjacency  # Ragged [B, (edges)] indices.
            source, target = adjacency.source, adjacency.target
            count_checks = [
                *guards.check_feature_width(
                    flat.row_lengths(), node_counts, num_features, node_set=ns, feature=feat
                ),
                *guards.check_edge_counts(
                    source.row_lengths(), target.row_lengths(), edge_counts, edge_set=es
                ),
            ]
            with tf.control_dependencies(count_checks):
                features = tf.reshape(flat.values, [-1, num_features])
                # Local indices -> indices into the merged node rows.
                offsets = _exclusive_cumsum(tf.cast(node_counts, tf.int64))
                source = tf.cast(source.values, tf.int64) + tf.gather(
                    offsets, source.value_rowids()
                )
                target = tf.cast(target.values, tf.int64) + tf.gather(
                    offsets, target.value_rowids()
                )
            return run_model(features, node_counts, source, target, edge_counts)

        @tf.function(
            input_signature=[
                tf.TensorSpec([None, None, num_features], feature_dtype, name="node_features"),
                tf.TensorSpec([None, None], tf.int64, name="source"),
                tf.TensorSpec([None, None], tf.int64, name="target"),
                tf.TensorSpec([None], tf.int64, name="num_nodes"),
                tf.TensorSpec([None], tf.int64, name="num_edges"),
            ],
            autograph=False,
        )
        def serve_dense(node_features, source, target, num_nodes, num_edges):
            shape_checks = guards.check_same_rows(
                {
                    "node_features": node_features,
                    "source": source,
                    "target": target,
                    "num_nodes": num_nodes,
                    "num_edges": num_edges,
                }
            )
            shape_checks += [
                tf.debugging.assert_equal(
                    tf.shape(source),
                    tf.shape(target),
                    message="source and target must have the same shape [batch, edges]",
                ),
                *guards.check_dense_width(node_features, num_features),
                *guards.check_padded_counts(
                    num_nodes, tf.shape(node_features)[1], what="nodes", input_name="num_nodes"
                ),
                *guards.check_padded_counts(
                    num_edges, tf.shape(source)[1], what="edges", input_name="num_edges"
                ),
                *guards.check_sizes(
                    tf.shape(node_features)[1:2],
                    tf.shape(source)[1:2],
                    limits,
                    node_set=ns,
                    edge_set=es,
                ),
            ]
            with tf.control_dependencies(shape_checks):
                node_mask = tf.sequence_mask(num_nodes, tf.shape(node_features)[1])
                edge_mask = tf.sequence_mask(num_edges, tf.shape(source)[1])
            features = tf.boolean_mask(node_features, node_mask)
            offsets = _exclusive_cumsum(num_nodes)
            # Local indices -> indices into the merged node rows.
            shift = offsets[:, None]
            source = tf.boolean_mask(source + shift, edge_mask)
            target = tf.boolean_mask(target + shift, edge_mask)
            return run_model(features, num_nodes, source, target, num_edges)

        # Held outside the module's tracked attributes: saved once, as the signatures
        # (a tracked tf.function attribute would be traced and stored a second time).
        self._functions = types.SimpleNamespace(
            serve_examples=serve_examples, serve_dense=serve_dense
        )

    def serve_examples(self, examples) -> dict[str, tf.Tensor]:
        """Runs the ``serving_default`` computation in this process."""
        return self._functions.serve_examples(examples)

    def serve_dense(self, node_features, source, target, num_nodes, num_edges):
        """Runs the ``predict_dense`` computation in this process."""
        return self._functions.serve_dense(node_features, source, target, num_nodes, num_edges)

    def signatures(self) -> dict:
        """Signature name -> concrete function, for `tf.saved_model.save`."""
        return {
            SERVING_DEFAULT: self._functions.serve_examples.get_concrete_function(),
            DENSE_SIGNATURE: self._functions.serve_dense.get_concrete_function(),
        }
