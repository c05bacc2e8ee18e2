"""The raw data of a config's ``data`` section: a known data set, the user's tables, or TFRecord.

Two shapes of data, whatever the source:

* `load_node_data`: one graph (`NodeDataset`) for node tasks, link prediction and node
  pre-training; labels and a node split when the task needs them.
* `load_graph_data`: many graphs (`GraphDataset`) for graph tasks and graph pre-training.

``data.dataset`` picks the source: a known name (``cora``, ``mutag``, ``esol``, ...),
``tables`` (``data.tables``) or ``tfrecord`` (``data.tfrecord``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import tensorflow as tf

from tfgraphtune.data.datasets.dataset import GraphDataset, NodeDataset
from tfgraphtune.data.datasets.from_tables import self_edge_set
from tfgraphtune.data.errors import ValidationError

TABLES = "tables"
TFRECORD = "tfrecord"
SPLIT_NAMES = ("train", "validation", "test")


def _require(section: Mapping[str, Any], keys: tuple[str, ...], where: str, why: str) -> None:
    missing = [key for key in keys if not section.get(key)]
    if missing:
        raise ValidationError(
            f"{why} needs {', '.join(f'{where}.{key}' for key in missing)}; set "
            f"{'it' if len(missing) == 1 else 'them'} in the config or with --set."
        )


def cleaning_steps(data: Mapping[str, Any]) -> tuple[str, ...]:
    """The cleaning steps the source's edges went through (tables only)."""
    if data["dataset"] == TABLES:
        return tuple(data["tables"]["cleaning"] or ())
    return ()


def load_node_data(
    data: Mapping[str, Any], *, labelled: bool = True, split: bool = True
) -> NodeDataset:
    """One graph from the ``data`` section.

    Args:
      data: The config's ``data`` section.
      labelled: Whether node labels are needed.
      split: Whether a train/validation/test node split is needed.

    Returns:
      A `NodeDataset` (``label`` None and empty ``splits`` when not needed).

    Raises:
      ValidationError: Missing settings or files, or a data set of many graphs.
    """
    name = data["dataset"]
    if name == TABLES:
        from tfgraphtune.data.datasets.from_tables import node_dataset_from_tables

        tables = data["tables"]
        needed = ("schema", "node_set", *(("splits",) if split else ()))
        _require(tables, needed, "data.tables", "data.dataset: tables")
        if not tables["nodes"]:
            raise ValidationError(
                "data.dataset: tables needs data.tables.nodes (node set -> table path)."
            )
        return node_dataset_from_tables(
            tables["schema"],
            nodes=tables["nodes"],
            edges=tables["edges"],
            node_set=tables["node_set"],
            feature=tables["feature"],
            label=tables["label"] if labelled else None,
            splits=tables["splits"] if split else None,
            cleaning=tables["cleaning"],
            id_column=tables["id_column"],
        )
    if name == TFRECORD:
        return _node_data_from_tfrecord(data["tfrecord"], labelled=labelled, split=split)
    return _known(
        data,
        NodeDataset,
        "holds many graphs; this task needs one graph (use a graph task: "
        "graph_classification or graph_regression)",
    )


def load_graph_data(data: Mapping[str, Any], *, labelled: bool = True) -> GraphDataset:
    """Many graphs from the ``data`` section.

    Raises:
      ValidationError: Missing settings or files, or a one-graph data set.
    """
    name = data["dataset"]
    if name == TABLES:
        from tfgraphtune.data.datasets.graph_set_from_tables import graph_dataset_from_tables

        tables = data["tables"]
        _require(tables, ("schema", "node_set", "graphs"), "data.tables", "a graph task on tables")
        return graph_dataset_from_tables(
            tables["schema"],
            nodes=tables["nodes"],
            edges=tables["edges"],
            graphs=tables["graphs"],
            node_set=tables["node_set"],
            feature=tables["feature"],
            label=tables["label"] if labelled else None,
            graph_column=tables["graph_column"],
            id_column=tables["id_column"],
            cleaning=tables["cleaning"],
        )
    if name == TFRECORD:
        return _graph_data_from_tfrecord(data["tfrecord"], labelled=labelled)
    return _known(
        data,
        GraphDataset,
        "is one graph; graph tasks need many graphs (e.g. mutag, esol), or use a node task "
        "or link_prediction",
    )


