"""Graph classification sets in the TU Dortmund format (MUTAG, PROTEINS, NCI1, ...).

Morris et al., "TUDataset: A collection of benchmark datasets for learning with graphs"
(2020). Files ``NAME_A.txt`` (1-based ``i, j`` edge rows), ``NAME_graph_indicator.txt``,
``NAME_graph_labels.txt`` and the optional ``NAME_node_labels.txt``,
``NAME_node_attributes.txt`` and ``NAME_edge_labels.txt``.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import tensorflow_gnn as tfgnn

from tfgraphtune.data.datasets import locations
from tfgraphtune.data.datasets.dataset import GraphDataset
from tfgraphtune.data.datasets.graph_list import graphs_from_flat_arrays
from tfgraphtune.data.errors import ValidationError
from tfgraphtune.data.schema import load_schema

_URL = "https://www.chrsmrrs.cs.tu-dortmund.de/graphkerneldatasets/{name}.zip"
# Names of the sets and features for data sets with a shipped schema.
_SHIPPED = {"MUTAG": ("mutag", "atom", "bond", "bond_type")}


def _tu_folder(name: str, data_dir: str | os.PathLike | None) -> Path:
    local = locations.resolve_data_dir(data_dir)
    if local is not None:
        for folder in (local / "tu" / name, local / name):
            if (folder / f"{name}_A.txt").exists():
                return folder
        raise ValidationError(
            f"the TU data set {name} ({name}_A.txt, ...) is not in {local}/tu/{name} or "
            f"{local}/{name}; copy it there, or unset --data-dir / $TFGRAPHTUNE_DATA_DIR to "
            "download it."
        )
    folder = locations.cache_dir() / "tu" / name
    if not (folder / f"{name}_A.txt").exists():
        archive = locations.download(_URL.format(name=name), folder.parent / f"{name}.zip", None)
        with zipfile.ZipFile(archive) as zipped:
            for member in zipped.namelist():
                # Refuse members that would land outside the cache folder.
                resolved = (folder.parent / member).resolve()
                if not str(resolved).startswith(str(folder.parent.resolve())):
                    raise ValidationError(f"{archive} holds an unsafe path {member!r}.")
            zipped.extractall(folder.parent)
    return folder


def _lines(path: Path):
    """``(line number, values)`` of each non-empty line of a comma/space separated file."""
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise ValidationError(f"{path} is not a text file; TU files hold numbers.") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield number, line, line.replace(",", " ").split()


def _whole_number(text: str) -> int:
    """``"3"`` or ``"3.0"`` -> 3; a fraction, inf or NaN is not an index or a label."""
    try:
        return int(text)
    except ValueError:
        value = float(text)  # ValueError for words.
        if not np.isfinite(value) or value != int(value):
            raise ValueError(text) from None
        return int(value)


def _read_ints(path: Path, *, columns: int = 1) -> np.ndarray:
    """Reads comma/space separated integers; names the file and line on bad input."""
    rows = []
    for number, line, fields in _lines(path):
        try:
            values = [_whole_number(v) for v in fields]
        except ValueError:
            raise ValidationError(
                f"{path} line {number}: expected whole numbers, got {line.strip()[:80]!r}"
            ) from None
        if len(values) != columns:
            raise ValidationError(
                f"{path} line {number}: expected {columns} value(s), got {len(values)}"
            )
        rows.append(values)
    array = np.array(rows, dtype=np.int64).reshape(-1, columns)
    return array[:, 0] if columns == 1 else array


def _read_floats(path: Path) -> np.ndarray:
    """Reads comma/space separated finite numbers, the same count on every line."""
    rows = []
    for number, line, fields in _lines(path):
        try:
            values = [float(v) for v in fields]
        except ValueError:
            values = None
        if values is None or not np.all(np.isfinite(values)):
            raise ValidationError(
                f"{path} line {number}: expected finite numbers, got {line.strip()[:80]!r}"
            )
        if rows and len(values) != len(rows[0]):
            raise ValidationError(
                f"{path} line {number}: expected {len(rows[0])} values like line 1, got "
                f"{len(values)}"
            )
        rows.append(values)
    return np.array(rows, dtype=np.float32).reshape(len(rows), -1)


def _check_rows(path: Path, array: np.ndarray, expected: int, what: str) -> None:
    if len(array) != expected:
        raise ValidationError(
            f"{path} has {len(array)} rows but the data set has {expected} {what}; one row per "
            f"{what[:-1]}."
        )


def load_tu(name: str, data_dir: str | os.PathLike | None = None) -> GraphDataset:
    """Loads a TU data set as one GraphTensor per graph.

    Node features are the one-hot node labels (when the set has them) followed by the node
    attributes (when it has them); edge labels become the int64 edge feature. Graph labels
    are mapped to ``0 .. C-1`` in sorted order (MUTAG's -1/1 become 0/1).

    Args:
      name: The TU name as spelled upstream, e.g. ``"MUTAG"`` (case-insensitive for the
        shipped ones).
      data_dir: Folder with local copies (``tu/NAME/NAME_A.txt``); default
        ``$TFGRAPHTUNE_DATA_DIR``, else download into the cache.

    Returns:
      A `GraphDataset`. MUTAG uses the shipped ``mutag`` schema (``atom``/``bond``);
      other sets get node set ``node``, edge set ``edge``.

    Raises:
      ValidationError: Missing or inconsistent files.
    """
    upstream = next((key for key in _SHIPPED if key.lower() == name.lower()), name)
    folder = _tu_folder(upstream, data_dir)
    prefix = folder / upstream
    edges = _read_ints(Path(f"{prefix}_A.txt"), columns=2) - 1
    graph_of_node = _read_ints(Path(f"{prefix}_graph_indicator.txt")) - 1
    raw_labels = _read_ints(Path(f"{prefix}_graph_labels.txt"))
    num_nodes = len(graph_of_node)
    num_graphs = len(raw_labels)
    if edges.size and (edges.min() < 0 or edges.max() >= num_nodes):
        raise ValidationError(f"{prefix}_A.txt names node ids outside 1..{num_nodes}.")
    if not num_nodes or not num_graphs:
        raise ValidationError(f"{prefix}_graph_indicator.txt or _graph_labels.txt is empty.")
    if graph_of_node.min() < 0:
        raise ValidationError(f"{prefix}_graph_indicator.txt names graph ids below 1.")
    if graph_of_node.max() + 1 != num_graphs:
        raise ValidationError(
            f"{prefix}_graph_indicator.txt names {graph_of_node.max() + 1} graphs but "
            f"{prefix}_graph_labels.txt has {num_graphs} labels."
        )
    if np.any(np.diff(graph_of_node) < 0):
        raise ValidationError(f"{prefix}_graph_indicator.txt must list nodes graph by graph.")

    features = []
    node_labels_path = Path(f"{prefix}_node_labels.txt")
    if node_labels_path.exists():
        node_labels = _read_ints(node_labels_path)
        _check_rows(node_labels_path, node_labels, num_nodes, "nodes")
        values = np.unique(node_labels)
        features.append(np.eye(len(values), dtype=np.float32)[np.searchsorted(values, node_labels)])
    attributes_path = Path(f"{prefix}_node_attributes.txt")
    if attributes_path.exists():
        attributes = _read_floats(attributes_path)
        _check_rows(attributes_path, attributes, num_nodes, "nodes")
        features.append(attributes)
    if not features:
        features.append(np.ones((num_nodes, 1), dtype=np.float32))
    node_features = np.concatenate(features, axis=1)
    edge_labels_path = Path(f"{prefix}_edge_labels.txt")
    edge_labels = _read_ints(edge_labels_path) if edge_labels_path.exists() else None
    if edge_labels is not None:
        _check_rows(edge_labels_path, edge_labels, len(edges), "edges")

    classes = np.unique(raw_labels)
    labels = np.searchsorted(classes, raw_labels).astype(np.int64)
    schema_name, node_set, edge_set, edge_feature = _SHIPPED.get(
        upstream, (None, "node", "edge", "edge_label")
    )
    graphs = graphs_from_flat_arrays(
        node_features=node_features,
        graph_of_node=graph_of_node,
        edges=edges,
        labels=labels,
        node_set=node_set,
        edge_set=edge_set,
        edge_features=None if edge_labels is None else {edge_feature: edge_labels},
        where=f"{prefix}_A.txt",
    )
    schema = (
        load_schema(schema_name)
        if schema_name
        else tfgnn.create_schema_pb_from_graph_spec(graphs[0].spec)
    )
    notes = (f"graph labels {classes.tolist()} mapped to 0..{len(classes) - 1}",)
    return GraphDataset(
        name=upstream.lower(),
        graphs=tuple(graphs),
        schema=schema,
        node_set=node_set,
        edge_set=edge_set,
        feature="feat",
        label="label",
        num_classes=len(classes),
        notes=notes,
    )
