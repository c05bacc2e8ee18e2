"""A node data set (graph, labels, splits) from the user's own tables."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np

from tfgraphtune.data import cleaning as cleaning_steps
from tfgraphtune.data.datasets.dataset import NodeDataset
from tfgraphtune.data.errors import ValidationError, first_rows
from tfgraphtune.data.schema import load_schema
from tfgraphtune.data.tables import graph_and_tables_from_tables, read_table

SPLIT_NAMES = ("train", "validation", "test")
# Config names of the cleaning steps that take no arguments.
CLEANING_STEPS = {
    "drop_duplicate_nodes": cleaning_steps.DropDuplicateNodes,
    "drop_duplicate_edges": cleaning_steps.DropDuplicateEdges,
    "drop_self_loops": cleaning_steps.DropSelfLoops,
    "drop_dangling_edges": cleaning_steps.DropDanglingEdges,
    "make_undirected": cleaning_steps.MakeUndirected,
}


def node_dataset_from_tables(
    schema,
    *,
    nodes: Mapping[str, object],
    edges: Mapping[str, object],
    node_set: str,
    feature: str,
    label: str | None,
    splits: object | None,
    cleaning: Sequence[str] = (),
    id_column: str = "id",
    name: str = "tables",
) -> NodeDataset:
    """Builds a `NodeDataset` from node/edge tables plus a table of split assignments.

    Args:
      schema: GraphSchema, ``.pbtxt`` path or shipped schema name.
      nodes: Node set -> DataFrame or CSV/Parquet path (see `graph_from_tables`).
      edges: Edge set -> DataFrame or path with ``source``/``target`` columns.
      node_set: The node set with the labels.
      feature: Its input feature.
      label: Its label feature (int64 class ids for classification, float for
        regression), or None for an unlabelled graph (pre-training, link prediction).
      splits: DataFrame or path with columns `id_column` and ``split`` (``train``,
        ``validation`` or ``test``); nodes not listed are in no split. None for no split
        (pre-training, link prediction).
      cleaning: Names of argument-free cleaning steps, run in order (see
        `CLEANING_STEPS`); what they change is in `NodeDataset.notes`.
      id_column: The node id column of the node and split tables.
      name: A name for the data set.

    Returns:
      The `NodeDataset`; `num_classes` is ``max(label) + 1`` for integer labels, else 0.

    Raises:
      ValidationError: Unknown cleaning step, bad split table (unknown split name, ids not
        in the node table, an id twice), an empty train or validation split, or any table
        problem `graph_from_tables` reports.
    """
    unknown = [step for step in cleaning if step not in CLEANING_STEPS]
    if unknown:
        raise ValidationError(
            f"unknown cleaning step(s) {unknown}; expected names from {sorted(CLEANING_STEPS)}."
        )
    schema = load_schema(schema)
    graph, tables, report = graph_and_tables_from_tables(
        schema,
        nodes,
        edges,
        id_column=id_column,
        cleaning=[CLEANING_STEPS[step]() for step in cleaning],
    )
    if node_set not in graph.node_sets or feature not in graph.node_sets[node_set].features:
        raise ValidationError(
            f"node set {node_set!r} has no feature {feature!r} in the schema.",
            set_name=node_set,
            feature=feature,
        )
    if label is not None and label not in graph.node_sets[node_set].features:
        raise ValidationError(
            f"node set {node_set!r} has no label feature {label!r} in the schema.",
            set_name=node_set,
            feature=label,
        )
    split_ids = (
        _split_ids(splits, tables.node_ids(node_set), node_set, id_column)
        if splits is not None
        else {}
    )
    if label is None:
        num_classes = 0
    else:
        labels = graph.node_sets[node_set][label].numpy()
        num_classes = int(labels.max()) + 1 if np.issubdtype(labels.dtype, np.integer) else 0
    return NodeDataset(
        name=name,
        graph=graph,
        schema=schema,
        node_set=node_set,
        edge_set=self_edge_set(schema, node_set),
        feature=feature,
        label=label,
        num_classes=num_classes,
        splits=split_ids,
        notes=cleaning_notes(report),
    )


def self_edge_set(schema, node_set: str, where: str = "the schema") -> str:
    """The one edge set from `node_set` to itself (what the backbone convolves over).

    Raises:
      ValidationError: There is none, or more than one.
    """
    edge_sets = [
        name for name, spec in schema.edge_sets.items() if spec.source == spec.target == node_set
    ]
    if len(edge_sets) != 1:
        raise ValidationError(
            f"node set {node_set!r} needs exactly one edge set from and to itself; {where} "
            f"has {edge_sets}.",
            set_name=node_set,
        )
    return edge_sets[0]


def cleaning_notes(report) -> tuple[str, ...]:
    """One line per cleaning step: what it removed and added."""
    return tuple(
        f"{step.step}: removed {dict(step.removed)}, added {dict(step.added)}"
        for step in report.steps
    )


def _split_ids(splits, node_ids, node_set: str, id_column: str) -> dict[str, np.ndarray]:
    """Node positions per split from a split table (see `node_dataset_from_tables`)."""
    positions = {node_id: row for row, node_id in enumerate(node_ids)}
    split_table = read_table(splits)
    # Every message names the split table (a path, or "the split table" for a DataFrame).
    where = (
        f"split table {str(splits)!r}"
        if isinstance(splits, str | os.PathLike)
        else ("the split table")
    )
    missing = [c for c in (id_column, "split") if c not in split_table.columns]
    if missing:
        raise ValidationError(
            f"{where} needs columns {id_column!r} and 'split'; missing {missing}."
        )
    bad_names = ~split_table["split"].isin(SPLIT_NAMES)
    if bad_names.any():
        rows = first_rows(bad_names.to_numpy())
        raise ValidationError(
            f"{where} rows {rows} name splits {sorted(set(split_table['split'][bad_names]))}; "
            f"use one of {list(SPLIT_NAMES)}.",
            rows=rows,
        )
    duplicated = split_table[id_column].duplicated().to_numpy()
    if duplicated.any():
        raise ValidationError(
            f"{where} rows {first_rows(duplicated)} repeat a node id; give each node one split.",
            rows=first_rows(duplicated),
        )
    unknown_ids = ~split_table[id_column].isin(positions.keys()).to_numpy()
    if unknown_ids.any():
        rows = first_rows(unknown_ids)
        sample = split_table[id_column][unknown_ids].head(5).tolist()
        raise ValidationError(
            f"{where} rows {rows} name node ids {sample} that are not in node set "
            f"{node_set!r} (after cleaning); remove them or add the nodes.",
            set_name=node_set,
            rows=rows,
        )
    split_ids = {
        split: np.sort(
            np.array(
                [positions[i] for i in split_table[id_column][split_table["split"] == split]],
                dtype=np.int64,
            )
        )
        for split in SPLIT_NAMES
    }
    for split in ("train", "validation"):
        if len(split_ids[split]) == 0:
            raise ValidationError(f"the split table assigns no node to {split!r}.")
    return split_ids
