"""Checks that graph tables or a GraphTensor match a GraphSchema.

Two entry points, `validate_tables` (before conversion) and `validate_graph` (after),
each built from named sub-checks. Every problem raises `ValidationError` with
``set_name``, ``feature`` and ``rows`` set, and a message that names the set, the
feature, the first offending rows and the fix.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pandas as pd
import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.data.errors import ValidationError, first_rows, short_repr
from tfgraphtune.data.features import feature_array, feature_columns, id_index, positions
from tfgraphtune.data.graph_tables import GraphTables
from tfgraphtune.data.schema import feature_shape, load_schema

SchemaLike = str | os.PathLike | tfgnn.GraphSchema
CONTEXT = "context"


@dataclasses.dataclass
class TableArrays:
    """The checked numpy arrays of a `GraphTables`, ready for a GraphTensor."""

    node_counts: dict[str, int]
    node_features: dict[str, dict[str, np.ndarray]]
    edge_indices: dict[str, tuple[np.ndarray, np.ndarray]]
    edge_features: dict[str, dict[str, np.ndarray]]
    context_features: dict[str, np.ndarray]


# Sub-checks shared by tables and GraphTensors.


def _check_set_names(kind: str, received, expected, *, fix_missing: str) -> None:
    """Node or edge sets missing from, or not declared in, the schema."""
    missing = sorted(set(expected) - set(received))
    if missing:
        extra = sorted(set(received) - set(expected))
        given = f" (the data names {extra} instead)" if extra else ""
        raise ValidationError(
            f"{kind.capitalize()} sets {missing} are in the schema but not in the data"
            f"{given}; {fix_missing}",
            set_name=missing[0],
        )
    extra = sorted(set(received) - set(expected))
    if extra:
        raise ValidationError(
            f"{kind.capitalize()} sets {extra} are in the data but not in the schema (which "
            f"has {sorted(expected)}); remove them or declare them in the schema.",
            set_name=extra[0],
        )


def _check_not_empty(set_name: str, size: int) -> None:
    """A node set without nodes cannot hold edges or train anything."""
    if size == 0:
        raise ValidationError(
            f"Node set '{set_name}' is empty (0 nodes); give it at least one node, or remove "
            "it and its edge sets from the schema.",
            set_name=set_name,
        )


def _check_finite(set_name: str, name: str, values: np.ndarray) -> None:
    """NaN or Inf in a float feature."""
    if values.dtype.kind != "f" or values.size == 0:
        return
    bad = ~np.isfinite(values.reshape(len(values), -1)).all(axis=1)
    if bad.any():
        rows = first_rows(bad)
        raise ValidationError(
            f"Feature '{name}' of '{set_name}' holds NaN or Inf in {int(bad.sum())} rows, "
            f"first rows {rows}. Fill or drop those values (for example "
            "DataFrame.fillna) before building the graph.",
            set_name=set_name,
            feature=name,
            rows=rows,
        )


# Sub-checks of tables.


def _check_columns(set_name: str, frame: pd.DataFrame, used: set[str]) -> None:
    """Columns that belong to no schema feature would be dropped silently."""
    extra = [c for c in frame.columns if c not in used]
    if extra:
        raise ValidationError(
            f"Columns {short_repr(extra)} of the table of '{set_name}' are not features in "
            "the schema; "
            "drop them from the table or declare them as features in the schema.",
            set_name=set_name,
            feature=str(extra[0]),
        )


def _empty_ids(ids) -> np.ndarray:
    """Rows whose id is missing (NaN/None) or an empty or blank string."""
    series = pd.Series(ids)
    empty = series.isna().to_numpy(dtype=bool, copy=True)
    if not pd.api.types.is_numeric_dtype(series.dtype):  # Only text ids can be blank.
        empty |= series.map(lambda v: isinstance(v, str | bytes) and not v.strip()).to_numpy(
            dtype=bool
        )
    return empty


def _check_present_ids(set_name: str, ids: pd.Series, id_column: str) -> None:
    """An empty id is no id: it would be joined to empty edge endpoints, not rejected."""
    empty = _empty_ids(ids)
    if empty.any():
        rows = first_rows(empty)
        raise ValidationError(
            f"Node set '{set_name}' has {int(empty.sum())} rows with an empty '{id_column}', "
            f"first rows {rows}. Give every node an id, or drop those rows.",
            set_name=set_name,
            feature=id_column,
            rows=rows,
        )


def _check_present_endpoints(set_name: str, frame: pd.DataFrame) -> None:
    """Edges whose source or target id is empty (an empty cell in a CSV)."""
    for column in ("source", "target"):
        empty = _empty_ids(frame[column])
        if empty.any():
            rows = first_rows(empty)
            raise ValidationError(
                f"Edge set '{set_name}' has {int(empty.sum())} rows with an empty {column} "
                f"id, first rows {rows}. Fill in those ids, or drop those rows.",
                set_name=set_name,
                feature=column,
                rows=rows,
            )


def _check_unique_ids(set_name: str, ids: pd.Series, id_column: str) -> None:
    """The same node id twice makes edges ambiguous."""
    duplicated = ids.duplicated(keep="first").to_numpy()
    if duplicated.any():
        rows = first_rows(duplicated)
        raise ValidationError(
            f"Node set '{set_name}' has {int(duplicated.sum())} rows whose '{id_column}' "
            f"repeats an earlier row, first rows {rows} (ids {ids.iloc[rows].tolist()}). "
            "Add DropDuplicateNodes() to cleaning (--clean drop-duplicate-nodes) or make "
            "the ids unique.",
            set_name=set_name,
            feature=id_column,
            rows=rows,
        )


def _check_edge_columns(set_name: str, frame: pd.DataFrame) -> None:
    """Edge tables need source and target columns."""
    missing = [c for c in ("source", "target") if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"The table of edge set '{set_name}' lacks columns {missing}; edge tables need "
            f"'source' and 'target' columns of node ids. It has {list(frame.columns)}.",
            set_name=set_name,
            feature=missing[0],
        )


def _check_dangling(
    set_name: str, frame: pd.DataFrame, source: np.ndarray, target: np.ndarray, ends
) -> None:
    """Edge endpoints whose ids are not in the node tables."""
    dangling = (source < 0) | (target < 0)
    if dangling.any():
        rows = first_rows(dangling)
        bad_sources = frame["source"].to_numpy()[source < 0][:5].tolist()
        bad_targets = frame["target"].to_numpy()[target < 0][:5].tolist()
        raise ValidationError(
            f"Edge set '{set_name}' has {int(dangling.sum())} dangling edges whose endpoint "
            f"ids are not in the node tables (source '{ends[0]}', target '{ends[1]}'): first "
            f"rows {rows}, unknown source ids {bad_sources}, unknown target ids "
            f"{bad_targets}. Add DropDanglingEdges() to cleaning (--clean "
            "drop-dangling-edges) to drop them, or add the missing nodes.",
            set_name=set_name,
            rows=rows,
        )


def _check_context_rows(frame: pd.DataFrame) -> None:
    """One graph has one context row."""
    if len(frame) != 1:
        raise ValidationError(
            f"The context table has {len(frame)} rows; one graph needs exactly one row of "
            "context features. Build one graph per row instead.",
            set_name=CONTEXT,
            rows=list(range(min(len(frame), 5))),
        )


def _features_of_table(
    set_name: str, frame: pd.DataFrame, features, used: set[str]
) -> dict[str, np.ndarray]:
    arrays = {}
    for name, feature in sorted(features.items()):
        arrays[name] = feature_array(frame, name, feature, set_name=set_name)
        _check_finite(set_name, name, arrays[name])
        used.update(feature_columns(frame, name))
    _check_columns(set_name, frame, used)
    return arrays


def checked_arrays(tables: GraphTables, schema: tfgnn.GraphSchema) -> TableArrays:
    """Validates `tables` against a parsed `schema` and returns their arrays.

    Args:
      tables: The graph tables.
      schema: A parsed GraphSchema.

    Returns:
      The node counts, features and edge indices as numpy arrays.

    Raises:
      ValidationError: See `validate_tables`.
    """
    _check_set_names(
        "node",
        tables.node_sets,
        schema.node_sets,
        fix_missing="pass a table for each (nodes={name: DataFrame or path}).",
    )
    _check_set_names(
        "edge",
        tables.edge_sets,
        schema.edge_sets,
        fix_missing="pass a table for each, empty with 'source' and 'target' columns if "
        "the graph has no such edges.",
    )
    arrays = TableArrays({}, {}, {}, {}, {})
    indexes = {}
    for set_name, node_set in sorted(schema.node_sets.items()):
        frame = tables.node_sets[set_name]
        _check_not_empty(set_name, len(frame))
        ids = tables.node_ids(set_name)
        _check_present_ids(set_name, ids, tables.id_column)
        _check_unique_ids(set_name, ids, tables.id_column)
        indexes[set_name] = id_index(ids)
        arrays.node_counts[set_name] = len(frame)
        arrays.node_features[set_name] = _features_of_table(
            set_name, frame, node_set.features, {tables.id_column}
        )
    for set_name, edge_set in sorted(schema.edge_sets.items()):
        frame = tables.edge_sets[set_name]
        _check_edge_columns(set_name, frame)
        _check_present_endpoints(set_name, frame)
        ends = (edge_set.source, edge_set.target)
        source = positions(indexes[ends[0]], frame["source"])
        target = positions(indexes[ends[1]], frame["target"])
        _check_dangling(set_name, frame, source, target, ends)
        arrays.edge_indices[set_name] = (source, target)
        arrays.edge_features[set_name] = _features_of_table(
            set_name, frame, edge_set.features, {"source", "target"}
        )
    context = tables.context
    if schema.context.features and context is None:
        raise ValidationError(
            f"The schema has context features {sorted(schema.context.features)} but no "
            "context table was given; pass context=DataFrame with one row.",
            set_name=CONTEXT,
        )
    if context is not None and (schema.context.features or len(context.columns)):
        _check_context_rows(context)
        arrays.context_features = _features_of_table(
            CONTEXT, context, schema.context.features, set()
        )
    return arrays


def validate_tables(tables: GraphTables, schema: SchemaLike) -> None:
    """Checks graph tables against a GraphSchema before conversion.

    Sub-checks: node or edge sets missing or extra; empty node sets; duplicate node ids;
    ``source``/``target`` columns; dangling edges; feature columns missing, extra,
    incomplete (``NAME.i``), of the wrong shape or not castable to the schema dtype;
    NaN/Inf in float features; the context table's row count.

    Args:
      tables: The node, edge and context tables.
      schema: A GraphSchema, a ``.pbtxt`` path or a shipped schema name.

    Raises:
      ValidationError: The first problem found, naming the set, feature and rows.
    """
    checked_arrays(tables, load_schema(schema))


# Sub-checks of GraphTensors.


def _graph_features(graph: tfgnn.GraphTensor):
    """Yields (set name, features dict, schema features) for every graph piece."""
    yield CONTEXT, graph.context.features
    for name, piece in graph.node_sets.items():
        yield name, piece.features
    for name, piece in graph.edge_sets.items():
        yield name, piece.features


def _schema_features(schema: tfgnn.GraphSchema, set_name: str, graph: tfgnn.GraphTensor):
    if set_name == CONTEXT:
        return schema.context.features
    if set_name in graph.node_sets:
        return schema.node_sets[set_name].features
    return schema.edge_sets[set_name].features


def _check_feature_names(set_name: str, received, expected) -> None:
    """Features missing from, or not declared in, the schema."""
    missing = sorted(set(expected) - set(received))
    if missing:
        raise ValidationError(
            f"Features {missing} of '{set_name}' are in the schema but not in the graph; "
            "add them, or remove them from the schema.",
            set_name=set_name,
            feature=missing[0],
        )
    extra = sorted(set(received) - set(expected))
    if extra:
        raise ValidationError(
            f"Features {extra} of '{set_name}' are in the graph but not in the schema; "
            "remove them (GraphTensor.remove_features) or declare them in the schema.",
            set_name=set_name,
            feature=extra[0],
        )


def _check_dtype_and_shape(set_name: str, name: str, value, feature) -> None:
    """A feature's dtype and per-item shape as the schema says."""
    expected_dtype = tf.dtypes.as_dtype(feature.dtype)
    if value.dtype != expected_dtype:
        raise ValidationError(
            f"Feature '{name}' of '{set_name}' has dtype {value.dtype.name}, but the schema "
            f"expects {expected_dtype.name}; cast it (tf.cast) before building the graph.",
            set_name=set_name,
            feature=name,
        )
    expected_shape = feature_shape(feature)
    received_shape = tuple(value.shape[1:])
    compatible = len(expected_shape) == len(received_shape) and all(
        e is None or e == r for e, r in zip(expected_shape, received_shape)
    )
    if not compatible:
        raise ValidationError(
            f"Feature '{name}' of '{set_name}' has per-item shape {list(received_shape)}, but "
            f"the schema expects {list(expected_shape)}; reshape the feature or fix the "
            "schema.",
            set_name=set_name,
            feature=name,
        )


