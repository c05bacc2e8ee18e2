"""The exported serving module: a `tf.Module` holding the weights and two signatures.

What TF Serving loads is a bare `tf.Module` (not the Keras model): its variables plus
`tf.function`s traced from the Keras model, so the SavedModel holds only core TensorFlow
ops (TF-GNN's parsing is built of ``tf.io`` and ragged ops; the GCN aggregation is TF's CSR
sparse-matrix ops) and loads with TensorFlow alone.

Signatures (each request row is one graph; outputs are padded to the largest graph):

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

Outputs of a node task (each ``[B, N, ...]``, padded rows hold 0 and class id -1):
``logits``, ``probabilities``, ``class_ids``, ``embeddings`` and ``num_nodes`` ``[B]``.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable, Mapping

import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.serving import guards
from tfgraphtune.serving.compression import QuantizedWeights

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


# A task's serving outputs: (keras model, merged graph) -> {name: [rows, ...] tensor}, plus
# what padded rows hold for each output.
TaskOutputs = Callable[[tf.keras.Model, tfgnn.GraphTensor], Mapping[str, tf.Tensor]]


def node_classification_outputs(model, graph: tfgnn.GraphTensor) -> dict[str, tf.Tensor]:
    """Per-node outputs of a `NodeModel` (the same computation as ``model(graph)``)."""
    embeddings = model.backbone(graph, training=False)
    logits = model.head(embeddings, graph=graph, training=False)
    return {
        "logits": logits,
        "probabilities": tf.nn.softmax(logits, axis=-1),
        "class_ids": tf.argmax(logits, axis=-1, output_type=tf.int64),
        "embeddings": embeddings,
    }


# Task name -> (outputs function, rows the outputs have). "nodes": one row per node of the
# served node set. A graph task would add rows="graphs" (one row per request graph) and a
# link task a pairs input; neither model exists in this branch yet.
SERVING_TASKS: dict[str, tuple[TaskOutputs, str]] = {
    "node_classification": (node_classification_outputs, "nodes"),
}
PAD_VALUES = {"class_ids": -1}


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
      task: A key of `SERVING_TASKS`.
      limits: Largest graph per request row.
      preprocess: In-graph feature preprocessing (the training-time normalization).
      weights: How the variables are stored (`QuantizedWeights`); default float32.
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
        if task not in SERVING_TASKS:
            raise ValueError(
                f"task {task!r} cannot be exported yet; exportable tasks: {sorted(SERVING_TASKS)}."
            )
        outputs_fn, rows = SERVING_TASKS[task]
        limits = limits or guards.ServingLimits()
        weights = weights or QuantizedWeights(model.variables)
        preprocess = preprocess or (lambda values: values)
        spec = serving_input.graph_spec()
        ns, feat, es = serving_input.node_set, serving_input.feature, serving_input.edge_set
        feature_dtype = tf.as_dtype(serving_input.dtype)
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
            with tf.control_dependencies(index_checks):
                features = tf.identity(features)
                source = tf.identity(source)
                target = tf.identity(target)
            features = preprocess(tf.cast(features, tf.float32))
            graph = tfgnn.GraphTensor.from_pieces(
                node_sets={
                    ns: tfgnn.NodeSet.from_fields(sizes=node_counts, features={feat: features})
                },
                edge_sets={
                    es: tfgnn.EdgeSet.from_fields(
                        sizes=edge_counts,
                        adjacency=tfgnn.Adjacency.from_indices((ns, source), (ns, target)),
                    )
                },
            )
            with weights.substituted(model):
                outputs = dict(outputs_fn(model, graph))
            if rows != "nodes":
                raise NotImplementedError(f"outputs with rows={rows!r}")
            result = {
                name: _pad_rows(value, node_counts, PAD_VALUES.get(name, 0))
                for name, value in outputs.items()
            }
            result["num_nodes"] = node_counts
            return result

        @tf.function(
            input_signature=[tf.TensorSpec([None], tf.string, name=EXAMPLES_INPUT)],
            autograph=False,
        )
        def serve_examples(examples):
            batch = tfgnn.parse_example(spec, examples)
            node_counts = tf.math.reduce_sum(batch.node_sets[ns].sizes, axis=1)
            edge_counts = tf.math.reduce_sum(batch.edge_sets[es].sizes, axis=1)
            merged = batch.merge_batch_to_components()
            adjacency = merged.edge_sets[es].adjacency
            features = merged.node_sets[ns][feat]
            return run_model(features, node_counts, adjacency.source, adjacency.target, edge_counts)

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
