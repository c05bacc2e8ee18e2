"""Tables (DataFrame, CSV, Parquet) and arrays to GraphTensors, and back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from tests.data.tiny_graphs import cites, papers
from tfgraphtune.data import (
    DropDanglingEdges,
    GraphTables,
    ValidationError,
    graph_from_arrays,
    graph_from_tables,
    read_table,
    tables_from_graph,
)

# papers(): feat rows [0,1,2], [1,2,3], [2,3,4]; labels [0, 1, 0].
EXPECTED_FEAT = np.array([[0, 1, 2], [1, 2, 3], [2, 3, 4]], dtype=np.float32)


def _adjacency(graph, edge_set="cites"):
    adjacency = graph.edge_sets[edge_set].adjacency
    return adjacency.source.numpy().tolist(), adjacency.target.numpy().tolist()


# read_table


def test_read_table_copies_dataframe():
    frame = papers()
    table = read_table(frame)
    table.loc[0, "label"] = 99
    assert table is not frame
    assert frame.loc[0, "label"] == 0


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".pq"], ids=["csv", "parquet", "pq"])
def test_read_table_file_round_trip(tmp_path, suffix):
    frame = pd.DataFrame({"id": ["a", "b"], "feat.0": [0.5, 1.5], "label": [0, 1]})
    path = tmp_path / f"papers{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    pd.testing.assert_frame_equal(read_table(path), frame, check_dtype=False)


@pytest.mark.parametrize(
    ("name", "create", "match"),
    [
        ("papers.xlsx", True, r"papers\.xlsx.*unknown extension '\.xlsx'"),
        ("absent.csv", False, r"absent\.csv.*does not exist"),
    ],
    ids=["unknown-extension", "missing-file"],
)
def test_read_table_errors_name_the_path(tmp_path, name, create, match):
    path = tmp_path / name
    if create:
        path.write_text("id\n1\n")
    with pytest.raises(ValidationError, match=match):
        read_table(path)


# graph_from_tables: feature layouts and ids


def _split_columns(frame: pd.DataFrame) -> pd.DataFrame:
    feat = np.array(frame.pop("feat").tolist())
    for i in range(feat.shape[1]):
        frame[f"feat.{i}"] = feat[:, i]
    return frame


@pytest.mark.parametrize(
    "layout",
    [
        lambda f: f,
        _split_columns,
        lambda f: f.assign(feat=[np.array(v) for v in f["feat"]]),
    ],
    ids=["list-column", "split-columns", "array-column"],
)
def test_vector_feature_layouts_give_the_same_graph(tiny_schema, layout):
    graph, report = graph_from_tables(tiny_schema, {"paper": layout(papers())}, {"cites": cites()})
    np.testing.assert_array_equal(graph.node_sets["paper"]["feat"].numpy(), EXPECTED_FEAT)
    assert graph.node_sets["paper"]["feat"].dtype == tf.float32
    assert graph.node_sets["paper"]["label"].numpy().tolist() == [0, 1, 0]
    assert graph.node_sets["paper"]["label"].dtype == tf.int64
    assert graph.edge_sets["cites"]["weight"].numpy().tolist() == [0.5, 1.5]
    assert report.steps == []


@pytest.mark.parametrize(
    "ids",
    [("x", "y", "z"), (10, 30, 20), (("u", 1), ("u", 2), ("v", 1))],
    ids=["str", "int", "tuple"],
)
def test_ids_of_any_hashable_type_map_in_table_order(tiny_schema, ids):
    # Edges (ids[2] -> ids[0]) and (ids[1] -> ids[2]): positions source [2, 1], target [0, 2].
    edges = cites([(ids[2], ids[0]), (ids[1], ids[2])])
    graph, _ = graph_from_tables(tiny_schema, {"paper": papers(ids)}, {"cites": edges})
    assert _adjacency(graph) == ([2, 1], [0, 2])


def test_dataframe_index_is_the_id_without_id_column(tiny_schema):
    nodes = papers().set_index("id")
    graph, _ = graph_from_tables(tiny_schema, {"paper": nodes}, {"cites": cites([("c", "a")])})
    assert _adjacency(graph) == ([2], [0])


def test_custom_id_column(tiny_schema):
    nodes = papers().rename(columns={"id": "paper_id"})
    graph, _ = graph_from_tables(
        tiny_schema, {"paper": nodes}, {"cites": cites()}, id_column="paper_id"
    )
    assert _adjacency(graph) == ([0, 1], [1, 2])


def test_callers_dataframes_are_not_mutated(tiny_schema):
    nodes, edges = papers(), cites([("a", "b"), ("a", "zz")])
    nodes_before, edges_before = nodes.copy(deep=True), edges.copy(deep=True)
    graph, report = graph_from_tables(
        tiny_schema, {"paper": nodes}, {"cites": edges}, cleaning=[DropDanglingEdges()]
    )
    pd.testing.assert_frame_equal(nodes, nodes_before)
    pd.testing.assert_frame_equal(edges, edges_before)
    assert report.total_removed == 1
    assert _adjacency(graph) == ([0], [1])


@pytest.mark.parametrize("suffix", [".csv", ".parquet"], ids=["csv", "parquet"])
def test_graph_from_files(tmp_path, tiny_schema, suffix):
    # CSV cannot hold list cells, so the vector feature is in feat.0..feat.2 columns.
    nodes, edges = _split_columns(papers()), cites()
    paths = {}
    for name, frame in (("paper", nodes), ("cites", edges)):
        paths[name] = tmp_path / f"{name}{suffix}"
        if suffix == ".csv":
            frame.to_csv(paths[name], index=False)
        else:
            frame.to_parquet(paths[name], index=False)
    graph, _ = graph_from_tables(
        tiny_schema, {"paper": str(paths["paper"])}, {"cites": paths["cites"]}
    )
    np.testing.assert_array_equal(graph.node_sets["paper"]["feat"].numpy(), EXPECTED_FEAT)
    assert _adjacency(graph) == ([0, 1], [1, 2])


def test_parquet_list_column(tmp_path, tiny_schema):
    path = tmp_path / "paper.parquet"
    papers().to_parquet(path, index=False)
    graph, _ = graph_from_tables(tiny_schema, {"paper": path}, {"cites": cites()})
    np.testing.assert_array_equal(graph.node_sets["paper"]["feat"].numpy(), EXPECTED_FEAT)


def test_context_table_with_shipped_schema():
    atoms = pd.DataFrame({"id": [0, 1], "feat": [[1.0] + [0.0] * 6, [0.0, 1.0] + [0.0] * 5]})
    bonds = pd.DataFrame({"source": [0, 1], "target": [1, 0], "bond_type": [2, 2]})
    graph, _ = graph_from_tables(
        "mutag", {"atom": atoms}, {"bond": bonds}, context=pd.DataFrame({"label": [1]})
    )
    assert graph.context["label"].numpy().tolist() == [1]
    assert graph.edge_sets["bond"]["bond_type"].numpy().tolist() == [2, 2]


# graph_from_tables: errors


@pytest.mark.parametrize(
    ("change", "feature", "rows", "match"),
    [
        (
            lambda n: n.assign(feat=[[0.0, 1.0, 2.0], [1.0, 2.0], [2.0, 3.0, 4.0]]),
            "feat",
            [1],
            r"'feat' of 'paper'.*shape \[3\].*rows \[1\]",
        ),
        (
            lambda n: _split_columns(n).drop(columns=["feat.2"]),
            "feat",
            [],
            r"'feat' of 'paper'.*missing \['feat\.2'\]",
        ),
        (
            lambda n: n.assign(label=["0", "x", "1"]),
            "label",
            [1],
            r"'label' of 'paper'.*int64; rows \[1\] hold \['x'\]",
        ),
        (
            lambda n: n.assign(label=[0.0, 1.0, 1.5]),
            "label",
            [2],
            r"'label' of 'paper'.*rows \[2\] hold \[1\.5\]",
        ),
        (lambda n: n.drop(columns=["label"]), "label", [], r"'label' of 'paper'.*not in the table"),
        (
            lambda n: n.assign(title=["t1", "t2", "t3"]),
            "title",
            [],
            r"\['title'\] of the table of 'paper' are not features in the schema",
        ),
        (
            lambda n: n.assign(feat=[[0.0, 1.0, 2.0], [1.0, np.nan, 3.0], [2.0, 3.0, 4.0]]),
            "feat",
            [1],
            r"'feat' of 'paper' holds NaN or Inf in 1 rows, first rows \[1\]",
        ),
    ],
    ids=[
        "list-wrong-length",
        "split-column-missing",
        "not-castable",
        "not-whole-number",
        "missing-feature",
        "extra-column",
        "nan",
    ],
)
def test_feature_errors_name_set_feature_rows(tiny_schema, change, feature, rows, match):
    with pytest.raises(ValidationError, match=match) as info:
        graph_from_tables(tiny_schema, {"paper": change(papers())}, {"cites": cites()})
    assert (info.value.set_name, info.value.feature, info.value.rows) == ("paper", feature, rows)


def test_missing_node_set_is_named(tiny_schema):
    with pytest.raises(ValidationError, match=r"Node sets \['paper'\] are in the schema but not"):
        graph_from_tables(tiny_schema, {}, {"cites": cites()})


@pytest.mark.parametrize(
    ("nodes", "edges", "match"),
    [
        ({"paper": papers(), "author": papers()}, {"cites": cites()}, r"Node sets \['author'\]"),
        ({"paper": papers()}, {"cites": cites(), "wrote": cites()}, r"Edge sets \['wrote'\]"),
    ],
    ids=["extra-node-set", "extra-edge-set"],
)
def test_extra_tables_are_refused(tiny_schema, nodes, edges, match):
    with pytest.raises(ValidationError, match=match + ".*not in the schema"):
        graph_from_tables(tiny_schema, nodes, edges)


def test_dangling_edges_are_counted_sampled_and_point_to_the_fix(tiny_schema):
    edges = cites([("a", "b"), ("q", "a"), ("b", "r"), ("s", "t")])
    with pytest.raises(ValidationError) as info:
        graph_from_tables(tiny_schema, {"paper": papers()}, {"cites": edges})
    message = str(info.value)
    assert "Edge set 'cites' has 3 dangling edges" in message
    assert "unknown source ids ['q', 's']" in message
    assert "unknown target ids ['r', 't']" in message
    assert "DropDanglingEdges()" in message
    assert (info.value.set_name, info.value.rows) == ("cites", [1, 2, 3])


# graph_from_arrays


def test_graph_from_arrays_with_featureless_node_set():
    graph = graph_from_arrays(
        "user_item",
        node_features={"item": {"feat": np.ones((2, 8))}},
        node_counts={"user": 3},
        edges={"rated": (np.array([0, 2]), np.array([1, 1]))},
        edge_features={"rated": {"rating": np.array([4, 5])}},
    )
    assert graph.node_sets["user"].sizes.numpy().tolist() == [3]
    assert graph.node_sets["item"]["feat"].dtype == tf.float32
    assert graph.edge_sets["rated"]["rating"].numpy().tolist() == [4.0, 5.0]
    assert _adjacency(graph, "rated") == ([0, 2], [1, 1])


def test_graph_from_arrays_needs_node_counts_for_featureless_sets():
    with pytest.raises(ValidationError, match=r"'user'.*node_counts") as info:
        graph_from_arrays(
            "user_item",
            node_features={"item": {"feat": np.ones((2, 8))}},
            edges={"rated": (np.array([0]), np.array([1]))},
            edge_features={"rated": {"rating": np.array([4.0])}},
        )
    assert info.value.set_name == "user"


def test_graph_from_arrays_rejects_out_of_range_index(tiny_schema):
    with pytest.raises(ValidationError, match=r"'cites' has 1 target indices outside \[0, 3\)"):
        graph_from_arrays(
            tiny_schema,
            node_features={"paper": {"feat": EXPECTED_FEAT, "label": np.array([0, 1, 0])}},
            edges={"cites": (np.array([0, 1]), np.array([1, 3]))},
            edge_features={"cites": {"weight": np.array([1.0, 2.0])}},
        )


def test_graph_from_arrays_context_scalar():
    graph = graph_from_arrays(
        "mutag",
        node_features={"atom": {"feat": np.eye(2, 7)}},
        edges={"bond": (np.array([0]), np.array([1]))},
        edge_features={"bond": {"bond_type": np.array([1])}},
        context_features={"label": 1},
    )
    assert graph.context["label"].numpy().tolist() == [1]


# tables_from_graph


def test_tables_from_graph_round_trip(tiny_schema):
    graph, _ = graph_from_tables(tiny_schema, {"paper": papers()}, {"cites": cites()})
    tables = tables_from_graph(graph)
    assert isinstance(tables, GraphTables)
    assert tables.node_sets["paper"]["id"].tolist() == [0, 1, 2]
    assert tables.node_sets["paper"]["feat"].tolist() == EXPECTED_FEAT.tolist()
    assert tables.edge_sets["cites"][["source", "target"]].values.tolist() == [[0, 1], [1, 2]]
    assert tables.edge_endpoints == {"cites": ("paper", "paper")}
    again, _ = graph_from_tables(tiny_schema, tables.node_sets, tables.edge_sets, tables.context)
    for name in ("feat", "label"):
        np.testing.assert_array_equal(
            again.node_sets["paper"][name], graph.node_sets["paper"][name]
        )
    assert _adjacency(again) == _adjacency(graph)
