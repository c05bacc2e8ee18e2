"""The exported serving module: a `tf.Module` holding the weights and the signatures.

What TF Serving loads is a bare `tf.Module` (not the Keras model): its variables plus
`tf.function`s traced from the Keras model, so the SavedModel holds only core TensorFlow
ops (TF-GNN's parsing is built of ``tf.io`` and ragged ops; the GCN aggregation is TF's CSR
sparse-matrix ops) and loads with TensorFlow alone.

Requests carry raw features: the training run's preprocessing (feature normalization
with its training statistics, and the edge cleaning its tables went through) is part of
the exported graph, so a request goes through exactly what training data went through.

Signatures (each request row is one graph):

``serving_default``
  ``examples``: ``[B]`` serialized ``tf.Example`` graphs in TF-GNN's encoding (what
  ``tfgnn.write_example`` writes; keys ``nodes/<set>.#size``, ``nodes/<set>.<feature>``,
  ``edges/<set>.#size``, ``edges/<set>.#source``, ``edges/<set>.#target``). Other keys in
  the examples (labels, say) are ignored.

``predict_dense`` (for TF Serving's JSON REST API)
  ``node_features`` ``[B, N, F]``, ``source`` and ``target`` ``[B, E]`` int64 node indices
  local to each graph, ``num_nodes`` and ``num_edges`` ``[B]`` int64 (rows past them are
  padding). One graph is ``B = 1``. The explicit counts make the signature safe under TF
  Serving's server-side batching with ``pad_variable_length_inputs``.

``score_pairs`` and ``score_pairs_dense`` (tasks that score node pairs: link prediction)
  The inputs above plus ``pairs`` ``[B, P, 2]`` int64 node indices local to each graph and
  ``num_pairs`` ``[B]``; outputs ``logits`` and ``probabilities`` ``[B, P]``.

Outputs (the task's `serving_outputs`) and ``num_nodes`` ``[B]``: a task with rows
``"nodes"`` answers one row per node, padded to the largest request graph (padded rows
hold 0, class id -1); a task with rows ``"graphs"`` one row per request graph.
"""

from __future__ import annotations

import types

import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.data.preprocessing import Preprocessing
from tfgraphtune.serving import guards
from tfgraphtune.serving.compression import QuantizedWeights
from tfgraphtune.serving.serving_input import ServingInput  # noqa: F401  (re-exported)

SERVING_DEFAULT = "serving_default"
DENSE_SIGNATURE = "predict_dense"
PAIRS_SIGNATURE = "score_pairs"
PAIRS_DENSE_SIGNATURE = "score_pairs_dense"
EXAMPLES_INPUT = "examples"
DENSE_INPUTS = ("node_features", "source", "target", "num_nodes", "num_edges")
PAIR_INPUTS = ("pairs", "num_pairs")
# What padded rows of a "nodes" task hold, per output (0 for the others).
PAD_VALUES = {"class_ids": -1}


def _pad_rows(values: tf.Tensor, row_lengths: tf.Tensor, pad_value) -> tf.Tensor:
    """``[sum(row_lengths), ...]`` -> ``[B, max(row_lengths), ...]``."""
    ragged = tf.RaggedTensor.from_row_lengths(values, tf.cast(row_lengths, tf.int64))
    return ragged.to_tensor(default_value=tf.cast(pad_value, values.dtype))


def _exclusive_cumsum(counts: tf.Tensor) -> tf.Tensor:
    return tf.cumsum(counts, exclusive=True)


def serving_signatures(task) -> dict[str, list[str]]:
    """Signature name -> input names of a task's export."""
    signatures = {SERVING_DEFAULT: [EXAMPLES_INPUT], DENSE_SIGNATURE: list(DENSE_INPUTS)}
    if task.scores_pairs:
        signatures[PAIRS_SIGNATURE] = [EXAMPLES_INPUT, *PAIR_INPUTS]
        signatures[PAIRS_DENSE_SIGNATURE] = [*DENSE_INPUTS, *PAIR_INPUTS]
    return signatures


