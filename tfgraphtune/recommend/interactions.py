"""User-item interaction tables: reading, cleaning and the `Interactions` container.

Interaction tables are CSV or Parquet files with one row per (user, item) event and
optional rating and timestamp columns; ids may be of any type (ints or strings) and are
kept as read. Cleaning steps (missing ids, rating threshold, duplicates) are reported in
the `CleaningReport` style of `tfgraphtune.data.cleaning`; a file that cannot be used
raises `ValidationError` naming the file, the row, the column and the fix.

Example:

>>> events, report = read_interaction_table("ratings.csv", rating_threshold=4)  # doctest: +SKIP
>>> print(report)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from tfgraphtune.data.cleaning import CleaningReport, StepReport
from tfgraphtune.data.errors import ValidationError

SET_NAME = "interactions"
_READERS = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".pq": pd.read_parquet}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Interactions:
    """Implicit-feedback events as index pairs, with the maps back to original ids.

    Attributes:
      users: int32 [E], user index of each event (an index into `user_ids`).
      items: int32 [E], item index of each event (an index into `item_ids`).
      user_ids: [U] index -> original user id, as read (ints or strings).
      item_ids: [I] index -> original item id, as read.
      ratings: float32 [E] or None.
      timestamps: int64 [E] or None.
      user_features: Optional name -> array with one row per user index.
      item_features: Optional name -> array with one row per item index.
    """

    users: np.ndarray
    items: np.ndarray
    user_ids: np.ndarray
    item_ids: np.ndarray
    ratings: np.ndarray | None = None
    timestamps: np.ndarray | None = None
    user_features: Mapping[str, np.ndarray] | None = None
    item_features: Mapping[str, np.ndarray] | None = None

    def __post_init__(self):
        users = np.asarray(self.users, dtype=np.int32)
        items = np.asarray(self.items, dtype=np.int32)
        object.__setattr__(self, "users", users)
        object.__setattr__(self, "items", items)
        object.__setattr__(self, "user_ids", np.asarray(self.user_ids))
        object.__setattr__(self, "item_ids", np.asarray(self.item_ids))
        if users.shape != items.shape or users.ndim != 1:
            raise ValidationError(
                f"Interactions need users and items of one shape [E]; received {users.shape} "
                f"and {items.shape}."
            )
        for name, dtype in (("ratings", np.float32), ("timestamps", np.int64)):
            value = getattr(self, name)
            if value is not None:
                value = np.asarray(value, dtype=dtype)
                if value.shape != users.shape:
                    raise ValidationError(
                        f"Interactions.{name} has shape {value.shape}; expected {users.shape}."
                    )
                object.__setattr__(self, name, value)
        if len(users) and (users.min() < 0 or users.max() >= len(self.user_ids)):
            raise ValidationError(f"Interactions.users must lie in [0, {len(self.user_ids)}).")
        if len(items) and (items.min() < 0 or items.max() >= len(self.item_ids)):
            raise ValidationError(f"Interactions.items must lie in [0, {len(self.item_ids)}).")

    @property
    def num_users(self) -> int:
        """Number of users in the id map (some may have no events here)."""
        return len(self.user_ids)

    @property
    def num_items(self) -> int:
        """Number of items in the id map."""
        return len(self.item_ids)

    def __len__(self) -> int:
        return len(self.users)

    def select(self, mask_or_indices) -> Interactions:
        """Returns the events picked by a boolean mask or index array; id maps unchanged."""
        picked = np.asarray(mask_or_indices)
        return dataclasses.replace(
            self,
            users=self.users[picked],
            items=self.items[picked],
            ratings=None if self.ratings is None else self.ratings[picked],
            timestamps=None if self.timestamps is None else self.timestamps[picked],
        )

    def to_frame(self) -> pd.DataFrame:
        """Returns a table ``user,item[,rating][,timestamp]`` with the original ids."""
        frame = pd.DataFrame({"user": self.user_ids[self.users], "item": self.item_ids[self.items]})
        if self.ratings is not None:
            frame["rating"] = self.ratings
        if self.timestamps is not None:
            frame["timestamp"] = self.timestamps
        return frame


def _read(path: Path) -> pd.DataFrame:
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise ValidationError(
            f"Cannot read interaction table {str(path)!r}: unknown extension {path.suffix!r}; "
            f"use one of {sorted(_READERS)}."
        )
    if not path.is_file():
        raise ValidationError(f"Interaction table {str(path)!r} does not exist; check the path.")
    try:
        return reader(path)
    except Exception as err:  # pandas and pyarrow raise many types.
        raise ValidationError(f"Cannot read interaction table {str(path)!r}: {err}") from None


def _numeric_column(frame: pd.DataFrame, column: str, source: str, fix: str) -> np.ndarray:
    """Returns the column as float64; a non-number raises naming the file, row and column."""
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() & frame[column].notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValidationError(
            f"{source}: row {row + 2} (line {row + 2} of the file, after the header), column "
            f"{column!r} holds {frame[column].iloc[row]!r}, which is not a number; {fix}",
            set_name=SET_NAME,
            feature=column,
            rows=[row],
        )
    return values.to_numpy(dtype=np.float64)


def clean_interactions(
    frame: pd.DataFrame,
    *,
    source: str,
    user_col: str = "user",
    item_col: str = "item",
    rating_col: str | None = "rating",
    timestamp_col: str | None = "timestamp",
    rating_threshold: float | None = None,
    user_ids: np.ndarray | None = None,
    item_ids: np.ndarray | None = None,
) -> tuple[Interactions, CleaningReport]:
    """Turns a table of events into `Interactions`, reporting every dropped row.

    Steps, in order: rows with a missing user, item (or, when those columns are used,
    rating or timestamp) are dropped; with
    `rating_threshold`, rows rated below it (or unrated) are dropped (implicit feedback);
    repeated (user, item) pairs keep their latest event (by timestamp, else the last row).

    Args:
      frame: The table; not changed.
      source: The file name (or a description) used in messages.
      user_col: Column of user ids.
      item_col: Column of item ids.
      rating_col: Column of ratings, used when present.
      timestamp_col: Column of integer timestamps, used when present.
      rating_threshold: Keep only events with rating >= this value.
      user_ids: Fixed id maps (for example a training table's); ids outside them are
        dropped and reported. None builds the maps from the table in order of first
        appearance.
      item_ids: As `user_ids`, for items.

    Returns:
      The interactions and the cleaning report.

    Raises:
      ValidationError: A column is missing, or a rating or timestamp is not a number.
    """
    for role, column in (("user_col", user_col), ("item_col", item_col)):
        if column not in frame.columns:
            raise ValidationError(
                f"{source}: no column {column!r} (the {role}); the table has columns "
                f"{list(frame.columns)}. Rename the column or pass {role}=<name> "
                f"(--{role.replace('_', '-')} on the command line).",
                set_name=SET_NAME,
                feature=column,
            )
    has_rating = rating_col is not None and rating_col in frame.columns
    has_time = timestamp_col is not None and timestamp_col in frame.columns
    if rating_threshold is not None and not has_rating:
        raise ValidationError(
            f"{source}: a rating threshold ({rating_threshold}) needs a rating column, but "
            f"there is no column {rating_col!r}; the table has {list(frame.columns)}. Pass "
            "rating_col=<name> or drop the threshold.",
            set_name=SET_NAME,
            feature=str(rating_col),
        )
    fix = "correct or delete the row."
    ratings = _numeric_column(frame, rating_col, source, fix) if has_rating else None
    times = _numeric_column(frame, timestamp_col, source, fix) if has_time else None
    rows = np.arange(len(frame))
    steps = []

    missing_step = StepReport("DropMissingValues()")
    missing = np.zeros(len(frame), dtype=bool)
    # Ids always; ratings and timestamps when their column is used.
    used = [user_col, item_col] + [
        c for c, on in ((rating_col, has_rating), (timestamp_col, has_time)) if on
    ]
    for column in used:
        empty = frame[column].isna().to_numpy()
        if empty.any():
            missing_step.notes.append(
                f"{source}: {int(empty.sum())} rows without a value in column {column!r} "
                f"dropped (first file lines {(rows[empty][:5] + 2).tolist()})"
            )
        missing |= empty
    missing_step.record(SET_NAME, "removed", missing.sum(), (rows[missing] + 2).tolist())
    keep = ~missing
    steps.append(missing_step)

    if rating_threshold is not None:
        threshold_step = StepReport(f"RatingThreshold({rating_threshold})")
        low = keep & ~(ratings >= rating_threshold)
        threshold_step.record(SET_NAME, "removed", low.sum(), (rows[low] + 2).tolist())
        keep &= ~low
        steps.append(threshold_step)

    users_raw = frame[user_col].to_numpy()[keep]
    items_raw = frame[item_col].to_numpy()[keep]
    kept_rows = rows[keep]
    if user_ids is None:
        user_codes, user_ids = pd.factorize(users_raw)
        item_codes, item_ids = pd.factorize(items_raw)
        user_ids, item_ids = np.asarray(user_ids), np.asarray(item_ids)
    else:
        user_codes = map_ids(users_raw, user_ids)
        item_codes = map_ids(items_raw, item_ids)
        mapped = (("users", user_codes, users_raw), ("items", item_codes, items_raw))
        for name, codes, raw in mapped:
            steps.append(
                unknown_ids_step(
                    f"DropUnknown{name.capitalize()}()",
                    codes,
                    raw,
                    lambda unknown, name=name, raw=raw: (
                        f"{source}: {int(unknown.sum())} rows name {name} absent from the "
                        "training table (no training interactions), dropped; e.g. "
                        f"{raw[unknown][:5].tolist()}"
                    ),
                )
            )
        known = (user_codes >= 0) & (item_codes >= 0)
        user_codes, item_codes, kept_rows = user_codes[known], item_codes[known], kept_rows[known]

    duplicate_step = StepReport("DropDuplicateInteractions(keep='latest')")
    order = np.arange(len(kept_rows))
    if times is not None:
        # Stable sort: ties in time keep file order, so "latest" is the last such row.
        order = np.argsort(times[kept_rows], kind="stable")
    pairs = pd.DataFrame({"u": user_codes[order], "i": item_codes[order]})
    duplicated = pairs.duplicated(keep="last").to_numpy()
    duplicate_step.record(
        SET_NAME,
        "removed",
        duplicated.sum(),
        [(user_ids[u], item_ids[i]) for u, i in pairs[duplicated].to_numpy()[:5]],
    )
    order = np.sort(order[~duplicated])
    steps.append(duplicate_step)

    final_rows = kept_rows[order]
    interactions = Interactions(
        users=user_codes[order],
        items=item_codes[order],
        user_ids=user_ids,
        item_ids=item_ids,
        ratings=None if ratings is None else ratings[final_rows],
        timestamps=None if times is None else times[final_rows].astype(np.int64),
    )
    return interactions, CleaningReport(steps)


def unknown_ids_step(title: str, codes: np.ndarray, raw: np.ndarray, note) -> StepReport:
    """The cleaning step that drops the rows whose ids `raw` map to no index (`codes` < 0);
    ``note(unknown mask)`` says why when there are any."""
    step = StepReport(title)
    unknown = codes < 0
    step.record(SET_NAME, "removed", unknown.sum(), raw[unknown].tolist())
    if unknown.any():
        step.notes.append(note(unknown))
    return step


def map_ids(values, id_map: np.ndarray) -> np.ndarray:
    """Returns the index of each value in `id_map`, -1 for unknown ids.

    Ids are compared as read; when the types differ (ints against strings, as happens
    when one table's id column holds a non-number), they are compared as strings.
    """
    values = np.asarray(values)
    index = pd.Index(np.asarray(id_map))
    codes = index.get_indexer(pd.Index(values))
    missing = codes < 0
    if missing.any():
        as_text = pd.Index(np.asarray(id_map).astype(str))
        codes[missing] = as_text.get_indexer(pd.Index(values[missing].astype(str)))
    return codes.astype(np.int32)


def read_interaction_table(
    path: str | os.PathLike | pd.DataFrame,
    *,
    user_col: str = "user",
    item_col: str = "item",
    rating_col: str | None = "rating",
    timestamp_col: str | None = "timestamp",
    rating_threshold: float | None = None,
) -> tuple[Interactions, CleaningReport]:
    """Reads a CSV or Parquet table ``user,item[,rating,timestamp]``.

    Args:
      path: A ``.csv``, ``.parquet`` or ``.pq`` file, or a DataFrame (not changed).
      user_col: Column of user ids (any type).
      item_col: Column of item ids (any type).
      rating_col: Column of ratings; used when present.
      timestamp_col: Column of integer timestamps; used when present.
      rating_threshold: Keep only events rated >= this (implicit feedback from ratings).

    Returns:
      The interactions (ids in order of first appearance) and a `CleaningReport` of the
      rows dropped for missing ids, the rating threshold and duplicates.

    Raises:
      ValidationError: The file cannot be read, lacks a column or holds a non-number
        rating or timestamp (the message names the file, row and column).
    """
    if isinstance(path, pd.DataFrame):
        frame, source = path, "the interaction table"
    else:
        frame, source = _read(Path(path)), str(path)
    return clean_interactions(
        frame,
        source=source,
        user_col=user_col,
        item_col=item_col,
        rating_col=rating_col,
        timestamp_col=timestamp_col,
        rating_threshold=rating_threshold,
    )
