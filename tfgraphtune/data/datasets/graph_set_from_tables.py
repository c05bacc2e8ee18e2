"""A many-graph data set (graph classification/regression) from the user's own tables.

Layout: one node table with a column naming each node's graph, one edge table (edges join
node ids, within one graph), and a graph table with one row per graph holding the graph
id, its label and optionally its split::

    nodes.csv   id, graph, feat.0, feat.1, ...
    edges.csv   source, target
    graphs.csv  graph, label[, split]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from tfgraphtune.data.datasets.dataset import GraphDataset
from tfgraphtune.data.datasets.from_tables import (
    CLEANING_STEPS,
    SPLIT_NAMES,
    cleaning_notes,
    self_edge_set,
)
from tfgraphtune.data.datasets.graph_list import graphs_from_flat_arrays
from tfgraphtune.data.errors import ValidationError, first_rows
from tfgraphtune.data.schema import load_schema
from tfgraphtune.data.tables import graph_and_tables_from_tables, read_table


def graph_dataset_from_tables(
    schema,
    *,
    nodes: Mapping[str, object],
    edges: Mapping[str, object],
    graphs: object,
    node_set: str,
    feature: str,
    label: str | None = "label",
    graph_column: str = "graph",
    id_column: str = "id",
    cleaning: Sequence[str] = (),
    name: str = "tables",
) -> GraphDataset:
    """Builds a `GraphDataset` from node/edge tables plus a graph table.

    Args:
      schema: GraphSchema, ``.pbtxt`` path or shipped schema name; it describes the node
        and edge features (not the graph column, not the label).
      nodes: Node set -> DataFrame or CSV/Parquet path; the table of `node_set` has the
        column `graph_column`.
      edges: Edge set -> DataFrame or path with ``source``/``target`` node ids.
      graphs: DataFrame or path with columns `graph_column`, `label` (int class ids or
        float targets) and optionally ``split`` (``train``/``validation``/``test``).
      node_set: The node set the model reads.
      feature: Its input feature.
      label: The label column of the graph table; None for unlabelled graphs
        (pre-training).
      graph_column: The graph id column of the node and graph tables.
      id_column: The node id column.
      cleaning: Names of argument-free cleaning steps (`CLEANING_STEPS`), run in order.
      name: A name for the data set.

    Returns:
      A `GraphDataset`; its `splits` come from the graph table's ``split`` column, if any.

    Raises:
      ValidationError: A missing column, a node whose graph is not in the graph table, a
        graph id twice, an edge between two graphs, or any problem `graph_from_tables`
        reports.
    """
    unknown = [step for step in cleaning if step not in CLEANING_STEPS]
    if unknown:
        raise ValidationError(
            f"unknown cleaning step(s) {unknown}; expected names from {sorted(CLEANING_STEPS)}."
        )
    schema = load_schema(schema)
    if node_set not in nodes:
        raise ValidationError(
            f"no node table for node set {node_set!r}; data.tables.nodes names {sorted(nodes)}.",
            set_name=node_set,
        )
    node_table = read_table(nodes[node_set])
    if graph_column not in node_table.columns:
        raise ValidationError(
            f"the node table of {node_set!r} needs a column {graph_column!r} naming each "
            "node's graph (data.tables.graph_column).",
            set_name=node_set,
        )
    if id_column not in node_table.columns:
        node_table = node_table.rename_axis(id_column).reset_index()
    graph_of_id = dict(zip(node_table[id_column], node_table[graph_column]))
    node_tables = dict(nodes)
    node_tables[node_set] = node_table.drop(columns=[graph_column])
    graph, tables, report = graph_and_tables_from_tables(
        schema,
        node_tables,
        edges,
        id_column=id_column,
        cleaning=[CLEANING_STEPS[step]() for step in cleaning],
    )
    edge_set = self_edge_set(schema, node_set)
    graph_table = read_table(graphs)
    needed = [graph_column] + ([label] if label is not None else [])
    missing = [column for column in needed if column not in graph_table.columns]
    if missing:
        raise ValidationError(
            f"the graph table needs columns {needed}; missing {missing} (data.tables.graphs)."
        )
    repeated = graph_table[graph_column].duplicated().to_numpy()
    if repeated.any():
        raise ValidationError(
            f"graph table rows {first_rows(repeated)} repeat a graph id; give each graph one row.",
            rows=first_rows(repeated),
        )
    index_of_graph = {gid: row for row, gid in enumerate(graph_table[graph_column])}
    node_graph_ids = [graph_of_id[i] for i in tables.node_ids(node_set)]
    unknown_graphs = [gid for gid in node_graph_ids if gid not in index_of_graph]
    if unknown_graphs:
        raise ValidationError(
            f"node table rows name graphs {sorted(set(map(str, unknown_graphs)))[:5]} that the "
            f"graph table lacks; add them to the graph table.",
            set_name=node_set,
        )
    graph_of_node = np.array([index_of_graph[gid] for gid in node_graph_ids], np.int64)
    empty = sorted(set(range(len(graph_table))) - set(graph_of_node.tolist()))
    if empty:
        raise ValidationError(
            f"graph table rows {empty[:5]} name graphs without any node; remove them or add "
            "their nodes."
        )
    order = np.argsort(graph_of_node, kind="stable")
    new_position = np.empty_like(order)
    new_position[order] = np.arange(len(order))
    adjacency = graph.edge_sets[edge_set].adjacency
    edge_rows = np.stack(
        [
            new_position[adjacency.source.numpy().astype(np.int64)],
            new_position[adjacency.target.numpy().astype(np.int64)],
        ],
        axis=1,
    )
    features = graph.node_sets[node_set][feature].numpy()[order]
    if label is None:
        labels = np.zeros(len(graph_table), np.float32)
    else:
        labels = graph_table[label].to_numpy()
        if not (
            np.issubdtype(labels.dtype, np.integer) or np.issubdtype(labels.dtype, np.floating)
        ):
            raise ValidationError(
                f"graph table column {label!r} must hold numbers (int class ids or float "
                f"targets); it holds {labels.dtype}."
            )
        if np.issubdtype(labels.dtype, np.floating) and not np.all(np.isfinite(labels)):
            rows = first_rows(~np.isfinite(labels))
            raise ValidationError(f"graph table rows {rows} have a NaN or infinite label.")
    graph_list = graphs_from_flat_arrays(
        node_features=features,
        graph_of_node=graph_of_node[order],
        edges=edge_rows,
        labels=labels.astype(np.int64 if np.issubdtype(labels.dtype, np.integer) else np.float32),
        node_set=node_set,
        edge_set=edge_set,
        feature=feature,
        where="the edge table",
    )
    splits = {}
    if "split" in graph_table.columns:
        bad = ~graph_table["split"].isin(SPLIT_NAMES)
        if bad.any():
            rows = first_rows(bad.to_numpy())
            raise ValidationError(
                f"graph table rows {rows} name splits other than {list(SPLIT_NAMES)}.", rows=rows
            )
        splits = {
            split: np.flatnonzero((graph_table["split"] == split).to_numpy()).astype(np.int64)
            for split in SPLIT_NAMES
        }
    integer = label is not None and np.issubdtype(labels.dtype, np.integer)
    return GraphDataset(
        name=name,
        graphs=graph_list,
        schema=schema,
        node_set=node_set,
        edge_set=edge_set,
        feature=feature,
        label="label",
        num_classes=int(labels.max()) + 1 if integer else 0,
        notes=cleaning_notes(report),
        splits=splits,
    )