def _check_edge_indices(graph: tfgnn.GraphTensor) -> None:
    """Edge endpoints must index existing nodes: 0 <= index < node set size."""
    for set_name, edge_set in graph.edge_sets.items():
        adjacency = edge_set.adjacency
        for end, node_set, index in (
            ("source", adjacency.source_name, adjacency.source),
            ("target", adjacency.target_name, adjacency.target),
        ):
            size = int(tf.reduce_sum(graph.node_sets[node_set].sizes))
            index = index.numpy()
            bad = (index < 0) | (index >= size)
            if bad.any():
                rows = first_rows(bad)
                raise ValidationError(
                    f"Edge set '{set_name}' has {int(bad.sum())} {end} indices outside "
                    f"[0, {size}) of node set '{node_set}': first rows {rows} hold "
                    f"{index[rows].tolist()}. Drop those edges or add the nodes.",
                    set_name=set_name,
                    feature=f"#{end}",
                    rows=rows,
                )


def _check_labels(graph: tfgnn.GraphTensor, num_classes: dict[tuple[str, str], int]) -> None:
    """Class labels must lie in [0, num_classes)."""
    for (set_name, name), count in num_classes.items():
        if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 1:
            raise ValidationError(
                "Received an invalid value for num_classes, expected a positive integer per "
                f"(set, feature). Received: num_classes[{(set_name, name)!r}]={count!r}",
                set_name=set_name,
                feature=name,
            )
        features = dict(_graph_features(graph)).get(set_name)
        if features is None or name not in features:
            raise ValidationError(
                f"num_classes names feature '{name}' of '{set_name}', which the graph lacks; "
                "use a (set, feature) key of a label feature, like ('paper', 'label').",
                set_name=set_name,
                feature=name,
            )
        labels = np.asarray(features[name])
        if labels.dtype.kind not in "iu":
            raise ValidationError(
                f"Label feature '{name}' of '{set_name}' has dtype {labels.dtype}; class "
                "labels must be integers. Cast them to int64.",
                set_name=set_name,
                feature=name,
            )
        bad = ((labels < 0) | (labels >= count)).reshape(len(labels), -1).any(axis=1)
        if bad.any():
            rows = first_rows(bad)
            raise ValidationError(
                f"Label feature '{name}' of '{set_name}' must lie in [0, {count}); "
                f"{int(bad.sum())} rows do not, first rows {rows} hold "
                f"{labels[rows].tolist()}. Fix the labels or num_classes.",
                set_name=set_name,
                feature=name,
                rows=rows,
            )


