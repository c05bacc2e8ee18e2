"""Composable cleaning steps for `GraphTables`, each reporting what it changed.

Every step is a small callable, ``step(tables) -> (new_tables, StepReport)``, in the
spirit of PyG's ``BaseTransform``: options are checked in ``__init__``, the input tables
are copied before anything changes, and every removed, added or changed row is counted.
`Compose` chains steps and collects a `CleaningReport`.

Example:

>>> clean = Compose([DropSelfLoops(), DropDanglingEdges(), MakeUndirected()])
>>> tables, report = clean(tables)  # doctest: +SKIP
>>> print(report)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Iterable, Sequence

import numpy as np
import pandas as pd

from tfgraphtune.data.errors import ValidationError
from tfgraphtune.data.features import feature_columns, id_index, positions
from tfgraphtune.data.graph_tables import GraphTables

_MAX_SAMPLES = 5


@dataclasses.dataclass
class StepReport:
    """What one cleaning step did, per node or edge set.

    Attributes:
      step: The step's ``repr``.
      removed: Set name -> rows removed.
      added: Set name -> rows added.
      changed: Set name -> rows whose values changed.
      sample_ids: Set name -> up to 5 distinct ids of the affected rows (node ids, or
        ``(source, target)`` pairs for edges).
      notes: Anything else worth knowing, for example rows left as they were.
    """

    step: str
    removed: dict[str, int] = dataclasses.field(default_factory=dict)
    added: dict[str, int] = dataclasses.field(default_factory=dict)
    changed: dict[str, int] = dataclasses.field(default_factory=dict)
    sample_ids: dict[str, list[Hashable]] = dataclasses.field(default_factory=dict)
    notes: list[str] = dataclasses.field(default_factory=list)

    def set_names(self) -> list[str]:
        """Returns the sets this step looked at, in the order first recorded."""
        names = [*self.removed, *self.added, *self.changed, *self.sample_ids]
        return list(dict.fromkeys(names))

    def record(self, set_name: str, kind: str, count: int, ids: Iterable[Hashable]) -> None:
        """Adds `count` rows of `kind` (removed, added, changed) with their ids."""
        counts = getattr(self, kind)
        counts[set_name] = counts.get(set_name, 0) + int(count)
        samples = self.sample_ids.setdefault(set_name, [])
        for value in ids:
            if len(samples) >= _MAX_SAMPLES:
                break
            if value not in samples:
                samples.append(value)


@dataclasses.dataclass
class CleaningReport:
    """The reports of a sequence of cleaning steps.

    Attributes:
      steps: One `StepReport` per step, in the order they ran.
    """

    steps: list[StepReport]

    @property
    def total_removed(self) -> int:
        """Rows removed by all steps, over all sets."""
        return sum(sum(step.removed.values()) for step in self.steps)

    @property
    def total_added(self) -> int:
        """Rows added by all steps, over all sets."""
        return sum(sum(step.added.values()) for step in self.steps)

    @property
    def total_changed(self) -> int:
        """Rows changed by all steps, over all sets."""
        return sum(sum(step.changed.values()) for step in self.steps)

    def to_frame(self) -> pd.DataFrame:
        """Returns one row per (step, set): step, set, removed, added, changed, sample_ids."""
        rows = [
            {
                "step": step.step,
                "set": name,
                "removed": step.removed.get(name, 0),
                "added": step.added.get(name, 0),
                "changed": step.changed.get(name, 0),
                "sample_ids": list(step.sample_ids.get(name, [])),
            }
            for step in self.steps
            for name in step.set_names()
        ]
        columns = ["step", "set", "removed", "added", "changed", "sample_ids"]
        return pd.DataFrame(rows, columns=columns)

    def __str__(self) -> str:
        if not self.steps:
            return "Cleaning: no steps."
        lines = [self.to_frame().to_string(index=False)]
        lines += [f"note: {note}" for step in self.steps for note in step.notes]
        lines.append(
            f"total: {self.total_removed} removed, {self.total_added} added, "
            f"{self.total_changed} changed"
        )
        return "\n".join(lines)


def _invalid(name: str, expected: str, value) -> ValidationError:
    return ValidationError(
        f"Received an invalid value for {name}, expected {expected}. Received: {name}={value!r}"
    )


def _edge_ids(frame: pd.DataFrame, mask: np.ndarray) -> list[tuple]:
    picked = frame.loc[mask, ["source", "target"]].head(50)
    return list(zip(picked["source"].tolist(), picked["target"].tolist()))


def _require_edge_columns(set_name: str, frame: pd.DataFrame) -> None:
    missing = [c for c in ("source", "target") if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"The table of edge set '{set_name}' lacks columns {missing}; edge tables need "
            "'source' and 'target' columns of node ids.",
            set_name=set_name,
            feature=missing[0],
        )


def _homogeneous(tables: GraphTables) -> list[str]:
    """Edge sets whose source and target node sets are the same."""
    return [name for name in tables.edge_sets if len(set(tables.endpoints(name))) == 1]


class DropDuplicateNodes:
    """Removes node rows whose id already appeared in the same node set; edges stay.

    Args:
      keep: ``"first"`` keeps the first row of each id, ``"last"`` the last one.
    """

    def __init__(self, keep: str = "first"):
        if keep not in ("first", "last"):
            raise _invalid("keep", "'first' or 'last'", keep)
        self.keep = keep

    def __call__(self, tables: GraphTables) -> tuple[GraphTables, StepReport]:
        tables = tables.copy()
        report = StepReport(repr(self))
        for name, frame in tables.node_sets.items():
            ids = tables.node_ids(name)
            drop = ids.duplicated(keep=self.keep).to_numpy()
            report.record(name, "removed", drop.sum(), ids[drop].tolist())
            tables.node_sets[name] = frame.loc[~drop]
        return tables, report

    def __repr__(self) -> str:
        return f"DropDuplicateNodes(keep={self.keep!r})"


class DropDuplicateEdges:
    """Removes edges whose (source, target) pair already appeared in the same edge set.

    The first occurrence is kept, with its features.
    """

    def __call__(self, tables: GraphTables) -> tuple[GraphTables, StepReport]:
        tables = tables.copy()
        report = StepReport(repr(self))
        for name, frame in tables.edge_sets.items():
            _require_edge_columns(name, frame)
            pairs = id_index(list(zip(frame["source"], frame["target"])))
            drop = np.asarray(pairs.duplicated(keep="first"))
            report.record(name, "removed", drop.sum(), _edge_ids(frame, drop))
            tables.edge_sets[name] = frame.loc[~drop]
        return tables, report

    def __repr__(self) -> str:
        return "DropDuplicateEdges()"


class DropSelfLoops:
    """Removes edges from a node to itself, in edge sets that connect one node set."""

    def __call__(self, tables: GraphTables) -> tuple[GraphTables, StepReport]:
        tables = tables.copy()
        report = StepReport(repr(self))
        for name in _homogeneous(tables):
            frame = tables.edge_sets[name]
            _require_edge_columns(name, frame)
            drop = np.array([s == t for s, t in zip(frame["source"], frame["target"])], bool)
            report.record(name, "removed", drop.sum(), _edge_ids(frame, drop))
            tables.edge_sets[name] = frame.loc[~drop]
        return tables, report

    def __repr__(self) -> str:
        return "DropSelfLoops()"


class DropDanglingEdges:
    """Removes edges whose source or target id is not in its node table."""

    def __call__(self, tables: GraphTables) -> tuple[GraphTables, StepReport]:
        tables = tables.copy()
        report = StepReport(repr(self))
        for name, frame in tables.edge_sets.items():
            _require_edge_columns(name, frame)
            source_set, target_set = tables.endpoints(name)
            source = positions(id_index(tables.node_ids(source_set).unique()), frame["source"])
            target = positions(id_index(tables.node_ids(target_set).unique()), frame["target"])
            drop = (source < 0) | (target < 0)
            report.record(name, "removed", drop.sum(), _edge_ids(frame, drop))
            tables.edge_sets[name] = frame.loc[~drop]
        return tables, report

    def __repr__(self) -> str:
        return "DropDanglingEdges()"


def _check_degree(name: str, value) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise _invalid(name, "an integer >= 0", value)


class FilterNodes:
    """Keeps the nodes of one node set that pass all given filters, and their edges.

    Removed nodes take their incident edges (in every edge set touching the node set)
    with them; both are reported. The degree counts every edge endpoint in those edge
    sets, so a self loop adds 2. Edges are removed only for removed nodes: dangling
    edges stay for `DropDanglingEdges` or validation to report.

    Args:
      node_set: The node set to filter.
      min_degree: Keep nodes with at least this degree.
      max_degree: Keep nodes with at most this degree.
      predicate: A function from the node table to a boolean Series (one per row);
        keeps rows where it is True.
    """

    def __init__(
        self,
        node_set: str,
        *,
        min_degree: int | None = None,
        max_degree: int | None = None,
        predicate: Callable[[pd.DataFrame], pd.Series] | None = None,
    ):
        if not isinstance(node_set, str) or not node_set:
            raise _invalid("node_set", "a node set name", node_set)
        _check_degree("min_degree", min_degree)
        _check_degree("max_degree", max_degree)
        if min_degree is not None and max_degree is not None and max_degree < min_degree:
            raise _invalid("max_degree", f"an integer >= min_degree={min_degree}", max_degree)
        if predicate is not None and not callable(predicate):
            raise _invalid("predicate", "a function DataFrame -> bool Series", predicate)
        if min_degree is None and max_degree is None and predicate is None:
            raise ValidationError(
                "FilterNodes needs at least one of min_degree, max_degree or predicate. "
                "Received none."
            )
        self.node_set = node_set
        self.min_degree = min_degree
        self.max_degree = max_degree
        self.predicate = predicate

    def _degrees(self, tables: GraphTables, ids: pd.Series) -> np.ndarray:
        """Returns the degree of each row's id (rows sharing an id share its degree)."""
        index = id_index(ids.unique())
        degree = np.zeros(len(index), dtype=np.int64)
        for name, frame in tables.edge_sets.items():
            for end, node_set in zip(("source", "target"), tables.endpoints(name)):
                if node_set != self.node_set:
                    continue
                found = positions(index, frame[end])
                np.add.at(degree, found[found >= 0], 1)
        return degree[positions(index, ids)]

    def _keep(self, tables: GraphTables, frame: pd.DataFrame, ids: pd.Series) -> np.ndarray:
        keep = np.ones(len(frame), dtype=bool)
        if self.min_degree is not None or self.max_degree is not None:
            degree = self._degrees(tables, ids)
            if self.min_degree is not None:
                keep &= degree >= self.min_degree
            if self.max_degree is not None:
                keep &= degree <= self.max_degree
        if self.predicate is not None:
            result = self.predicate(frame.copy(deep=True))
            values = np.asarray(result)
            if values.shape != (len(frame),) or values.dtype != bool:
                raise ValidationError(
                    f"The predicate of FilterNodes('{self.node_set}') must return one bool per "
                    f"row ({len(frame)}); it returned {type(result).__name__} of shape "
                    f"{values.shape} and dtype {values.dtype}.",
                    set_name=self.node_set,
                )
            keep &= values
        return keep

    def __call__(self, tables: GraphTables) -> tuple[GraphTables, StepReport]:
        tables = tables.copy()
        report = StepReport(repr(self))
        frame = tables.node_sets.get(self.node_set)
        if frame is None:
            raise ValidationError(
                f"FilterNodes: no table for node set '{self.node_set}'; the tables hold "
                f"{sorted(tables.node_sets)}.",
                set_name=self.node_set,
            )
        ids = tables.node_ids(self.node_set)
        keep = self._keep(tables, frame, ids)
        report.record(self.node_set, "removed", (~keep).sum(), ids[~keep].tolist())
        tables.node_sets[self.node_set] = frame.loc[keep]
        removed = id_index(ids[~keep].unique())
        kept = id_index(ids[keep].unique())
        for name, edges in tables.edge_sets.items():
            drop = np.zeros(len(edges), dtype=bool)
            for end, node_set in zip(("source", "target"), tables.endpoints(name)):
                if node_set == self.node_set:
                    # An id both kept and removed (a duplicate) keeps its edges.
                    values = edges[end]
                    drop |= (positions(removed, values) >= 0) & (positions(kept, values) < 0)
            if any(s == self.node_set for s in tables.endpoints(name)):
                report.record(name, "removed", drop.sum(), _edge_ids(edges, drop))
                tables.edge_sets[name] = edges.loc[~drop]
        return tables, report

    def __repr__(self) -> str:
        options = [repr(self.node_set)]
        for name in ("min_degree", "max_degree"):
            if getattr(self, name) is not None:
                options.append(f"{name}={getattr(self, name)}")
        if self.predicate is not None:
            label = getattr(self.predicate, "__name__", type(self.predicate).__name__)
            options.append(f"predicate={label}")
        return f"FilterNodes({', '.join(options)})"


