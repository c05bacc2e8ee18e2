"""Data set loaders against the real local copies in ../shared/data, and their errors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from tfgraphtune.data.datasets import locations
from tfgraphtune.data.datasets.registry import load_dataset
from tfgraphtune.data.datasets.safe_pickle import load_planetoid_pickle
from tfgraphtune.data.errors import ValidationError


@pytest.mark.parametrize(
    "name, nodes, edges, features, classes, split",
    [
        ("cora", 2708, 10556, 1433, 7, (140, 500, 1000)),
        ("citeseer", 3327, 9104, 3703, 6, (120, 500, 1000)),
    ],
    ids=["cora", "citeseer"],
)
def test_planetoid_counts(data_dir, name, nodes, edges, features, classes, split):
    dataset = load_dataset(name, data_dir)
    facts = dataset.describe()
    assert facts["nodes"] == nodes
    assert facts["directed_edges"] == edges
    assert facts["features"] == features
    assert facts["classes"] == classes
    assert tuple(facts["split"].values()) == split
    labels = dataset.labels
    assert labels.min() == 0 and labels.max() == classes - 1
    # Splits are disjoint.
    train, val, test = (set(dataset.splits[k].tolist()) for k in ("train", "validation", "test"))
    assert not (train & val) and not (train & test) and not (val & test)
    # Edges are symmetric, without self loops or duplicates.
    adjacency = dataset.graph.edge_sets["cites"].adjacency
    source, target = adjacency.source.numpy(), adjacency.target.numpy()
    assert not np.any(source == target)
    keys = set(zip(source.tolist(), target.tolist(), strict=True))
    assert len(keys) == len(source)
    assert all((t, s) in keys for s, t in keys)


def test_cora_train_split_has_20_labels_per_class(data_dir):
    dataset = load_dataset("cora", data_dir)
    counts = np.bincount(dataset.labels[dataset.splits["train"]], minlength=7)
    assert counts.tolist() == [20] * 7


def test_citeseer_reports_padded_isolated_test_ids(data_dir):
    notes = load_dataset("citeseer", data_dir).notes
    assert "15 test ids without features padded with zero rows (no split)" in notes
    assert "248 self loops dropped" in notes


def test_mutag_counts(data_dir):
    dataset = load_dataset("mutag", data_dir)
    facts = dataset.describe()
    assert facts["graphs"] == 188
    assert facts["nodes"] == 3371
    assert facts["directed_edges"] == 7442
    assert facts["features"] == 7
    assert facts["class_sizes"] == [63, 125]
    first = dataset.graphs[0]
    # The first molecule of MUTAG has 17 atoms; every row of its features is one-hot.
    assert int(first.node_sets["atom"].total_size) == 17
    np.testing.assert_array_equal(first.node_sets["atom"]["feat"].numpy().sum(axis=1), 1.0)
    assert first.context["label"].dtype.name == "int64"


def test_tu_loader_builds_any_tu_set(tmp_path):
    # Two graphs: graph 1 = nodes 1,2 (edge 1-2 both ways), graph 2 = nodes 3,4,5 (path).
    folder = tmp_path / "tu" / "TOY"
    folder.mkdir(parents=True)
    (folder / "TOY_A.txt").write_text("1, 2\n2, 1\n3, 4\n4, 3\n4, 5\n5, 4\n")
    (folder / "TOY_graph_indicator.txt").write_text("1\n1\n2\n2\n2\n")
    (folder / "TOY_graph_labels.txt").write_text("3\n7\n")
    (folder / "TOY_node_attributes.txt").write_text("0.5\n1.5\n2.0\n3.0\n4.0\n")
    dataset = load_dataset("tu:TOY", tmp_path)
    assert dataset.labels.tolist() == [0, 1]  # 3 -> 0, 7 -> 1
    second = dataset.graphs[1]
    adjacency = second.edge_sets["edge"].adjacency
    assert adjacency.source.numpy().tolist() == [0, 1, 1, 2]  # ids local to the graph
    np.testing.assert_allclose(second.node_sets["node"]["feat"].numpy()[:, 0], [2.0, 3.0, 4.0])


def test_tu_loader_rejects_cross_graph_edges(tmp_path):
    folder = tmp_path / "BAD"
    folder.mkdir()
    (folder / "BAD_A.txt").write_text("1, 3\n")
    (folder / "BAD_graph_indicator.txt").write_text("1\n1\n2\n")
    (folder / "BAD_graph_labels.txt").write_text("0\n1\n")
    with pytest.raises(ValidationError, match="different graphs"):
        load_dataset("tu:BAD", tmp_path)


def test_unknown_name_lists_known_ones(data_dir):
    with pytest.raises(ValidationError, match=r"unknown data set 'karate'.*cora"):
        load_dataset("karate", data_dir)


def test_missing_local_files_say_where_they_were_looked_for(tmp_path):
    with pytest.raises(ValidationError, match=r"ind\.cora\.x.*planetoid"):
        load_dataset("cora", tmp_path)


def test_data_dir_from_environment(monkeypatch, data_dir):
    monkeypatch.setenv(locations.DATA_DIR_ENV, str(data_dir))
    assert load_dataset("cora").num_nodes == 2708


def test_missing_data_dir_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv(locations.DATA_DIR_ENV, str(tmp_path / "nope"))
    with pytest.raises(ValidationError, match=r"TFGRAPHTUNE_DATA_DIR"):
        load_dataset("cora")


class _Exploit:
    def __reduce__(self):
        return (print, ("pwned",))


def test_restricted_unpickler_refuses_code(tmp_path):
    path = tmp_path / "ind.evil.x"
    path.write_bytes(pickle.dumps(_Exploit()))
    with pytest.raises(ValidationError, match="refusing to unpickle builtins.print"):
        load_planetoid_pickle(path)


def test_download_checks_sha256(tmp_path, monkeypatch):
    source = tmp_path / "remote.bin"
    source.write_bytes(b"graph bytes")
    url = source.as_uri()
    good = locations.sha256_of(source)
    target = locations.download(url, tmp_path / "cache" / "f.bin", good)
    assert target.read_bytes() == b"graph bytes"
    with pytest.raises(ValidationError, match="checksum mismatch"):
        locations.download(url, tmp_path / "cache" / "g.bin", "0" * 64)
    assert not (tmp_path / "cache" / "g.bin").exists()