def validate_graph(
    graph: tfgnn.GraphTensor,
    schema: SchemaLike,
    *,
    num_classes: dict[tuple[str, str], int] | None = None,
) -> None:
    """Checks a GraphTensor against a GraphSchema.

    Sub-checks: node or edge sets missing or extra; features missing or extra; dtype
    and per-item shape as in the schema; NaN/Inf in float features; empty node sets;
    negative or out-of-range edge indices; labels outside ``[0, num_classes)``.
    A batched graph is checked after merging its batch into components.

    Args:
      graph: An eager GraphTensor.
      schema: A GraphSchema, a ``.pbtxt`` path or a shipped schema name.
      num_classes: Optional class counts of label features, keyed by (set name,
        feature name), with ``"context"`` as set name for context features; for
        example ``{("paper", "label"): 7}``.

    Raises:
      ValidationError: The first problem found, naming the set, feature and rows.

    Example:

    >>> graph = graph_from_arrays("cora", ...)  # doctest: +SKIP
    >>> validate_graph(graph, "cora", num_classes={("paper", "label"): 7})  # doctest: +SKIP
    """
    schema = load_schema(schema)
    if graph.rank != 0:
        graph = graph.merge_batch_to_components()
    _check_set_names(
        "node", graph.node_sets, schema.node_sets, fix_missing="add them to the graph."
    )
    _check_set_names(
        "edge", graph.edge_sets, schema.edge_sets, fix_missing="add them to the graph."
    )
    for set_name, features in _graph_features(graph):
        expected = _schema_features(schema, set_name, graph)
        _check_feature_names(set_name, features, expected)
        for name, value in features.items():
            _check_dtype_and_shape(set_name, name, value, expected[name])
            if value.dtype.is_floating:
                flat = value.flat_values if isinstance(value, tf.RaggedTensor) else value
                _check_finite(set_name, name, np.asarray(flat))
    for set_name, node_set in graph.node_sets.items():
        _check_not_empty(set_name, int(tf.reduce_sum(node_set.sizes)))
    _check_edge_indices(graph)
    _check_labels(graph, num_classes or {})
