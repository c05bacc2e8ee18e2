"""The one exception family for bad graph data and schemas."""

from __future__ import annotations

from collections.abc import Sequence


class ValidationError(ValueError):
    """Graph data or a GraphSchema does not meet expectations.

    Attributes:
      set_name: The node set, edge set or ``"context"`` the problem is in, if any.
      feature: The feature name the problem is in, if any.
      rows: Up to a few offending row numbers (0-based), if any.
    """

    def __init__(
        self,
        message: str,
        *,
        set_name: str | None = None,
        feature: str | None = None,
        rows: Sequence[int] | None = None,
    ):
        super().__init__(message)
        self.set_name = set_name
        self.feature = feature
        self.rows = list(rows) if rows is not None else []


def first_rows(mask_or_indices, limit: int = 5) -> list[int]:
    """Returns up to `limit` row numbers from a boolean mask or an index array."""
    import numpy as np

    array = np.asarray(mask_or_indices)
    indices = np.flatnonzero(array) if array.dtype == bool else array.reshape(-1)
    return [int(i) for i in indices[:limit]]


def short_repr(values, *, items: int = 5, chars: int = 160) -> str:
    """A few of `values` for a message, never the whole of a wide row or a long list.

    Shows at most `items` items (each cut to `chars` characters) and says how many more
    there are, so a message about 1433-wide feature rows stays a few lines long.
    """
    import numpy as np

    if isinstance(values, np.ndarray):
        values = values.tolist()
    if isinstance(values, str | bytes) or not hasattr(values, "__len__"):
        text = repr(values.item() if isinstance(values, np.generic) else values)
        return text if len(text) <= chars else f"{text[: chars - 3]}..."
    values = list(values)
    shown = [short_repr(v, items=items, chars=chars // 2) for v in values[:items]]
    more = f", ... ({len(values) - items} more)" if len(values) > items else ""
    return "[" + ", ".join(shown) + more + "]"