class MakeUndirected:
    """Adds the reverse of every edge that lacks one, with the same edge features.

    Only edge sets whose source and target node sets are equal can be made
    undirected. Reverses already present, and self loops, add nothing; a reverse is
    added once even if its edge appears twice.

    Args:
      edge_sets: The edge sets to change; default every edge set that connects one
        node set to itself.
    """

    def __init__(self, edge_sets: Sequence[str] | None = None):
        if edge_sets is not None:
            if isinstance(edge_sets, str) or not all(isinstance(e, str) for e in edge_sets):
                raise _invalid("edge_sets", "a list of edge set names or None", edge_sets)
            edge_sets = list(edge_sets)
        self.edge_sets = edge_sets

    def _targets(self, tables: GraphTables) -> list[str]:
        if self.edge_sets is None:
            return _homogeneous(tables)
        for name in self.edge_sets:
            if name not in tables.edge_sets:
                raise ValidationError(
                    f"MakeUndirected: no table for edge set '{name}'; the tables hold "
                    f"{sorted(tables.edge_sets)}.",
                    set_name=name,
                )
            source_set, target_set = tables.endpoints(name)
            if source_set != target_set:
                raise ValidationError(
                    f"MakeUndirected: edge set '{name}' connects '{source_set}' to "
                    f"'{target_set}'; only edge sets within one node set can be made "
                    "undirected. Add a reverse edge set to the schema instead.",
                    set_name=name,
                )
        return list(self.edge_sets)

    def __call__(self, tables: GraphTables) -> tuple[GraphTables, StepReport]:
        tables = tables.copy()
        report = StepReport(repr(self))
        for name in self._targets(tables):
            frame = tables.edge_sets[name]
            _require_edge_columns(name, frame)
            existing = set(zip(frame["source"], frame["target"]))
            reverse = id_index(list(zip(frame["target"], frame["source"])))
            new = np.array([pair not in existing for pair in reverse], dtype=bool)
            new &= ~np.asarray(reverse.duplicated())
            added = frame.loc[new].copy()
            added["source"], added["target"] = frame.loc[new, "target"], frame.loc[new, "source"]
            report.record(name, "added", new.sum(), reverse[new][:_MAX_SAMPLES].tolist())
            tables.edge_sets[name] = pd.concat([frame, added], ignore_index=True)
        return tables, report

    def __repr__(self) -> str:
        return f"MakeUndirected(edge_sets={self.edge_sets!r})"


