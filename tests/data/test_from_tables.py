"""Node data sets from the user's tables: ids mapped through cleaning, split table errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tfgraphtune.data.datasets.from_tables import node_dataset_from_tables
from tfgraphtune.data.errors import ValidationError

SCHEMA = """
node_sets { key: "paper" value {
  features { key: "feat" value { dtype: DT_FLOAT shape { dim { size: 2 } } } }
  features { key: "label" value { dtype: DT_INT64 } } } }
edge_sets { key: "cites" value { source: "paper" target: "paper" } }
"""


@pytest.fixture
def tables(tmp_path):
    schema = tmp_path / "s.pbtxt"
    schema.write_text(SCHEMA)
    nodes = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "feat": [[1, 0], [0, 1], [1, 1], [0, 0]],
            "label": [0, 1, 1, 0],
        }
    )
    # b->b is a self loop; c->zz dangles.
    edges = pd.DataFrame({"source": ["a", "b", "c", "b"], "target": ["b", "c", "zz", "b"]})
    splits = pd.DataFrame(
        {"id": ["d", "a", "b", "c"], "split": ["train", "train", "validation", "test"]}
    )
    return schema, nodes, edges, splits


def test_ids_map_to_rows_and_cleaning_is_reported(tables):
    schema, nodes, edges, splits = tables
    dataset = node_dataset_from_tables(
        schema,
        nodes={"paper": nodes},
        edges={"cites": edges},
        node_set="paper",
        feature="feat",
        label="label",
        splits=splits,
        cleaning=["drop_self_loops", "drop_dangling_edges", "make_undirected"],
    )
    # Rows follow the node table: a=0, b=1, c=2, d=3.
    assert dataset.splits["train"].tolist() == [0, 3]
    assert dataset.splits["validation"].tolist() == [1]
    assert dataset.splits["test"].tolist() == [2]
    assert dataset.num_classes == 2
    # a-b and b-c remain, both directions: 4 edges.
    assert dataset.num_edges == 4
    assert len(dataset.notes) == 3 and "removed {'cites': 1}" in dataset.notes[0]


@pytest.mark.parametrize(
    "splits, message",
    [
        (pd.DataFrame({"id": ["a"], "part": ["train"]}), "missing \\['split'\\]"),
        (pd.DataFrame({"id": ["a", "b"], "split": ["train", "dev"]}), "name splits \\['dev'\\]"),
        (pd.DataFrame({"id": ["a", "a"], "split": ["train", "test"]}), "repeat a node id"),
        (
            pd.DataFrame({"id": ["a", "q"], "split": ["train", "validation"]}),
            "node ids \\['q'\\] that are not in node set 'paper'",
        ),
        (pd.DataFrame({"id": ["a"], "split": ["train"]}), "no node to 'validation'"),
    ],
    ids=["no_split_column", "bad_name", "duplicate", "unknown_id", "empty_validation"],
)
def test_split_table_errors(tables, splits, message):
    schema, nodes, edges, _ = tables
    with pytest.raises(ValidationError, match=message):
        node_dataset_from_tables(
            schema,
            nodes={"paper": nodes},
            edges={"cites": edges.iloc[:1]},
            node_set="paper",
            feature="feat",
            label="label",
            splits=splits,
        )


def test_unknown_cleaning_step(tables):
    schema, nodes, edges, splits = tables
    with pytest.raises(ValidationError, match="unknown cleaning step"):
        node_dataset_from_tables(
            schema,
            nodes={"paper": nodes},
            edges={"cites": edges},
            node_set="paper",
            feature="feat",
            label="label",
            splits=splits,
            cleaning=["drop_everything"],
        )


def test_dangling_edge_without_cleaning_names_the_fix(tables):
    schema, nodes, edges, splits = tables
    with pytest.raises(ValidationError, match="DropDanglingEdges"):
        node_dataset_from_tables(
            schema,
            nodes={"paper": nodes},
            edges={"cites": edges},
            node_set="paper",
            feature="feat",
            label="label",
            splits=splits,
        )


def test_float_labels_mean_regression(tmp_path, tables):
    _, nodes, edges, splits = tables
    schema = tmp_path / "r.pbtxt"
    schema.write_text(SCHEMA.replace("DT_INT64", "DT_FLOAT"))
    dataset = node_dataset_from_tables(
        schema,
        nodes={"paper": nodes.assign(label=[0.5, 1.5, 2.0, 0.0])},
        edges={"cites": edges.iloc[:2]},
        node_set="paper",
        feature="feat",
        label="label",
        splits=splits,
    )
    assert dataset.num_classes == 0
    np.testing.assert_allclose(dataset.labels, [0.5, 1.5, 2.0, 0.0])
