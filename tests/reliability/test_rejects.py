"""Values that used to be read as something else are refused (unit level, no CLI)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tfgraphtune.data.datasets.tu import _whole_number
from tfgraphtune.data.errors import ValidationError, short_repr
from tfgraphtune.data.tables import graph_from_tables

SCHEMA = """
node_sets { key: "n" value { features { key: "x" value { dtype: DT_FLOAT } } } }
edge_sets { key: "e" value { source: "n" target: "n" } }
"""


@pytest.mark.parametrize("blank", ["", "   ", None])
def test_blank_node_id_is_not_joined_to_a_blank_endpoint(tmp_path, blank):
    (tmp_path / "s.pbtxt").write_text(SCHEMA)
    nodes = pd.DataFrame({"id": pd.Series(["a", blank, "c"], dtype=object), "x": [1.0, 2, 3]})
    edges = pd.DataFrame({"source": pd.Series([blank], dtype=object), "target": ["a"]})
    with pytest.raises(ValidationError, match=r"1 rows with an empty 'id', first rows \[1\]"):
        graph_from_tables(tmp_path / "s.pbtxt", {"n": nodes}, {"e": edges})


def test_blank_endpoint_is_named(tmp_path):
    (tmp_path / "s.pbtxt").write_text(SCHEMA)
    nodes = pd.DataFrame({"id": ["a", "b"], "x": [1.0, 2]})
    edges = pd.DataFrame({"source": ["a", "b"], "target": ["b", " "]})
    with pytest.raises(ValidationError, match=r"empty target id, first rows \[1\]"):
        graph_from_tables(tmp_path / "s.pbtxt", {"n": nodes}, {"e": edges})


@pytest.mark.parametrize("text, value", [("3", 3), ("3.0", 3), ("-1", -1), ("1e2", 100)])
def test_tu_whole_numbers(text, value):
    assert _whole_number(text) == value


@pytest.mark.parametrize("text", ["2.5", "inf", "-inf", "nan", "abc", "1e400"])
def test_tu_refuses_what_is_not_a_whole_number(text):
    with pytest.raises(ValueError):
        _whole_number(text)


def test_short_repr_never_prints_a_whole_wide_row():
    rows = [np.arange(1433, dtype=np.float32) for _ in range(5)]
    text = short_repr(rows)
    assert len(text) < 400
    assert "(1428 more)" in text and "(0 more)" not in text
    assert short_repr([1, 2]) == "[1, 2]"
    assert short_repr("x" * 500).endswith("...")
