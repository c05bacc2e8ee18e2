"""The MovieLens-100K folder format (GroupLens): ``u.data``, ``u.item``, ``u.user``.

Files (Harper & Konstan, "The MovieLens Datasets: History and Context", TiiS 2015):
- ``u.data``: tab-separated ``user id, item id, rating (1-5), unix timestamp``;
- ``u.item``: pipe-separated, Latin-1: ``movie id | title | release date | video release
  date | IMDb URL | 19 genre flags`` (unknown, Action, ..., Western);
- ``u.user``: pipe-separated: ``user id | age | gender | occupation | zip code``.

`read_movielens_100k` reads a folder the user names; `download_movielens_100k` fetches
the official archive (never called by tests) and checks its SHA-256.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from tfgraphtune.data.cleaning import CleaningReport, StepReport
from tfgraphtune.data.errors import ValidationError
from tfgraphtune.recommend.interactions import SET_NAME, Interactions, clean_interactions

GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
# SHA-256 of GroupLens's archive (its published MD5 is 0e33842e24a9c977be4e0107933c0723).
SHA256 = "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229"


def _lines(path: Path, encoding: str) -> list[str]:
    if not path.is_file():
        raise ValidationError(
            f"MovieLens file {str(path)!r} does not exist; point to the folder holding "
            "u.data, u.item and u.user (the unzipped ml-100k folder)."
        )
    with open(path, encoding=encoding) as handle:
        return [line.rstrip("\r\n") for line in handle]


def _fields(path: Path, lines: list[str], sep: str, count: int, names: tuple) -> list[list[str]]:
    """Splits each non-empty line; a wrong field count raises naming the line."""
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = line.split(sep)
        if len(parts) < count:
            missing = names[len(parts)] if len(parts) < len(names) else f"field {len(parts) + 1}"
            raise ValidationError(
                f"{path}: line {number} has {len(parts)} {sep!r}-separated fields, expected "
                f"{count} ({', '.join(names)}); column {missing!r} is missing. Fix or delete "
                "the line.",
                set_name=SET_NAME,
                feature=str(missing),
                rows=[number - 1],
            )
        rows.append([number, *parts[:count]])
    return rows


def _integers(path: Path, rows: list[list], column: int, name: str) -> np.ndarray:
    values = []
    for row in rows:
        try:
            values.append(int(row[column + 1]))
        except ValueError:
            raise ValidationError(
                f"{path}: line {row[0]}, column {name!r} holds {row[column + 1]!r}, which is not "
                "an integer; fix or delete the line.",
                set_name=SET_NAME,
                feature=name,
                rows=[row[0] - 1],
            ) from None
    return np.asarray(values, dtype=np.int64)


def _item_features(folder: Path, item_ids: np.ndarray, step: StepReport) -> dict[str, np.ndarray]:
    path = folder / "u.item"
    names = ("movie id", "title", "release date", "video release date", "IMDb URL", *GENRES)
    rows = _fields(path, _lines(path, "latin-1"), "|", len(names), names)
    ids = _integers(path, rows, 0, "movie id")
    flags = np.zeros((len(rows), len(GENRES)), dtype=np.float32)
    for g, genre in enumerate(GENRES):
        flags[:, g] = _integers(path, rows, 5 + g, genre)
    position = pd.Index(ids).get_indexer(item_ids)
    missing = position < 0
    if missing.any():
        step.record("item_features", "changed", missing.sum(), item_ids[missing].tolist())
        step.notes.append(
            f"{path}: {int(missing.sum())} rated items have no line; their genres are all 0"
        )
    genres = np.where(missing[:, None], 0.0, flags[position]).astype(np.float32)
    titles = np.asarray([row[2] for row in rows], dtype=object)
    return {"genres": genres, "title": np.where(missing, "", titles[position])}


def _user_features(folder: Path, user_ids: np.ndarray, step: StepReport) -> dict[str, np.ndarray]:
    path = folder / "u.user"
    names = ("user id", "age", "gender", "occupation", "zip code")
    rows = _fields(path, _lines(path, "latin-1"), "|", len(names), names)
    ids = _integers(path, rows, 0, "user id")
    age = _integers(path, rows, 1, "age").astype(np.float32)
    gender = np.asarray([row[3] for row in rows])
    bad = ~np.isin(gender, ["M", "F"])
    if bad.any():
        row = rows[int(np.flatnonzero(bad)[0])]
        raise ValidationError(
            f"{path}: line {row[0]}, column 'gender' holds {row[3]!r}; expected 'M' or 'F'.",
            set_name=SET_NAME,
            feature="gender",
            rows=[row[0] - 1],
        )
    occupation_names = np.asarray([row[4] for row in rows])
    vocabulary = np.unique(occupation_names)
    position = pd.Index(ids).get_indexer(user_ids)
    missing = position < 0
    if missing.any():
        step.record("user_features", "changed", missing.sum(), user_ids[missing].tolist())
        step.notes.append(f"{path}: {int(missing.sum())} users have no line; features are 0")
    occupation = np.searchsorted(vocabulary, occupation_names).astype(np.int32)
    return {
        "age": np.where(missing, 0.0, age[position]).astype(np.float32),
        "gender": np.where(missing, 0, gender[position] == "M").astype(np.int32),
        "occupation": np.where(missing, 0, occupation[position]).astype(np.int32),
        "occupation_vocabulary": vocabulary.astype(object),
    }


def read_movielens_100k(
    folder: str | os.PathLike, *, rating_threshold: float | None = None
) -> tuple[Interactions, CleaningReport]:
    """Reads a MovieLens-100K folder with its side features.

    Args:
      folder: The folder holding ``u.data`` (required), ``u.item`` and ``u.user``
        (optional: without them there are no side features).
      rating_threshold: Keep only ratings >= this (e.g. 4 for "liked"); None keeps all.

    Returns:
      Interactions with integer user and item ids, ratings and timestamps, and side
      features: items ``genres`` float32 [I, 19] (the `GENRES` flags) and ``title``;
      users ``age`` float32 [U], ``gender`` int32 [U] (1 = M, 0 = F), ``occupation``
      int32 [U] (index into ``occupation_vocabulary``, sorted names). Only users and
      items with a kept rating are indexed. Also the cleaning report.

    Raises:
      ValidationError: A file is missing or malformed (the message names file, line
        and column).
    """
    folder = Path(folder)
    path = folder / "u.data"
    names = ("user id", "item id", "rating", "timestamp")
    rows = _fields(path, _lines(path, "latin-1"), "\t", 4, names)
    frame = pd.DataFrame(
        {
            "user": _integers(path, rows, 0, "user id"),
            "item": _integers(path, rows, 1, "item id"),
            "rating": _integers(path, rows, 2, "rating").astype(np.float32),
            "timestamp": _integers(path, rows, 3, "timestamp"),
        }
    )
    interactions, report = clean_interactions(
        frame, source=str(path), rating_threshold=rating_threshold
    )
    features_step = StepReport("MovieLensSideFeatures()")
    item_features = user_features = None
    if (folder / "u.item").is_file():
        item_features = _item_features(folder, interactions.item_ids, features_step)
    if (folder / "u.user").is_file():
        user_features = _user_features(folder, interactions.user_ids, features_step)
    report.steps.append(features_step)
    interactions = dataclasses.replace(
        interactions, item_features=item_features, user_features=user_features
    )
    return interactions, report


def download_movielens_100k(directory: str | os.PathLike) -> Path:
    """Downloads and unzips MovieLens-100K from GroupLens; returns the ``ml-100k`` folder.

    Never called by the tests. The archive's SHA-256 is checked before it is unzipped.

    Raises:
      ValidationError: The download's checksum differs from `SHA256`.
    """
    import urllib.request

    directory = Path(directory)
    target = directory / "ml-100k"
    if (target / "u.data").is_file():
        return target
    directory.mkdir(parents=True, exist_ok=True)
    archive = directory / "ml-100k.zip"
    urllib.request.urlretrieve(URL, archive)  # noqa: S310 (fixed https URL)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    if digest != SHA256:
        raise ValidationError(
            f"{archive}: SHA-256 {digest} differs from the expected {SHA256}; delete the "
            "file and download again."
        )
    with zipfile.ZipFile(archive) as bundle:
        bundle.extractall(directory)
    return target