def _known(data: Mapping[str, Any], kind: type, mismatch: str):
    """A known data set by name, checked to be of `kind` (one graph or many)."""
    from tfgraphtune.data.datasets.registry import load_dataset

    dataset = load_dataset(data["dataset"], data["data_dir"])
    if not isinstance(dataset, kind):
        raise ValidationError(f"data set {data['dataset']!r} {mismatch}.")
    return dataset


def _read_tfrecord(section: Mapping[str, Any]):
    from tfgraphtune.data.schema import load_schema
    from tfgraphtune.data.tfrecord import read_graphs

    _require(section, ("path", "schema", "node_set"), "data.tfrecord", "data.dataset: tfrecord")
    schema = load_schema(section["schema"])
    node_set = section["node_set"]
    if node_set not in schema.node_sets:
        raise ValidationError(
            f"data.tfrecord.node_set {node_set!r} is not in the schema; it has "
            f"{sorted(schema.node_sets)}.",
            set_name=node_set,
        )
    return schema, node_set, read_graphs(section["path"], schema)


def _node_data_from_tfrecord(section, *, labelled: bool, split: bool) -> NodeDataset:
    schema, node_set, graphs = _read_tfrecord(section)
    graph = next(iter(graphs.take(1)), None)
    if graph is None:
        raise ValidationError(f"TFRecord file {section['path']!r} holds no graph.")
    features = graph.node_sets[node_set].features
    for key in (
        "feature",
        *(("label",) if labelled else ()),
        *(("split_feature",) if split else ()),
    ):
        if section[key] not in features:
            raise ValidationError(
                f"node set {node_set!r} in {section['path']!r} has no feature "
                f"{section[key]!r} (data.tfrecord.{key}); it has {sorted(features)}.",
                set_name=node_set,
                feature=section[key],
            )
    splits = {}
    if split:
        values = features[section["split_feature"]].numpy().reshape(-1)
        if values.dtype.kind in "SOU":
            names = np.array([v.decode() if isinstance(v, bytes) else str(v) for v in values])
            codes = np.full(len(names), -1)
            for index, split_name in enumerate(SPLIT_NAMES):
                codes[names == split_name] = index
        else:
            codes = values.astype(np.int64)
        splits = {name: np.flatnonzero(codes == index) for index, name in enumerate(SPLIT_NAMES)}
        for name in ("train", "validation"):
            if len(splits[name]) == 0:
                raise ValidationError(
                    f"no node of {node_set!r} is in split {name!r} (feature "
                    f"{section['split_feature']!r}: 0/train, 1/validation, 2/test)."
                )
    num_classes = 0
    if labelled:
        labels = features[section["label"]].numpy()
        if np.issubdtype(labels.dtype, np.integer):
            num_classes = int(labels.max()) + 1
    return NodeDataset(
        name=str(section["path"]),
        graph=graph,
        schema=schema,
        node_set=node_set,
        edge_set=self_edge_set(schema, node_set, str(section["path"])),
        feature=section["feature"],
        label=section["label"] if labelled else None,
        num_classes=num_classes,
        splits=splits,
    )


def _graph_data_from_tfrecord(section, *, labelled: bool) -> GraphDataset:
    schema, node_set, dataset = _read_tfrecord(section)
    graphs = tuple(dataset)
    if not graphs:
        raise ValidationError(f"TFRecord file {section['path']!r} holds no graph.")
    label = section["label"]
    if labelled and label not in graphs[0].context.features:
        raise ValidationError(
            f"the graphs in {section['path']!r} have no context feature {label!r} "
            f"(data.tfrecord.label); context features: {sorted(graphs[0].context.features)}."
        )
    if not labelled:
        label = "label"
        graphs = tuple(
            graph.replace_features(
                context={**graph.context.features, label: tf.zeros([1], tf.float32)}
            )
            for graph in graphs
        )
    values = np.stack([g.context[label].numpy().reshape(-1)[0] for g in graphs])
    integer = labelled and np.issubdtype(values.dtype, np.integer)
    return GraphDataset(
        name=str(section["path"]),
        graphs=graphs,
        schema=schema,
        node_set=node_set,
        edge_set=self_edge_set(schema, node_set, str(section["path"])),
        feature=section["feature"],
        label=label,
        num_classes=int(values.max()) + 1 if integer else 0,
    )
