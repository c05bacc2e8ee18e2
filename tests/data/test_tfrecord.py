"""GraphTensors to TFRecord files and back."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tests.data.tiny_graphs import cites, papers
from tfgraphtune.data import ValidationError, graph_from_tables, read_graphs, write_graphs


def _graphs(schema, count: int):
    """Yields `count` tiny graphs; graph k has labels [k, k+1, k]."""
    for k in range(count):
        nodes = papers().assign(label=[k, k + 1, k])
        yield graph_from_tables(schema, {"paper": nodes}, {"cites": cites()})[0]


@pytest.mark.parametrize("compression", [None, "GZIP"], ids=["plain", "gzip"])
def test_round_trip_keeps_features_and_indices(tmp_path, tiny_schema, compression):
    path = tmp_path / "graphs.tfrecord"
    assert write_graphs(path, _graphs(tiny_schema, 3), tiny_schema, compression=compression) == 3
    read = list(read_graphs(path, tiny_schema))
    assert len(read) == 3
    for k, (graph, expected) in enumerate(zip(read, _graphs(tiny_schema, 3))):
        assert graph.node_sets["paper"]["label"].numpy().tolist() == [k, k + 1, k]
        for name in ("feat", "label"):
            np.testing.assert_array_equal(
                graph.node_sets["paper"][name], expected.node_sets["paper"][name]
            )
        np.testing.assert_array_equal(
            graph.edge_sets["cites"]["weight"], expected.edge_sets["cites"]["weight"]
        )
        for end in ("source", "target"):
            np.testing.assert_array_equal(
                getattr(graph.edge_sets["cites"].adjacency, end),
                getattr(expected.edge_sets["cites"].adjacency, end),
            )


def test_write_streams_a_generator_without_len(tmp_path, tiny_schema):
    generator = _graphs(tiny_schema, 2)
    assert not hasattr(generator, "__len__")
    assert write_graphs(tmp_path / "g.tfrecord", generator, tiny_schema) == 2


def test_read_batched(tmp_path, tiny_schema):
    path = tmp_path / "graphs.tfrecord"
    write_graphs(path, _graphs(tiny_schema, 3), tiny_schema)
    batches = list(read_graphs(path, tiny_schema, batch_size=2))
    assert [int(b.shape[0]) for b in batches] == [2, 1]
    # Labels of graphs 0 and 1: [0, 1, 0] and [1, 2, 1].
    assert batches[0].node_sets["paper"]["label"].flat_values.numpy().tolist() == [0, 1, 0, 1, 2, 1]


def test_file_written_with_another_schema(tmp_path, tiny_schema):
    path = tmp_path / "graphs.tfrecord"
    write_graphs(path, _graphs(tiny_schema, 1), tiny_schema)
    with pytest.raises(ValidationError, match=r"do not match the schema.*lacks \['context/label'"):
        read_graphs(path, "mutag")


def test_corrupt_file(tmp_path, tiny_schema):
    path = tmp_path / "broken.tfrecord"
    path.write_bytes(b"not a tfrecord at all")
    with pytest.raises(
        ValidationError, match=r"broken\.tfrecord' is not a readable TFRecord"
    ) as info:
        read_graphs(path, tiny_schema)
    assert "function_node" not in str(info.value)


def test_missing_file(tmp_path, tiny_schema):
    with pytest.raises(ValidationError, match=r"absent\.tfrecord' does not exist"):
        read_graphs(tmp_path / "absent.tfrecord", tiny_schema)


def test_write_refuses_graph_of_another_schema(tmp_path, tiny_schema):
    with pytest.raises(ValidationError, match=r"Graph 0 does not match the schema"):
        write_graphs(tmp_path / "g.tfrecord", _graphs(tiny_schema, 1), "mutag")


def test_write_refuses_batched_graph(tmp_path, tiny_schema):
    batch = next(iter(tf.data.Dataset.from_tensors(next(_graphs(tiny_schema, 1))).batch(1)))
    with pytest.raises(ValidationError, match=r"Graph 0 is batched \(rank 1\)"):
        write_graphs(tmp_path / "g.tfrecord", [batch], tiny_schema)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"batch_size": 0},
            r"batch_size, expected a positive integer or None. Received: batch_size=0",
        ),
        ({"compression": "zip"}, r"compression, expected one of \[None, 'GZIP', 'auto'\]"),
    ],
    ids=["batch-size", "compression"],
)
def test_read_options(tmp_path, tiny_schema, kwargs, match):
    path = tmp_path / "g.tfrecord"
    write_graphs(path, _graphs(tiny_schema, 1), tiny_schema)
    with pytest.raises(ValidationError, match=match):
        read_graphs(path, tiny_schema, **kwargs)
