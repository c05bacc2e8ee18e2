"""Every cleaning step: exact counts, sample ids, option checks, repr, no mutation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.data.tiny_graphs import cites, papers
from tfgraphtune.data import (
    CleaningReport,
    Compose,
    DropDanglingEdges,
    DropDuplicateEdges,
    DropDuplicateNodes,
    DropSelfLoops,
    FilterNodes,
    GraphTables,
    MakeUndirected,
    NormalizeFeatures,
    ValidationError,
)


def _tables(nodes: pd.DataFrame, edges: pd.DataFrame) -> GraphTables:
    return GraphTables({"paper": nodes}, {"cites": edges})


def _pairs(tables: GraphTables, edge_set: str = "cites") -> list[tuple]:
    frame = tables.edge_sets[edge_set]
    return list(zip(frame["source"], frame["target"]))


def _frames(tables: GraphTables) -> list[pd.DataFrame]:
    return [*tables.node_sets.values(), *tables.edge_sets.values()]


def _run_unchanged_input(step, tables: GraphTables):
    """Runs `step` and asserts it left its input tables as they were."""
    before = tables.copy()
    result, report = step(tables)
    for frame, original in zip(_frames(tables), _frames(before)):
        pd.testing.assert_frame_equal(frame, original)
    return result, report


def test_drop_duplicate_nodes_keeps_first_and_leaves_edges():
    # Ids a, b, a, c, b: rows 2 and 4 repeat a and b; the edge table is not touched.
    nodes = papers(["a", "b", "a", "c", "b"])
    tables = _tables(nodes, cites([("a", "b")]))
    result, report = _run_unchanged_input(DropDuplicateNodes(), tables)
    assert result.node_sets["paper"]["id"].tolist() == ["a", "b", "c"]
    assert result.node_sets["paper"]["label"].tolist() == [0, 1, 1]
    assert report.removed == {"paper": 2}
    assert report.sample_ids == {"paper": ["a", "b"]}
    assert _pairs(result) == [("a", "b")]


def test_drop_duplicate_nodes_keep_last():
    # Ids a, b, a: keep="last" drops row 0, keeping the label 0 of row 2 (labels 0, 1, 0).
    result, report = DropDuplicateNodes(keep="last")(_tables(papers(["a", "b", "a"]), cites([])))
    assert result.node_sets["paper"]["feat"].tolist() == [[1.0, 2.0, 3.0], [2.0, 3.0, 4.0]]
    assert report.removed == {"paper": 1}


def test_drop_duplicate_edges():
    # (a,b) x3 and (b,a) once: two copies of (a,b) go; (b,a) is a different pair.
    edges = cites([("a", "b"), ("a", "b"), ("b", "a"), ("a", "b")])
    result, report = _run_unchanged_input(DropDuplicateEdges(), _tables(papers(), edges))
    assert _pairs(result) == [("a", "b"), ("b", "a")]
    assert result.edge_sets["cites"]["weight"].tolist() == [0.5, 2.5]
    assert report.removed == {"cites": 2}
    assert report.sample_ids == {"cites": [("a", "b")]}


def test_drop_self_loops():
    edges = cites([("a", "a"), ("a", "b"), ("c", "c")])
    result, report = _run_unchanged_input(DropSelfLoops(), _tables(papers(), edges))
    assert _pairs(result) == [("a", "b")]
    assert report.removed == {"cites": 2}
    assert report.sample_ids == {"cites": [("a", "a"), ("c", "c")]}


def test_drop_self_loops_skips_edge_sets_between_different_node_sets():
    # user 1 -> item 1 is not a loop: the ids live in different node sets.
    tables = GraphTables(
        {"user": pd.DataFrame({"id": [1]}), "item": pd.DataFrame({"id": [1]})},
        {"rated": pd.DataFrame({"source": [1], "target": [1]})},
        edge_endpoints={"rated": ("user", "item")},
    )
    result, report = DropSelfLoops()(tables)
    assert _pairs(result, "rated") == [(1, 1)]
    assert report.removed == {}


def test_drop_dangling_edges():
    # Nodes a, b, c: (a,x) and (y,b) dangle, (b,c) stays.
    edges = cites([("a", "x"), ("b", "c"), ("y", "b")])
    result, report = _run_unchanged_input(DropDanglingEdges(), _tables(papers(), edges))
    assert _pairs(result) == [("b", "c")]
    assert report.removed == {"cites": 2}
    assert report.sample_ids == {"cites": [("a", "x"), ("y", "b")]}


def test_drop_dangling_edges_uses_edge_endpoints():
    # user ids {1}, item ids {7}: (1, 7) is fine, (7, 1) has both ends in the wrong set.
    tables = GraphTables(
        {"user": pd.DataFrame({"id": [1]}), "item": pd.DataFrame({"id": [7]})},
        {"rated": pd.DataFrame({"source": [1, 7], "target": [7, 1]})},
        edge_endpoints={"rated": ("user", "item")},
    )
    result, report = DropDanglingEdges()(tables)
    assert _pairs(result, "rated") == [(1, 7)]
    assert report.removed == {"rated": 1}


def _square():
    # a->b, b->c, c->a, a->d. Degrees (in + out): a 3, b 2, c 2, d 1.
    return _tables(
        papers(["a", "b", "c", "d"]), cites([("a", "b"), ("b", "c"), ("c", "a"), ("a", "d")])
    )


@pytest.mark.parametrize(
    ("step", "kept_nodes", "kept_pairs", "removed_ids", "removed_edges"),
    [
        (
            FilterNodes("paper", min_degree=2),
            ["a", "b", "c"],
            [("a", "b"), ("b", "c"), ("c", "a")],
            ["d"],
            [("a", "d")],
        ),
        (
            FilterNodes("paper", max_degree=2),
            ["b", "c", "d"],
            [("b", "c")],
            ["a"],
            [("a", "b"), ("c", "a"), ("a", "d")],
        ),
        (
            # Labels are i % 2: a 0, b 1, c 0, d 1.
            FilterNodes("paper", predicate=lambda f: f["label"] == 0),
            ["a", "c"],
            [("c", "a")],
            ["b", "d"],
            [("a", "b"), ("b", "c"), ("a", "d")],
        ),
        (
            FilterNodes("paper", min_degree=2, predicate=lambda f: f["label"] == 1),
            ["b"],
            [],
            ["a", "c", "d"],
            [("a", "b"), ("b", "c"), ("c", "a"), ("a", "d")],
        ),
    ],
    ids=["min-degree", "max-degree", "predicate", "degree-and-predicate"],
)
def test_filter_nodes(step, kept_nodes, kept_pairs, removed_ids, removed_edges):
    result, report = _run_unchanged_input(step, _square())
    assert result.node_sets["paper"]["id"].tolist() == kept_nodes
    assert _pairs(result) == kept_pairs
    assert report.removed == {"paper": len(removed_ids), "cites": len(removed_edges)}
    assert report.sample_ids == {"paper": removed_ids, "cites": removed_edges}


def test_filter_nodes_degree_with_duplicate_ids():
    # Ids a, a, b and edge a->b: both a rows have degree 1, b has degree 1; max_degree=0
    # removes all three rows and the edge.
    tables = _tables(papers(["a", "a", "b"]), cites([("a", "b")]))
    result, report = FilterNodes("paper", max_degree=0)(tables)
    assert result.node_sets["paper"].empty
    assert report.removed == {"paper": 3, "cites": 1}
    assert report.sample_ids == {"paper": ["a", "b"], "cites": [("a", "b")]}


def test_filter_nodes_keeps_unrelated_dangling_edges():
    # (x, y) dangles already: FilterNodes does not drop it, DropDanglingEdges would.
    tables = _tables(papers(["a", "b"]), cites([("a", "b"), ("x", "y")]))
    result, report = FilterNodes("paper", min_degree=0)(tables)
    assert _pairs(result) == [("a", "b"), ("x", "y")]
    assert report.removed == {"paper": 0, "cites": 0}


def test_filter_nodes_predicate_must_return_one_bool_per_row():
    step = FilterNodes("paper", predicate=lambda f: f["label"])
    with pytest.raises(ValidationError, match=r"one bool per row \(4\).*dtype int64"):
        step(_square())


def test_make_undirected_adds_missing_reverses_once():
    # (a,b) twice, (b,c), (c,b), (a,a): only (b,a) is missing (added once); loops add nothing.
    edges = cites([("a", "b"), ("a", "b"), ("b", "c"), ("c", "b"), ("a", "a")])
    result, report = _run_unchanged_input(MakeUndirected(), _tables(papers(), edges))
    assert _pairs(result) == [
        ("a", "b"),
        ("a", "b"),
        ("b", "c"),
        ("c", "b"),
        ("a", "a"),
        ("b", "a"),
    ]
    # The reverse copies the features of its edge: weight 0.5 of the first (a,b).
    assert result.edge_sets["cites"]["weight"].tolist()[-1] == 0.5
    assert report.added == {"cites": 1}
    assert report.sample_ids == {"cites": [("b", "a")]}


def test_make_undirected_refuses_edge_sets_between_different_node_sets():
    tables = GraphTables(
        {"user": pd.DataFrame({"id": [1]}), "item": pd.DataFrame({"id": [7]})},
        {"rated": pd.DataFrame({"source": [1], "target": [7]})},
        edge_endpoints={"rated": ("user", "item")},
    )
    assert MakeUndirected()(tables)[1].added == {}
    with pytest.raises(ValidationError, match=r"'rated' connects 'user' to 'item'"):
        MakeUndirected(edge_sets=["rated"])(tables)


def test_normalize_row_sum():
    # Rows [1,1,2] -> [.25,.25,.5]; [0,0,0] sums to 0 and stays; [0,0,3] -> [0,0,1].
    nodes = papers(["a", "b", "c"]).assign(feat=[[1.0, 1.0, 2.0], [0.0, 0.0, 0.0], [0.0, 0.0, 3.0]])
    result, report = _run_unchanged_input(
        NormalizeFeatures("paper", "feat"), _tables(nodes, cites())
    )
    assert result.node_sets["paper"]["feat"].tolist() == [
        [0.25, 0.25, 0.5],
        [0.0, 0.0, 0.0],
        [0.0, 0.0, 1.0],
    ]
    assert report.changed == {"paper": 2}
    assert report.sample_ids == {"paper": ["a", "c"]}
    assert report.notes == ["paper.feat: 1 rows sum to zero; left as they were"]


def test_normalize_standardize_split_columns():
    # feat.0 = [1, 3] -> mean 2, std 1 -> [-1, 1]; feat.1 = [5, 5] is constant -> [0, 0].
    nodes = pd.DataFrame({"id": ["a", "b"], "feat.0": [1.0, 3.0], "feat.1": [5.0, 5.0]})
    step = NormalizeFeatures("paper", "feat", method="standardize")
    result, report = _run_unchanged_input(step, _tables(nodes, cites([])))
    np.testing.assert_allclose(result.node_sets["paper"][["feat.0", "feat.1"]], [[-1, 0], [1, 0]])
    assert report.changed == {"paper": 2}
    assert report.notes == ["paper.feat: 1 columns are constant; centered to zeros"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: FilterNodes("paper", min_degree=-1),
            "Received an invalid value for min_degree, expected an integer >= 0. "
            "Received: min_degree=-1",
        ),
        (
            lambda: FilterNodes("paper", min_degree=3, max_degree=2),
            "Received an invalid value for max_degree, expected an integer >= min_degree=3. "
            "Received: max_degree=2",
        ),
        (
            lambda: FilterNodes("paper", max_degree=1.5),
            "Received an invalid value for max_degree, expected an integer >= 0. "
            "Received: max_degree=1.5",
        ),
        (
            lambda: FilterNodes("paper"),
            "FilterNodes needs at least one of min_degree, max_degree or predicate.",
        ),
        (
            lambda: DropDuplicateNodes(keep="middle"),
            "Received an invalid value for keep, expected 'first' or 'last'. "
            "Received: keep='middle'",
        ),
        (
            lambda: NormalizeFeatures("paper", "feat", method="l2"),
            "Received an invalid value for method, expected one of ['row_sum', "
            "'standardize']. Received: method='l2'",
        ),
        (
            lambda: MakeUndirected(edge_sets="cites"),
            "Received an invalid value for edge_sets, expected a list of edge set names or "
            "None. Received: edge_sets='cites'",
        ),
        (
            lambda: Compose([DropSelfLoops(), "drop"]),
            "Received an invalid value for steps, expected a list of callable cleaning steps. "
            "Received: steps='drop'",
        ),
    ],
    ids=[
        "negative-min-degree",
        "max-below-min",
        "float-degree",
        "no-filter",
        "bad-keep",
        "bad-method",
        "edge-sets-str",
        "step-not-callable",
    ],
)
def test_invalid_options_are_refused_in_init(make, message):
    with pytest.raises(ValidationError) as info:
        make()
    assert str(info.value).startswith(message)


def _is_zero(frame):
    return frame["label"] == 0


@pytest.mark.parametrize(
    ("step", "text"),
    [
        (DropDuplicateNodes(), "DropDuplicateNodes(keep='first')"),
        (DropDuplicateEdges(), "DropDuplicateEdges()"),
        (DropSelfLoops(), "DropSelfLoops()"),
        (DropDanglingEdges(), "DropDanglingEdges()"),
        (
            FilterNodes("paper", min_degree=1, max_degree=5, predicate=_is_zero),
            "FilterNodes('paper', min_degree=1, max_degree=5, predicate=_is_zero)",
        ),
        (MakeUndirected(["cites"]), "MakeUndirected(edge_sets=['cites'])"),
        (
            NormalizeFeatures("paper", "feat", method="standardize"),
            "NormalizeFeatures('paper', 'feat', method='standardize')",
        ),
        (
            Compose([DropSelfLoops(), MakeUndirected()]),
            "Compose([DropSelfLoops(), MakeUndirected(edge_sets=None)])",
        ),
    ],
    ids=[
        "drop-duplicate-nodes",
        "drop-duplicate-edges",
        "drop-self-loops",
        "drop-dangling-edges",
        "filter-nodes",
        "make-undirected",
        "normalize-features",
        "compose",
    ],
)
def test_repr(step, text):
    assert repr(step) == text


def test_compose_runs_in_order_and_reports_every_row():
    # a->a loop, (a,b) twice, (b,z) dangling. Loops: -1; duplicates: -1; dangling: -1;
    # undirected: only (a,b) is left, so (b,a) is added.
    edges = cites([("a", "a"), ("a", "b"), ("a", "b"), ("b", "z")])
    steps = Compose([DropSelfLoops(), DropDuplicateEdges(), DropDanglingEdges(), MakeUndirected()])
    result, report = steps(_tables(papers(), edges))
    assert isinstance(report, CleaningReport)
    assert _pairs(result) == [("a", "b"), ("b", "a")]
    assert report.total_removed == 3
    assert report.total_added == 1
    frame = report.to_frame()
    assert frame.columns.tolist() == ["step", "set", "removed", "added", "changed", "sample_ids"]
    assert frame[["removed", "added"]].values.tolist() == [[1, 0], [1, 0], [1, 0], [0, 1]]
    assert frame["sample_ids"].tolist() == [[("a", "a")], [("a", "b")], [("b", "z")], [("b", "a")]]
    text = str(report)
    assert "DropDanglingEdges()" in text
    assert "total: 3 removed, 1 added, 0 changed" in text


def test_sample_ids_stop_at_five():
    # Seven self loops on seven nodes: all 7 counted, 5 sampled.
    ids = [f"n{i}" for i in range(7)]
    result, report = DropSelfLoops()(_tables(papers(ids), cites([(i, i) for i in ids])))
    assert report.removed == {"cites": 7}
    assert report.sample_ids["cites"] == [(i, i) for i in ids[:5]]


def test_empty_cleaning_report():
    report = CleaningReport([])
    assert report.total_removed == 0
    assert report.to_frame().empty
    assert str(report) == "Cleaning: no steps."