class GraphServingModule(tf.Module):
    """The object `tf.saved_model.save` writes for TF Serving.

    Args:
      model: The trained Keras model (its variables are captured; the model itself is not
        saved, so loading needs no Keras classes).
      serving_input: What requests carry.
      task: The model's `tfgraphtune.tasks.Task` (or its name): its serving outputs and
        their rows.
      limits: Largest graph per request row.
      preprocessing: The training run's `Preprocessing` (feature normalization and edge
        cleaning), applied to every request; None for raw inputs.
      weights: How the variables are stored (`QuantizedWeights`); default float32.
    """

    def __init__(
        self,
        model: tf.keras.Model,
        *,
        serving_input: ServingInput,
        task="node_classification",
        limits: guards.ServingLimits | None = None,
        preprocessing: Preprocessing | None = None,
        weights: QuantizedWeights | None = None,
    ):
        super().__init__(name="graph_serving")
        if isinstance(task, str):
            from tfgraphtune.tasks import get_task

            task = get_task(task)
        self.task_name = task.name
        limits = limits or guards.ServingLimits()
        weights = weights or QuantizedWeights(model.variables)
        preprocessing = preprocessing or Preprocessing()
        # The request graph without its feature (parsed separately, see parse_examples).
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

        def merged_graph(features, node_counts, source, target, edge_counts):
            """Checks the merged request, applies the preprocessing, builds the graph."""
            node_counts = tf.cast(node_counts, tf.int64)
            edge_counts = tf.cast(edge_counts, tf.int64)
            # The claimed counts against the caps and the tensors received: nothing sized
            # by a claim is allocated before these pass (every later op depends on them).
            size_checks = guards.check_request(
                node_counts,
                edge_counts,
                node_rows=tf.shape(features, out_type=tf.int64)[0],
                edge_lengths=(tf.size(source, tf.int64), tf.size(target, tf.int64)),
                limits=limits,
                node_set=ns,
                edge_set=es,
            )
            with tf.control_dependencies(size_checks):
                node_counts = tf.identity(node_counts)
                edge_counts = tf.identity(edge_counts)
                num_rows = tf.shape(node_counts, out_type=tf.int64)[0]
                edge_row = tf.repeat(tf.range(num_rows), edge_counts)
                offsets = _exclusive_cumsum(node_counts)
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
                node_counts = tf.identity(node_counts)
                edge_counts = tf.identity(edge_counts)
            features = preprocessing.normalize(tf.cast(features, tf.float32))
            if preprocessing.edge_cleaning:
                total = tf.reduce_sum(node_counts)
                source, target = preprocessing.clean_request_edges(source, target, total)
                row_of_edge = tf.searchsorted(tf.cumsum(node_counts), source, side="right")
                rows = tf.cast(num_rows, tf.int32)
                edge_counts = tf.math.bincount(
                    tf.cast(row_of_edge, tf.int32), minlength=rows, maxlength=rows, dtype=tf.int64
                )
            return tfgnn.GraphTensor.from_pieces(
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

        def run_model(features, node_counts, source, target, edge_counts):
            """The task's outputs, padded per request row for node tasks."""
            graph = merged_graph(features, node_counts, source, target, edge_counts)
            node_counts = tf.cast(node_counts, tf.int64)
            with weights.substituted(model):
                outputs = dict(task.serving_outputs(model, graph))
            if task.rows == "nodes":
                outputs = {
                    name: _pad_rows(value, node_counts, PAD_VALUES.get(name, 0))
                    for name, value in outputs.items()
                }
            # rows == "graphs": one row per component, i.e. per request graph, already.
            outputs["num_nodes"] = node_counts
            return outputs

        def run_pairs(features, node_counts, source, target, edge_counts, pairs, num_pairs):
            """Scores node pairs of each request graph: ``[B, P]`` outputs."""
            node_counts = tf.cast(node_counts, tf.int64)
            num_pairs = tf.cast(num_pairs, tf.int64)
            pairs = tf.cast(pairs, tf.int64)
            checks = [
                *guards.check_same_rows({"pairs": pairs, "num_pairs": num_pairs}),
                *guards.check_padded_counts(
                    num_pairs, tf.shape(pairs)[1], what="pairs", input_name="num_pairs"
                ),
                tf.debugging.assert_less_equal(
                    tf.shape(pairs, out_type=tf.int64)[1],
                    tf.constant(limits.max_edges, tf.int64),
                    message=f"too many pairs: more than the exported maximum of "
                    f"{limits.max_edges} per graph; split the request",
                ),
                tf.debugging.assert_less_equal(
                    tf.size(pairs, out_type=tf.int64) // 2,
                    tf.constant(limits.max_request_edges, tf.int64),
                    message=f"too many pairs: more than the exported maximum of "
                    f"{limits.max_request_edges} per request; split the request",
                ),
            ]
            with tf.control_dependencies(checks):
                pair_mask = tf.sequence_mask(num_pairs, tf.shape(pairs)[1])
                local = tf.boolean_mask(pairs, pair_mask)
                pair_row = tf.repeat(tf.range(tf.size(num_pairs, out_type=tf.int64)), num_pairs)
                sizes = tf.gather(node_counts, pair_row)[:, None]
            range_checks = [
                tf.debugging.assert_non_negative(
                    local, message="pair index out of range: a negative node index"
                ),
                tf.debugging.assert_less(
                    local,
                    sizes,
                    message="pair index out of range: not below the number of nodes of its graph",
                ),
            ]
            with tf.control_dependencies(range_checks):
                merged = local + tf.gather(_exclusive_cumsum(node_counts), pair_row)[:, None]
            graph = merged_graph(features, node_counts, source, target, edge_counts)
            with weights.substituted(model):
                outputs = dict(task.pair_scores(model, graph, merged))
            outputs = {name: _pad_rows(value, num_pairs, 0) for name, value in outputs.items()}
            outputs["num_pairs"] = num_pairs
            return outputs

        def parse_examples(examples):
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
            count_checks += guards.check_sizes(
                node_counts, edge_counts, limits, node_set=ns, edge_set=es
            )
            with tf.control_dependencies(count_checks):
                node_counts = tf.identity(node_counts)
                edge_counts = tf.identity(edge_counts)
                features = tf.reshape(flat.values, [-1, num_features])
                # Local indices -> indices into the merged node rows.
                offsets = _exclusive_cumsum(tf.cast(node_counts, tf.int64))
                source = tf.cast(source.values, tf.int64) + tf.gather(
                    offsets, source.value_rowids()
                )
                target = tf.cast(target.values, tf.int64) + tf.gather(
                    offsets, target.value_rowids()
                )
            return features, node_counts, source, target, edge_counts

        def merge_dense(node_features, source, target, num_nodes, num_edges):
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
                num_nodes = tf.identity(num_nodes)
                num_edges = tf.identity(num_edges)
                node_mask = tf.sequence_mask(num_nodes, tf.shape(node_features)[1])
                edge_mask = tf.sequence_mask(num_edges, tf.shape(source)[1])
            features = tf.boolean_mask(node_features, node_mask)
            shift = _exclusive_cumsum(num_nodes)[:, None]
            # Local indices -> indices into the merged node rows.
            source = tf.boolean_mask(source + shift, edge_mask)
            target = tf.boolean_mask(target + shift, edge_mask)
            return features, num_nodes, source, target, num_edges

        # The model runs inside one traced function that every signature calls: traced
        # once, stored once, whatever the request format.
        merged_specs = [
            tf.TensorSpec([None, num_features], tf.float32),
            *(tf.TensorSpec([None], tf.int64) for _ in range(4)),
        ]
        pair_input_specs = [
            tf.TensorSpec([None, None, 2], tf.int64),
            tf.TensorSpec([None], tf.int64),
        ]
        run_model_once = tf.function(run_model, input_signature=merged_specs, autograph=False)
        run_pairs_once = tf.function(
            run_pairs, input_signature=merged_specs + pair_input_specs, autograph=False
        )

        def as_merged(features, node_counts, source, target, edge_counts):
            return (
                tf.cast(features, tf.float32),
                *(tf.cast(x, tf.int64) for x in (node_counts, source, target, edge_counts)),
            )

        examples_spec = tf.TensorSpec([None], tf.string, name=EXAMPLES_INPUT)
        dense_specs = [
            tf.TensorSpec([None, None, num_features], feature_dtype, name="node_features"),
            tf.TensorSpec([None, None], tf.int64, name="source"),
            tf.TensorSpec([None, None], tf.int64, name="target"),
            tf.TensorSpec([None], tf.int64, name="num_nodes"),
            tf.TensorSpec([None], tf.int64, name="num_edges"),
        ]
        pair_specs = [
            tf.TensorSpec([None, None, 2], tf.int64, name="pairs"),
            tf.TensorSpec([None], tf.int64, name="num_pairs"),
        ]

        @tf.function(input_signature=[examples_spec], autograph=False)
        def serve_examples(examples):
            return run_model_once(*as_merged(*parse_examples(examples)))

        @tf.function(input_signature=dense_specs, autograph=False)
        def serve_dense(node_features, source, target, num_nodes, num_edges):
            merged = merge_dense(node_features, source, target, num_nodes, num_edges)
            return run_model_once(*as_merged(*merged))

        functions = {SERVING_DEFAULT: serve_examples, DENSE_SIGNATURE: serve_dense}
        if task.scores_pairs:

            @tf.function(input_signature=[examples_spec, *pair_specs], autograph=False)
            def score_examples(examples, pairs, num_pairs):
                return run_pairs_once(*as_merged(*parse_examples(examples)), pairs, num_pairs)

            @tf.function(input_signature=[*dense_specs, *pair_specs], autograph=False)
            def score_dense(node_features, source, target, num_nodes, num_edges, pairs, num_pairs):
                merged = merge_dense(node_features, source, target, num_nodes, num_edges)
                return run_pairs_once(*as_merged(*merged), pairs, num_pairs)

            functions[PAIRS_SIGNATURE] = score_examples
            functions[PAIRS_DENSE_SIGNATURE] = score_dense

        # Held outside the module's tracked attributes: saved once, as the signatures
        # (a tracked tf.function attribute would be traced and stored a second time).
        self._functions = types.SimpleNamespace(**functions)

    def serve_examples(self, examples) -> dict[str, tf.Tensor]:
        """Runs the ``serving_default`` computation in this process."""
        return getattr(self._functions, SERVING_DEFAULT)(examples)

    def serve_dense(self, node_features, source, target, num_nodes, num_edges):
        """Runs the ``predict_dense`` computation in this process."""
        return getattr(self._functions, DENSE_SIGNATURE)(
            node_features, source, target, num_nodes, num_edges
        )

    def signatures(self) -> dict:
        """Signature name -> concrete function, for `tf.saved_model.save`."""
        return {name: fn.get_concrete_function() for name, fn in vars(self._functions).items()}