_NORMALIZE_METHODS = ("row_sum", "standardize")


class NormalizeFeatures:
    """Normalizes one numeric node feature.

    ``"row_sum"`` divides each row by its sum (bag-of-words features, as in GCN);
    rows summing to zero are left as they are and counted in the notes.
    ``"standardize"`` gives each column zero mean and unit variance; constant columns
    are centered (to zeros) and counted in the notes.

    Args:
      node_set: The node set that holds the feature.
      feature: The feature: one column of numbers or of lists, or ``NAME.i`` columns.
      method: ``"row_sum"`` or ``"standardize"``.
    """

    def __init__(self, node_set: str, feature: str, method: str = "row_sum"):
        if not isinstance(node_set, str) or not node_set:
            raise _invalid("node_set", "a node set name", node_set)
        if not isinstance(feature, str) or not feature:
            raise _invalid("feature", "a feature name", feature)
        if method not in _NORMALIZE_METHODS:
            raise _invalid("method", f"one of {list(_NORMALIZE_METHODS)}", method)
        self.node_set = node_set
        self.feature = feature
        self.method = method

    def _matrix(self, frame: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, bool]:
        """Returns the feature as a float matrix, and whether it came from list cells."""
        try:
            if columns == [self.feature] and frame[self.feature].map(np.ndim).gt(0).any():
                return np.stack(frame[self.feature].map(np.asarray).to_list()).astype(float), True
            return frame[columns].to_numpy(dtype=float), False
        except (TypeError, ValueError) as err:
            raise ValidationError(
                f"NormalizeFeatures: feature '{self.feature}' of '{self.node_set}' must be "
                f"numeric with one shape per row: {err}",
                set_name=self.node_set,
                feature=self.feature,
            ) from None

    def _normalize(self, matrix: np.ndarray) -> tuple[np.ndarray, int, str]:
        if self.method == "row_sum":
            sums = matrix.sum(axis=1, keepdims=True)
            zero = sums[:, 0] == 0
            # Prevent division by zero: rows summing to zero keep their values.
            result = matrix / np.where(zero[:, None], 1.0, sums)
            return result, int(zero.sum()), "rows sum to zero; left as they were"
        std = matrix.std(axis=0)
        constant = std == 0
        result = (matrix - matrix.mean(axis=0)) / np.where(constant, 1.0, std)
        return result, int(constant.sum()), "columns are constant; centered to zeros"

    def __call__(self, tables: GraphTables) -> tuple[GraphTables, StepReport]:
        tables = tables.copy()
        report = StepReport(repr(self))
        frame = tables.node_sets.get(self.node_set)
        if frame is None:
            raise ValidationError(
                f"NormalizeFeatures: no table for node set '{self.node_set}'; the tables "
                f"hold {sorted(tables.node_sets)}.",
                set_name=self.node_set,
            )
        columns = feature_columns(frame, self.feature)
        if not columns:
            raise ValidationError(
                f"NormalizeFeatures: node set '{self.node_set}' has no feature "
                f"'{self.feature}' (a column of that name or {self.feature}.0, ...).",
                set_name=self.node_set,
                feature=self.feature,
            )
        matrix, as_lists = self._matrix(frame, columns)
        if matrix.ndim == 1:
            matrix = matrix[:, None]
        result, special, what = self._normalize(matrix)
        changed = ~np.isclose(result, matrix, equal_nan=True).all(axis=1)
        frame = frame.copy()
        if as_lists:
            frame[self.feature] = list(result.tolist())
        else:
            frame[columns] = result
        tables.node_sets[self.node_set] = frame
        ids = tables.node_ids(self.node_set)
        report.record(self.node_set, "changed", changed.sum(), ids[changed].tolist())
        if special:
            report.notes.append(f"{self.node_set}.{self.feature}: {special} {what}")
        return tables, report

    def __repr__(self) -> str:
        return f"NormalizeFeatures({self.node_set!r}, {self.feature!r}, method={self.method!r})"


class Compose:
    """Runs cleaning steps in order and collects their reports.

    Args:
      steps: Callables ``tables -> (tables, StepReport)``, for example the steps above.
    """

    def __init__(self, steps: Sequence[Callable[[GraphTables], tuple[GraphTables, StepReport]]]):
        if isinstance(steps, str) or not isinstance(steps, Sequence):
            raise _invalid("steps", "a list of cleaning steps", steps)
        for step in steps:
            if not callable(step):
                raise _invalid("steps", "a list of callable cleaning steps", step)
        self.steps = list(steps)

    def __call__(self, tables: GraphTables) -> tuple[GraphTables, CleaningReport]:
        reports = []
        for step in self.steps:
            tables, report = step(tables)
            reports.append(report)
        return tables, CleaningReport(reports)

    def __repr__(self) -> str:
        return f"Compose([{', '.join(repr(step) for step in self.steps)}])"
