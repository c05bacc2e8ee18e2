"""Turning table columns into feature arrays and node ids into positions.

Shared by the tables-to-GraphTensor conversion and the table validation, so both read
columns the same way.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd
import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.data.errors import ValidationError, short_repr
from tfgraphtune.data.schema import feature_shape


def numpy_dtype(feature: tfgnn.proto.graph_schema_pb2.Feature) -> np.dtype:
    """Returns the numpy dtype for a schema feature (``object`` for strings)."""
    dtype = tf.dtypes.as_dtype(feature.dtype)
    return np.dtype(object) if dtype == tf.string else np.dtype(dtype.as_numpy_dtype)


def split_column_names(name: str, size: int) -> list[str]:
    """Returns the column names ``NAME.0 ... NAME.{size-1}`` of a vector feature."""
    return [f"{name}.{i}" for i in range(size)]


def feature_columns(frame: pd.DataFrame, name: str) -> list[str]:
    """Returns the columns of `frame` that hold feature `name`.

    That is ``[name]`` when a column of that name exists, else every ``name.<int>``
    column in index order (possibly none).
    """
    if name in frame.columns:
        return [name]
    prefix = f"{name}."
    split = [c for c in frame.columns if isinstance(c, str) and c.startswith(prefix)]
    split = [c for c in split if c[len(prefix) :].isdigit()]
    return sorted(split, key=lambda c: int(c[len(prefix) :]))


def _exact_cast(values: np.ndarray, dtype: np.dtype) -> np.ndarray | None:
    """Returns `values` cast to `dtype`, or None if that fails or changes a value."""
    try:
        with np.errstate(invalid="ignore", over="ignore"):
            cast = values.astype(dtype)
            if dtype.kind in "iu" and not np.array_equal(cast, values.astype(np.float64)):
                return None
    except (TypeError, ValueError, OverflowError):
        return None
    return cast


def _is_string(value) -> bool:
    return isinstance(value, str | bytes)


def _to_bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


def cast_array(
    values, dtype: np.dtype, *, set_name: str, feature: str, what: str = "feature"
) -> np.ndarray:
    """Casts `values` to `dtype`, refusing anything that would change a value.

    Integers accept only whole numbers (``1.0`` but not ``1.5``, never NaN); floats
    accept numbers and numeric strings; strings (dtype ``object``) accept str or bytes
    and come back as bytes.

    Args:
      values: An array-like, one item per row.
      dtype: The target numpy dtype (``object`` means string).
      set_name: The set the values belong to, for the message.
      feature: The feature name, for the message.
      what: What the values are (``"feature"``, ``"edge endpoint"``), for the message.

    Returns:
      A numpy array of `dtype`.

    Raises:
      ValidationError: Some value cannot be cast; the message names the first rows.
    """
    array = np.asarray(values)
    # One row per item, whatever the item shape; empty and 0-d inputs get one column.
    if array.ndim and array.shape[0]:
        rows_view = array.reshape(array.shape[0], -1)
    else:
        rows_view = array.reshape(-1, 1)
    if dtype == np.dtype(object):
        bad = [r for r, row in enumerate(rows_view) if not all(_is_string(v) for v in row)]
        if not bad:
            encode = np.vectorize(_to_bytes, otypes=[object])
            return encode(array) if array.size else array.astype(object)
        target = "strings"
    else:
        cast = _exact_cast(array, dtype)
        if cast is not None:
            return cast
        bad = [r for r, row in enumerate(rows_view) if _exact_cast(row, dtype) is None]
        target = f"castable to {dtype.name}"
    rows = bad[:5]
    # The offending values only (not whole rows: a feature row may hold 1433 values).
    offending = []
    for r in rows:
        row = rows_view[r]
        cells = [v for v in row if _exact_cast(np.asarray([v]), dtype) is None] or list(row)
        if dtype == np.dtype(object):
            cells = [v for v in row if not _is_string(v)] or list(row)
        offending.append(cells[0] if len(cells) == 1 else cells)
    raise ValidationError(
        f"{what.capitalize()} '{feature}' of '{set_name}' must be {target}; rows {rows} "
        f"hold {short_repr(offending)}. Fix or remove those values (integers must be whole "
        "numbers, never NaN).",
        set_name=set_name,
        feature=feature,
        rows=rows,
    )


def _stack_items(
    values: pd.Series, shape: tuple[int, ...], *, set_name: str, feature: str
) -> np.ndarray:
    """Stacks a column holding one list or array per row into shape ``[rows, *shape]``."""
    items = []
    bad = []
    for row, value in enumerate(values.to_numpy()):
        if isinstance(value, str | bytes) or not hasattr(value, "__len__"):
            bad.append(row)
            continue
        item = np.asarray(value)
        if item.shape != shape:
            bad.append(row)
            continue
        items.append(item)
    if bad:
        rows = bad[:5]
        received = short_repr(list(values.iloc[rows]), items=2, chars=60)
        raise ValidationError(
            f"Feature '{feature}' of '{set_name}' must hold one list of shape {list(shape)} "
            f"per row (the schema's shape), or be stored as the columns {feature}.0 ... "
            f"{feature}.{shape[0] - 1}; rows {rows} hold {received}. Use one of those two "
            "layouts.",
            set_name=set_name,
            feature=feature,
            rows=rows,
        )
    if not items:
        return np.zeros((0, *shape))
    return np.stack(items)


def feature_array(
    frame: pd.DataFrame,
    name: str,
    feature: tfgnn.proto.graph_schema_pb2.Feature,
    *,
    set_name: str,
) -> np.ndarray:
    """Reads one schema feature from a table.

    A scalar feature comes from the column `name`. A vector feature of shape ``[k]``
    comes from one column `name` holding a list or array per row, or from the columns
    ``name.0 ... name.{k-1}``. Higher-rank features come from one column of nested lists.

    Args:
      frame: The table, one row per item.
      name: The feature name.
      feature: The feature's schema entry (dtype and shape).
      set_name: The set name, for messages.

    Returns:
      An array of shape ``[len(frame), *shape]`` and the schema's dtype.

    Raises:
      ValidationError: The columns are missing or incomplete, a row has the wrong
        shape, or a value cannot be cast.
    """
    shape = feature_shape(feature)
    dtype = numpy_dtype(feature)
    if None in shape:
        raise ValidationError(
            f"Feature '{name}' of '{set_name}' has a variable-size shape {list(shape)} in the "
            "schema; tables only support fixed shapes. Give every dim a size.",
            set_name=set_name,
            feature=name,
        )
    columns = feature_columns(frame, name)
    if not columns:
        layout = f"a column '{name}'"
        if len(shape) == 1:
            layout += f" of lists or the columns {name}.0 ... {name}.{shape[0] - 1}"
        raise ValidationError(
            f"Feature '{name}' of '{set_name}' is in the schema but not in the table; add "
            f"{layout}. The table has columns {short_repr(list(frame.columns), items=8)}.",
            set_name=set_name,
            feature=name,
        )
    if columns == [name]:
        if shape:
            values = _stack_items(frame[name], shape, set_name=set_name, feature=name)
        else:
            values = frame[name].to_numpy()
    else:
        expected = split_column_names(name, shape[0]) if len(shape) == 1 else [name]
        if columns != expected:
            missing = [c for c in expected if c not in columns]
            extra = [c for c in columns if c not in expected]
            need = (
                f"the columns {name}.0 ... {name}.{shape[0] - 1}"
                if len(shape) == 1
                else f"one column '{name}' of nested lists"
            )
            raise ValidationError(
                f"Feature '{name}' of '{set_name}' has shape {list(shape)} in the schema, so "
                f"it needs {need}; missing {short_repr(missing)}, unexpected "
                f"{short_repr(extra)}. Add or rename those columns.",
                set_name=set_name,
                feature=name,
            )
        values = frame[columns].to_numpy()
    return cast_array(values, dtype, set_name=set_name, feature=name)


def id_index(ids: Sequence[Hashable] | pd.Series) -> pd.Index:
    """Returns an Index over node ids; tuples stay single ids (no MultiIndex)."""
    return pd.Index(list(ids), tupleize_cols=False, dtype=_index_dtype(ids))


def _index_dtype(ids) -> object:
    dtype = getattr(ids, "dtype", None)
    return dtype if dtype is not None and dtype != np.dtype(object) else None


def positions(index: pd.Index, ids: Sequence[Hashable] | pd.Series) -> np.ndarray:
    """Returns the position of each id in `index`, -1 where the id is absent.

    Args:
      index: A unique Index from `id_index`.
      ids: The ids to look up.

    Returns:
      An int64 array, one position per id.
    """
    return np.asarray(index.get_indexer(id_index(ids)), dtype=np.int64)
