"""Planetoid citation graphs (Cora, CiteSeer, PubMed) with the standard public split.

Yang, Cohen & Salakhutdinov, "Revisiting Semi-Supervised Learning with Graph Embeddings"
(ICML 2016); the split used by Kipf & Welling (ICLR 2017): 20 labelled nodes per class for
training, the next 500 nodes for validation, the 1000 ``test.index`` nodes for testing.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.data.datasets import locations
from tfgraphtune.data.datasets.dataset import NodeDataset
from tfgraphtune.data.datasets.safe_pickle import load_planetoid_pickle
from tfgraphtune.data.errors import ValidationError
from tfgraphtune.data.schema import load_schema

PLANETOID_NAMES = ("cora", "citeseer", "pubmed")
# Cora ships inside the package (1.6 MB of pickles, MIT; as scikit-learn ships small sets).
BUNDLED_DIR = Path(__file__).resolve().parent / "bundled" / "planetoid"
_PARTS = ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index")
_URL = "https://github.com/kimiyoung/planetoid/raw/master/data/ind.{name}.{part}"

# SHA-256 of the upstream files (computed from copies of kimiyoung/planetoid).
# PubMed has no pinned digest here: its digest is recorded at first download instead.
_SHA256 = {
    ("cora", "x"): "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab",
    ("cora", "y"): "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1",
    ("cora", "tx"): "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a",
    ("cora", "ty"): "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad",
    ("cora", "allx"): "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543",
    ("cora", "ally"): "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71",
    ("cora", "graph"): "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d",
    ("cora", "test.index"): "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875",
    ("citeseer", "x"): "d20de19150741e555de0ed037195630fc194114ebc7fd72ced62810148aa22f6",
    ("citeseer", "y"): "8ba87e515d8e3ee3cf52f6d2c5b86aa73f11ecad825a808455209ec26cd54924",
    ("citeseer", "tx"): "539a8906a2da97628d212f2fdd668c109a8b3f0d36574b59e5d3fd5b5303da21",
    ("citeseer", "ty"): "55e5bd1ba1e733a04598753ad1a8d57957f4b8f89e74519f41f4f4938767e4ce",
    ("citeseer", "allx"): "2ac30345d95c9ec933a817ee0bdd6a5f077f8c184a20e696910192d534414668",
    ("citeseer", "ally"): "f704b2d986dde6c2669934de1f3ae5696a6cf9455c0f6b2646a2d135ea0a1c95",
    ("citeseer", "graph"): "d79a4ef9d3e7169aee8946145f6b7306e35bc79bffad26346cfb94e10e9912a7",
    ("citeseer", "test.index"): "2af990671580b6b2df5d158d1038f8292e30c9cd821b5453f399659b25b723d4",
}


def _planetoid_files(name: str, data_dir: str | os.PathLike | None) -> dict[str, Path]:
    """Finds the eight raw files locally, or downloads them into the cache."""
    local = locations.resolve_data_dir(data_dir)
    if local is not None:
        for folder in (local / "planetoid", local):
            paths = {part: folder / f"ind.{name}.{part}" for part in _PARTS}
            if all(p.exists() for p in paths.values()):
                return paths
        raise ValidationError(
            f"the {name} files (ind.{name}.x, ...) are not in {local}/planetoid or {local}; "
            "copy them there, or unset --data-dir / $TFGRAPHTUNE_DATA_DIR to download them."
        )
    bundled = {part: BUNDLED_DIR / f"ind.{name}.{part}" for part in _PARTS}
    if all(path.is_file() for path in bundled.values()):
        # Shipped inside the package (Cora, MIT licensed): no data folder, no network.
        return bundled
    folder = locations.cache_dir() / "planetoid"
    paths = {}
    for part in _PARTS:
        path = folder / f"ind.{name}.{part}"
        if not path.exists():
            locations.download(_URL.format(name=name, part=part), path, _SHA256.get((name, part)))
        locations.verify_recorded_checksum(path)
        paths[part] = path
    return paths


def _read_test_index(path: Path) -> np.ndarray:
    try:
        return np.array([int(line) for line in path.read_text().split()], dtype=np.int64)
    except ValueError as err:
        raise ValidationError(f"{path} must hold one integer node id per line: {err}") from None


def load_planetoid(name: str, data_dir: str | os.PathLike | None = None) -> NodeDataset:
    """Loads Cora, CiteSeer or PubMed with the public split.

    Edges are made undirected (both directions stored), self loops and duplicate edges are
    dropped; `NodeDataset.notes` says how many rows each of those changed. CiteSeer's 15
    test ids that have no row in ``tx`` get all-zero features and are in no split.

    Args:
      name: ``"cora"``, ``"citeseer"`` or ``"pubmed"`` (case-insensitive).
      data_dir: Folder with local copies (``planetoid/ind.NAME.*``); default
        ``$TFGRAPHTUNE_DATA_DIR``, else download into the cache.

    Returns:
      A `NodeDataset` with node set ``paper`` (features ``feat`` float32, ``label`` int64)
      and edge set ``cites``.

    Raises:
      ValidationError: Unknown name, missing or corrupt files.
    """
    name = name.lower()
    if name not in PLANETOID_NAMES:
        raise ValidationError(
            f"unknown Planetoid data set {name!r}; expected one of {list(PLANETOID_NAMES)}."
        )
    files = _planetoid_files(name, data_dir)
    raw = {part: load_planetoid_pickle(files[part]) for part in _PARTS if part != "test.index"}
    test_index = _read_test_index(files["test.index"])
    _check_structure(raw, test_index, files, pad_test=name == "citeseer")
    test_range = np.sort(test_index)

    tx, ty = raw["tx"], raw["ty"]
    notes = []
    if name == "citeseer":
        # Isolated test ids have no row in tx/ty: pad zero rows so ids line up.
        full_range = np.arange(test_range.min(), test_range.max() + 1)
        missing = len(full_range) - tx.shape[0]
        tx_ext = sp.lil_matrix((len(full_range), tx.shape[1]), dtype=np.float32)
        tx_ext[test_range - test_range.min(), :] = tx
        ty_ext = np.zeros((len(full_range), ty.shape[1]), dtype=ty.dtype)
        ty_ext[test_range - test_range.min(), :] = ty
        tx, ty = tx_ext.tocsr(), ty_ext
        notes.append(f"{missing} test ids without features padded with zero rows (no split)")

    features = sp.vstack([raw["allx"], tx]).tolil()
    features[test_index, :] = features[test_range, :]
    features = np.asarray(features.todense(), dtype=np.float32)
    onehot = np.vstack([raw["ally"], ty])
    onehot[test_index, :] = onehot[test_range, :]
    labels = np.argmax(onehot, axis=1).astype(np.int64)
    num_nodes = features.shape[0]

    source, target, edge_notes = _undirected_edges(raw["graph"], num_nodes)
    notes.extend(edge_notes)
    num_train = raw["y"].shape[0]
    splits = {
        "train": np.arange(num_train, dtype=np.int64),
        "validation": np.arange(num_train, num_train + 500, dtype=np.int64),
        "test": test_range,
    }
    graph = tfgnn.GraphTensor.from_pieces(
        node_sets={
            "paper": tfgnn.NodeSet.from_fields(
                sizes=tf.constant([num_nodes]),
                features={"feat": tf.constant(features), "label": tf.constant(labels)},
            )
        },
        edge_sets={
            "cites": tfgnn.EdgeSet.from_fields(
                sizes=tf.constant([len(source)]),
                adjacency=tfgnn.Adjacency.from_indices(
                    source=("paper", tf.constant(source)), target=("paper", tf.constant(target))
                ),
            )
        },
    )
    return NodeDataset(
        name=name,
        graph=graph,
        schema=load_schema(name),
        node_set="paper",
        edge_set="cites",
        feature="feat",
        label="label",
        num_classes=onehot.shape[1],
        splits=splits,
        notes=tuple(notes),
    )


def _check_structure(raw: dict, test_index: np.ndarray, files: dict, *, pad_test: bool) -> None:
    """The parts fit together: shapes, row counts, test ids (before any indexing)."""

    def fail(part: str, problem: str):
        raise ValidationError(f"{files[part]} {problem}; the Planetoid files do not fit together.")

    for part in ("x", "tx", "allx", "y", "ty", "ally"):
        value = raw[part]
        if not (sp.issparse(value) or isinstance(value, np.ndarray)) or value.ndim != 2:
            fail(part, f"holds a {type(value).__name__}, not a 2-D matrix")
        if value.dtype.kind not in "biuf":
            fail(part, f"holds {value.dtype} values, not numbers")
    if not isinstance(raw["graph"], dict):
        fail("graph", f"holds a {type(raw['graph']).__name__}, not the adjacency dict")
    for features, labels in (("x", "y"), ("tx", "ty"), ("allx", "ally")):
        if raw[features].shape[0] != raw[labels].shape[0]:
            fail(labels, f"has {raw[labels].shape[0]} rows but {files[features].name} has "
                 f"{raw[features].shape[0]}")  # fmt: skip
    for part in ("tx", "allx"):
        if raw[part].shape[1] != raw["x"].shape[1]:
            fail(part, f"has {raw[part].shape[1]} feature columns but ind.*.x has "
                 f"{raw['x'].shape[1]}")  # fmt: skip
    for part in ("ty", "ally"):
        if raw[part].shape[1] != raw["y"].shape[1]:
            fail(part, f"has {raw[part].shape[1]} classes but ind.*.y has {raw['y'].shape[1]}")
    num_known = raw["allx"].shape[0]
    if raw["x"].shape[0] + 500 > num_known:
        fail("allx", f"has {num_known} rows, fewer than the {raw['x'].shape[0]} training and "
             "500 validation nodes")  # fmt: skip
    if len(test_index) != raw["tx"].shape[0] or len(np.unique(test_index)) != len(test_index):
        fail("test.index", f"lists {len(test_index)} ids ({len(np.unique(test_index))} distinct)"
             f" for the {raw['tx'].shape[0]} rows of ind.*.tx")  # fmt: skip
    if len(test_index):
        last = None if pad_test else num_known + raw["tx"].shape[0]
        if test_index.min() < num_known or (last is not None and test_index.max() >= last):
            fail("test.index", f"names node ids outside {num_known}..{(last or 0) - 1}")


def _undirected_edges(adjacency: dict[int, list[int]], num_nodes: int):
    """Both directions of every listed edge, without self loops or duplicates, sorted."""
    source = np.array([s for s, targets in adjacency.items() for _ in targets], dtype=np.int64)
    target = np.array([t for targets in adjacency.values() for t in targets], dtype=np.int64)
    listed = len(source)
    if listed and (target.max() >= num_nodes or target.min() < 0):
        raise ValidationError("the Planetoid adjacency names node ids outside the feature rows.")
    loops = source == target
    source, target = source[~loops], target[~loops]
    both = np.concatenate([source * num_nodes + target, target * num_nodes + source])
    keys = np.unique(both)
    notes = [
        f"{listed} adjacency-list rows read",
        f"{int(loops.sum())} self loops dropped",
        f"{len(both) - len(source)} reverse edges added",
        f"{len(both) - len(keys)} duplicate directed edges dropped",
    ]
    return keys // num_nodes, keys % num_nodes, notes
