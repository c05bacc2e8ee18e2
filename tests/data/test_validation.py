"""Every validation error: its type, and a message naming the set, feature, rows and fix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
import tensorflow_gnn as tfgnn

from tests.data.tiny_graphs import cites, papers
from tfgraphtune.data import GraphTables, ValidationError, validate_graph, validate_tables

FEAT = [[0.0, 1.0, 2.0], [1.0, 2.0, 3.0], [2.0, 3.0, 4.0]]


def _graph(
    *,
    feat=FEAT,
    label=(0, 1, 0),
    source=(0, 1),
    target=(1, 2),
    weight=(0.5, 1.5),
    num_nodes=3,
    extra_node_features=None,
    drop=(),
) -> tfgnn.GraphTensor:
    """A GraphTensor of the tiny schema, built without any validation."""
    features = {
        "feat": tf.constant(feat, dtype=tf.float32) if not isinstance(feat, tf.Tensor) else feat,
        "label": tf.constant(label, dtype=tf.int64) if not isinstance(label, tf.Tensor) else label,
        **(extra_node_features or {}),
    }
    features = {k: v for k, v in features.items() if k not in drop}
    return tfgnn.GraphTensor.from_pieces(
        node_sets={"paper": tfgnn.NodeSet.from_fields(sizes=[num_nodes], features=features)},
        edge_sets={
            "cites": tfgnn.EdgeSet.from_fields(
                sizes=[len(source)],
                adjacency=tfgnn.Adjacency.from_indices(
                    ("paper", tf.constant(source, tf.int32)),
                    ("paper", tf.constant(target, tf.int32)),
                ),
                features={"weight": tf.constant(weight, tf.float32)},
            )
        },
    )


def test_valid_graph_passes(tiny_schema):
    validate_graph(_graph(), tiny_schema, num_classes={("paper", "label"): 2})


def test_batched_graph_is_checked_per_component(tiny_schema):
    batch = tf.data.Dataset.from_tensors(_graph()).repeat(2).batch(2)
    validate_graph(next(iter(batch)), tiny_schema)


@pytest.mark.parametrize(
    ("graph_kwargs", "num_classes", "set_name", "feature", "rows", "match"),
    [
        (
            {"drop": ("label",)},
            None,
            "paper",
            "label",
            [],
            r"Features \['label'\] of 'paper' are in the schema but not in the graph",
        ),
        (
            {"extra_node_features": {"year": tf.constant([1, 2, 3])}},
            None,
            "paper",
            "year",
            [],
            r"Features \['year'\] of 'paper' are in the graph but not in the schema; remove",
        ),
        (
            {"label": tf.constant([0, 1, 0], tf.int32)},
            None,
            "paper",
            "label",
            [],
            r"'label' of 'paper' has dtype int32, but the schema expects int64; cast it",
        ),
        (
            {"feat": tf.zeros([3, 4])},
            None,
            "paper",
            "feat",
            [],
            r"'feat' of 'paper' has per-item shape \[4\], but the schema expects \[3\]",
        ),
        (
            {"feat": [[0.0, 1.0, 2.0], [np.inf, 2.0, 3.0], [np.nan, 3.0, 4.0]]},
            None,
            "paper",
            "feat",
            [1, 2],
            r"'feat' of 'paper' holds NaN or Inf in 2 rows, first rows \[1, 2\]. Fill or drop",
        ),
        (
            {"source": (0, -1)},
            None,
            "cites",
            "#source",
            [1],
            r"'cites' has 1 source indices outside \[0, 3\) of node set 'paper': first rows "
            r"\[1\] hold \[-1\]. Drop those edges",
        ),
        (
            {"target": (5, 3)},
            None,
            "cites",
            "#target",
            [0, 1],
            r"'cites' has 2 target indices outside \[0, 3\).*hold \[5, 3\]",
        ),
        (
            {"label": (0, 2, 7)},
            {("paper", "label"): 2},
            "paper",
            "label",
            [1, 2],
            r"'label' of 'paper' must lie in \[0, 2\); 2 rows do not, first rows \[1, 2\] hold "
            r"\[2, 7\]. Fix the labels or num_classes",
        ),
        (
            {},
            {("paper", "topic"): 2},
            "paper",
            "topic",
            [],
            r"num_classes names feature 'topic' of 'paper', which the graph lacks",
        ),
        (
            {},
            {("paper", "label"): 0},
            "paper",
            "label",
            [],
            r"Received an invalid value for num_classes, expected a positive integer",
        ),
        (
            {
                "feat": tf.zeros([0, 3]),
                "label": tf.zeros([0], tf.int64),
                "num_nodes": 0,
                "source": (),
                "target": (),
                "weight": (),
            },
            None,
            "paper",
            None,
            [],
            r"Node set 'paper' is empty \(0 nodes\)",
        ),
    ],
    ids=[
        "missing-feature",
        "extra-feature",
        "dtype",
        "shape",
        "nan-inf",
        "negative-index",
        "index-out-of-range",
        "label-out-of-range",
        "label-feature-unknown",
        "num-classes-invalid",
        "empty-node-set",
    ],
)
def test_validate_graph_errors(
    tiny_schema, graph_kwargs, num_classes, set_name, feature, rows, match
):
    with pytest.raises(ValidationError, match=match) as info:
        validate_graph(_graph(**graph_kwargs), tiny_schema, num_classes=num_classes)
    assert (info.value.set_name, info.value.feature, info.value.rows) == (set_name, feature, rows)


def test_validate_graph_context_label_range():
    graph = tfgnn.GraphTensor.from_pieces(
        context=tfgnn.Context.from_fields(features={"label": tf.constant([3], tf.int64)}),
        node_sets={
            "atom": tfgnn.NodeSet.from_fields(sizes=[1], features={"feat": tf.zeros([1, 7])})
        },
        edge_sets={
            "bond": tfgnn.EdgeSet.from_fields(
                sizes=[0],
                adjacency=tfgnn.Adjacency.from_indices(
                    ("atom", tf.zeros([0], tf.int32)), ("atom", tf.zeros([0], tf.int32))
                ),
                features={"bond_type": tf.zeros([0], tf.int64)},
            )
        },
    )
    validate_graph(graph, "mutag", num_classes={("context", "label"): 4})
    with pytest.raises(ValidationError, match=r"'label' of 'context' must lie in \[0, 2\)"):
        validate_graph(graph, "mutag", num_classes={("context", "label"): 2})


def test_validate_graph_missing_edge_set(tiny_schema):
    graph = tfgnn.GraphTensor.from_pieces(
        node_sets={
            "paper": tfgnn.NodeSet.from_fields(
                sizes=[1], features={"feat": tf.zeros([1, 3]), "label": tf.zeros([1], tf.int64)}
            )
        }
    )
    with pytest.raises(ValidationError, match=r"Edge sets \['cites'\] are in the schema") as info:
        validate_graph(graph, tiny_schema)
    assert info.value.set_name == "cites"


# validate_tables


def _tables(nodes=None, edges=None, context=None) -> GraphTables:
    return GraphTables(
        {"paper": papers() if nodes is None else nodes},
        {"cites": cites() if edges is None else edges},
        context,
    )


def test_valid_tables_pass(tiny_schema):
    validate_tables(_tables(), tiny_schema)


@pytest.mark.parametrize(
    ("tables", "set_name", "feature", "rows", "match"),
    [
        (
            _tables(nodes=papers(["a", "b", "a"])),
            "paper",
            "id",
            [2],
            r"'paper' has 1 rows whose 'id' repeats an earlier row, first rows \[2\] "
            r"\(ids \['a'\]\). Add DropDuplicateNodes\(\)",
        ),
        (
            _tables(nodes=papers([])),
            "paper",
            None,
            [],
            r"Node set 'paper' is empty \(0 nodes\); give it at least one node",
        ),
        (
            _tables(edges=pd.DataFrame({"src": ["a"], "target": ["b"], "weight": [1.0]})),
            "cites",
            "source",
            [],
            r"edge set 'cites' lacks columns \['source'\]",
        ),
        (
            _tables(edges=cites([("a", "b"), ("b", "q")])),
            "cites",
            None,
            [1],
            r"'cites' has 1 dangling edges.*unknown target ids \['q'\]. Add DropDanglingEdges",
        ),
        (
            _tables(edges=cites().assign(weight=["1.0", "heavy"])),
            "cites",
            "weight",
            [1],
            r"'weight' of 'cites' must be castable to float32; rows \[1\] hold \['heavy'\]",
        ),
        (
            _tables(edges=cites().assign(kind=["x", "y"])),
            "cites",
            "kind",
            [],
            r"Columns \['kind'\] of the table of 'cites' are not features",
        ),
        (
            _tables(context=pd.DataFrame({"year": [2020]})),
            "context",
            "year",
            [],
            r"Columns \['year'\] of the table of 'context' are not features",
        ),
    ],
    ids=[
        "duplicate-ids",
        "empty-node-set",
        "edge-columns",
        "dangling",
        "not-castable",
        "extra-edge-column",
        "extra-context-column",
    ],
)
def test_validate_tables_errors(tiny_schema, tables, set_name, feature, rows, match):
    with pytest.raises(ValidationError, match=match) as info:
        validate_tables(tables, tiny_schema)
    assert (info.value.set_name, info.value.feature, info.value.rows) == (set_name, feature, rows)


@pytest.mark.parametrize(
    ("context", "match", "rows"),
    [
        (None, r"context features \['label'\] but no context table", []),
        (
            pd.DataFrame({"label": [0, 1]}),
            r"context table has 2 rows; one graph needs exactly one",
            [0, 1],
        ),
    ],
    ids=["missing", "two-rows"],
)
def test_validate_tables_context(context, match, rows):
    tables = GraphTables(
        {"atom": pd.DataFrame({"feat": [[0.0] * 7]})},
        {"bond": pd.DataFrame({"source": [0], "target": [0], "bond_type": [1]})},
        context,
    )
    with pytest.raises(ValidationError, match=match) as info:
        validate_tables(tables, "mutag")
    assert (info.value.set_name, info.value.rows) == ("context", rows)


def test_validation_error_is_a_value_error():
    assert issubclass(ValidationError, ValueError)
