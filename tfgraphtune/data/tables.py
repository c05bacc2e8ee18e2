"""Node and edge tables (pandas, CSV, Parquet) or numpy arrays to validated GraphTensors."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.data.cleaning import CleaningReport, Compose, StepReport
from tfgraphtune.data.errors import ValidationError
from tfgraphtune.data.features import cast_array, numpy_dtype
from tfgraphtune.data.graph_tables import GraphTables
from tfgraphtune.data.schema import feature_shape, load_schema
from tfgraphtune.data.validation import CONTEXT, TableArrays, checked_arrays, validate_graph

TableLike = pd.DataFrame | str | os.PathLike
SchemaLike = str | os.PathLike | tfgnn.GraphSchema
CleaningStep = Callable[[GraphTables], tuple[GraphTables, StepReport]]

_READERS = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".pq": pd.read_parquet}
# TF-GNN's default index dtype; graphs built here match `read_graphs` specs.
_INDEX_DTYPE = tf.int32


def read_table(source: TableLike) -> pd.DataFrame:
    """Reads one node, edge or context table.

    Args:
      source: A DataFrame (returned as a copy; the caller's frame is never changed),
        or the path of a ``.csv``, ``.parquet`` or ``.pq`` file.

    Returns:
      A new DataFrame.

    Raises:
      ValidationError: The file is missing, has an unknown extension or cannot be read.
    """
    if isinstance(source, pd.DataFrame):
        return source.copy(deep=True)
    if not isinstance(source, str | os.PathLike):
        raise ValidationError(
            "Received an invalid table, expected a DataFrame or a .csv/.parquet path. "
            f"Received: {type(source).__name__}"
        )
    path = Path(source)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise ValidationError(
            f"Cannot read table {str(path)!r}: unknown extension {path.suffix!r}; use one of "
            f"{sorted(_READERS)} or pass a DataFrame."
        )
    if path.is_dir():
        raise ValidationError(f"Table file {str(path)!r} is a folder; pass the file itself.")
    if not path.is_file():
        raise ValidationError(f"Table file {str(path)!r} does not exist; check the path.")
    try:
        return reader(path)
    except Exception as err:  # pandas and pyarrow raise many types.
        raise ValidationError(f"Cannot read table {str(path)!r}: {err}") from None


def _tables(
    schema: tfgnn.GraphSchema,
    nodes: Mapping[str, TableLike],
    edges: Mapping[str, TableLike],
    context: TableLike | None,
    id_column: str,
) -> GraphTables:
    endpoints = {name: (e.source, e.target) for name, e in schema.edge_sets.items()}
    return GraphTables(
        node_sets={name: read_table(table) for name, table in nodes.items()},
        edge_sets={name: read_table(table) for name, table in edges.items()},
        context=None if context is None else read_table(context),
        id_column=id_column,
        edge_endpoints=endpoints,
    )


def _clean(
    tables: GraphTables, cleaning: Compose | Sequence[CleaningStep] | None
) -> tuple[GraphTables, CleaningReport]:
    if cleaning is None:
        return tables, CleaningReport([])
    compose = cleaning if isinstance(cleaning, Compose) else Compose(list(cleaning))
    return compose(tables)


def _graph_from_checked(schema: tfgnn.GraphSchema, arrays: TableArrays) -> tfgnn.GraphTensor:
    """Builds a one-component GraphTensor from checked arrays."""

    def sizes(count: int) -> tf.Tensor:
        return tf.constant([count], dtype=_INDEX_DTYPE)

    def tensors(features: dict[str, np.ndarray]) -> dict[str, tf.Tensor]:
        return {name: tf.constant(value) for name, value in features.items()}

    node_sets = {
        name: tfgnn.NodeSet.from_fields(
            sizes=sizes(arrays.node_counts[name]),
            features=tensors(arrays.node_features.get(name, {})),
        )
        for name in schema.node_sets
    }
    edge_sets = {}
    for name, edge_set in schema.edge_sets.items():
        source, target = arrays.edge_indices[name]
        edge_sets[name] = tfgnn.EdgeSet.from_fields(
            sizes=sizes(len(source)),
            adjacency=tfgnn.Adjacency.from_indices(
                source=(edge_set.source, tf.constant(source, dtype=_INDEX_DTYPE)),
                target=(edge_set.target, tf.constant(target, dtype=_INDEX_DTYPE)),
            ),
            features=tensors(arrays.edge_features.get(name, {})),
        )
    context = tfgnn.Context.from_fields(sizes=sizes(1), features=tensors(arrays.context_features))
    return tfgnn.GraphTensor.from_pieces(context=context, node_sets=node_sets, edge_sets=edge_sets)


def graph_from_tables(
    schema: SchemaLike,
    nodes: Mapping[str, TableLike],
    edges: Mapping[str, TableLike],
    context: TableLike | None = None,
    *,
    id_column: str = "id",
    cleaning: Compose | Sequence[CleaningStep] | None = None,
) -> tuple[tfgnn.GraphTensor, CleaningReport]:
    """Builds a validated one-graph GraphTensor from node and edge tables.

    Node ids (column `id_column`, else the DataFrame index) may be any hashable value;
    they become positions ``0..n-1`` in table order, and edge ``source``/``target`` ids
    are looked up among them. A scalar feature comes from the column of its name; a
    vector feature ``[k]`` from one column of lists or from columns ``NAME.0 ...
    NAME.{k-1}``. Values are cast to the schema dtype. Nothing is dropped silently:
    only the `cleaning` steps remove rows, and they report each removal.

    Args:
      schema: A GraphSchema, a ``.pbtxt`` path or a shipped schema name (``"cora"``).
      nodes: Node set name -> DataFrame or ``.csv``/``.parquet`` path.
      edges: Edge set name -> DataFrame or path, with ``source`` and ``target`` columns.
      context: Optional table with one row of context features.
      id_column: The name of the node id column.
      cleaning: Optional cleaning steps (a `Compose` or a list of steps) run on the
        tables before validation.

    Returns:
      The GraphTensor (one component) and the `CleaningReport` (empty without cleaning).

    Raises:
      ValidationError: The tables do not match the schema (see `validate_tables`), for
        example missing node sets, extra tables, or dangling edges.

    Example:

    >>> graph, report = graph_from_tables(
    ...     "cora", nodes={"paper": "papers.csv"}, edges={"cites": "cites.csv"},
    ...     cleaning=[DropSelfLoops(), DropDanglingEdges()])  # doctest: +SKIP
    """
    graph, _, report = graph_and_tables_from_tables(
        schema, nodes, edges, context, id_column=id_column, cleaning=cleaning
    )
    return graph, report


def graph_and_tables_from_tables(
    schema: SchemaLike,
    nodes: Mapping[str, TableLike],
    edges: Mapping[str, TableLike],
    context: TableLike | None = None,
    *,
    id_column: str = "id",
    cleaning: Compose | Sequence[CleaningStep] | None = None,
) -> tuple[tfgnn.GraphTensor, GraphTables, CleaningReport]:
    """Like `graph_from_tables`, and also returns the cleaned tables the graph was built from.

    The cleaned tables say which node id each graph row holds
    (``tables.node_ids(node_set)[i]`` is node ``i``), so labels or splits keyed by id can
    be mapped onto the graph.

    Returns:
      ``(graph, cleaned_tables, report)``.

    Raises:
      ValidationError: As `graph_from_tables`.
    """
    schema = load_schema(schema)
    tables = _tables(schema, nodes, edges, context, id_column)
    tables, report = _clean(tables, cleaning)
    graph = _graph_from_checked(schema, checked_arrays(tables, schema))
    validate_graph(graph, schema)
    return graph, tables, report


def _cast_features(
    set_name: str,
    features: Mapping[str, np.ndarray] | None,
    schema_features,
    *,
    leading: int | None = None,
) -> dict[str, tf.Tensor]:
    """Casts known features to their schema dtype; unknown ones pass to validation."""
    tensors = {}
    for name, value in (features or {}).items():
        value = np.asarray(value)
        if name in schema_features:
            shape = feature_shape(schema_features[name])
            if leading is not None and value.shape == shape:
                value = value.reshape((leading, *shape))
            value = cast_array(
                value, numpy_dtype(schema_features[name]), set_name=set_name, feature=name
            )
        tensors[name] = tf.constant(value)
    return tensors


def graph_from_arrays(
    schema: SchemaLike,
    *,
    node_features: Mapping[str, Mapping[str, np.ndarray]],
    edges: Mapping[str, tuple[np.ndarray, np.ndarray]],
    edge_features: Mapping[str, Mapping[str, np.ndarray]] | None = None,
    context_features: Mapping[str, np.ndarray] | None = None,
    node_counts: Mapping[str, int] | None = None,
) -> tfgnn.GraphTensor:
    """Builds a validated one-graph GraphTensor from numpy arrays.

    Args:
      schema: A GraphSchema, a ``.pbtxt`` path or a shipped schema name.
      node_features: Node set name -> feature name -> array ``[num_nodes, *shape]``.
      edges: Edge set name -> (source indices, target indices) into the node sets.
      edge_features: Edge set name -> feature name -> array ``[num_edges, *shape]``.
      context_features: Feature name -> array ``[1, *shape]`` (or ``shape``).
      node_counts: Node set name -> number of nodes; needed for node sets without
        features, otherwise taken from the features.

    Returns:
      The GraphTensor.

    Raises:
      ValidationError: The arrays do not match the schema (see `validate_graph`), or a
        node set's size is unknown.
    """
    schema = load_schema(schema)
    node_counts = dict(node_counts or {})
    edge_features = edge_features or {}
    node_sets = {}
    for name in sorted(set(schema.node_sets) | set(node_features) | set(node_counts)):
        features = node_features.get(name, {})
        if name in node_counts:
            count = node_counts[name]
        elif features:
            count = len(np.asarray(next(iter(features.values()))))
        else:
            raise ValidationError(
                f"The size of node set '{name}' is unknown: it has no features; pass "
                f"node_counts={{'{name}': NUM_NODES}}.",
                set_name=name,
            )
        schema_features = schema.node_sets[name].features if name in schema.node_sets else {}
        node_sets[name] = tfgnn.NodeSet.from_fields(
            sizes=tf.constant([count], dtype=_INDEX_DTYPE),
            features=_cast_features(name, features, schema_features),
        )
    _check_known_node_sets(schema, node_sets)
    edge_sets = {}
    for name, (source, target) in edges.items():
        if name not in schema.edge_sets:
            raise ValidationError(
                f"Edge set '{name}' is not in the schema (which has "
                f"{sorted(schema.edge_sets)}); remove it or declare it in the schema.",
                set_name=name,
            )
        edge_set = schema.edge_sets[name]
        source = cast_array(source, np.dtype(np.int64), set_name=name, feature="source")
        target = cast_array(target, np.dtype(np.int64), set_name=name, feature="target")
        edge_sets[name] = tfgnn.EdgeSet.from_fields(
            sizes=tf.constant([len(source)], dtype=_INDEX_DTYPE),
            adjacency=tfgnn.Adjacency.from_indices(
                source=(edge_set.source, tf.constant(source, dtype=_INDEX_DTYPE)),
                target=(edge_set.target, tf.constant(target, dtype=_INDEX_DTYPE)),
            ),
            features=_cast_features(name, edge_features.get(name), edge_set.features),
        )
    context = tfgnn.Context.from_fields(
        sizes=tf.constant([1], dtype=_INDEX_DTYPE),
        features=_cast_features(CONTEXT, context_features, schema.context.features, leading=1),
    )
    graph = tfgnn.GraphTensor.from_pieces(context=context, node_sets=node_sets, edge_sets=edge_sets)
    validate_graph(graph, schema)
    return graph


def _check_known_node_sets(schema: tfgnn.GraphSchema, node_sets: Mapping) -> None:
    extra = sorted(set(node_sets) - set(schema.node_sets))
    if extra:
        raise ValidationError(
            f"Node sets {extra} are not in the schema (which has {sorted(schema.node_sets)}); "
            "remove them or declare them in the schema.",
            set_name=extra[0],
        )


def _column_values(value: np.ndarray) -> list | np.ndarray:
    """One table cell per row: scalars as is, higher-rank items as (nested) lists."""
    return value if value.ndim == 1 else value.tolist()


def tables_from_graph(graph: tfgnn.GraphTensor, *, id_column: str = "id") -> GraphTables:
    """Turns a GraphTensor back into tables, for example to clean an existing graph.

    Node ids become the column `id_column` holding ``0..n-1``; edges get ``source`` and
    ``target`` columns of those ids; vector features become list columns; the context
    table has one row per graph component.

    Args:
      graph: An eager scalar GraphTensor (a batched one is merged into components).
      id_column: The name of the node id column to write.

    Returns:
      The `GraphTables`, with `edge_endpoints` filled in.
    """
    if graph.rank != 0:
        graph = graph.merge_batch_to_components()

    def frame(features, index: dict[str, np.ndarray]) -> pd.DataFrame:
        columns = dict(index)
        for name, value in features.items():
            columns[name] = _column_values(np.asarray(value))
        return pd.DataFrame(columns)

    node_sets = {
        name: frame(
            node_set.features,
            {id_column: np.arange(int(tf.reduce_sum(node_set.sizes)), dtype=np.int64)},
        )
        for name, node_set in graph.node_sets.items()
    }
    edge_sets = {}
    endpoints = {}
    for name, edge_set in graph.edge_sets.items():
        adjacency = edge_set.adjacency
        endpoints[name] = (adjacency.source_name, adjacency.target_name)
        edge_sets[name] = frame(
            edge_set.features,
            {
                "source": np.asarray(adjacency.source, dtype=np.int64),
                "target": np.asarray(adjacency.target, dtype=np.int64),
            },
        )
    num_components = int(graph.num_components)
    context = frame(graph.context.features, {})
    if context.empty and len(context.columns) == 0:
        context = pd.DataFrame(index=pd.RangeIndex(num_components))
    return GraphTables(
        node_sets=node_sets,
        edge_sets=edge_sets,
        context=context,
        id_column=id_column,
        edge_endpoints=endpoints,
    )
