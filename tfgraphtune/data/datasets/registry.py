"""Known data sets by name."""

from __future__ import annotations

import functools
import os

from tfgraphtune.data.datasets import locations
from tfgraphtune.data.datasets.dataset import GraphDataset, NodeDataset
from tfgraphtune.data.datasets.moleculenet import MOLECULENET_SETS, load_moleculenet
from tfgraphtune.data.datasets.planetoid import PLANETOID_NAMES, load_planetoid
from tfgraphtune.data.datasets.tu import load_tu
from tfgraphtune.data.errors import ValidationError

TU_NAMES = ("mutag",)


def dataset_names() -> list[str]:
    """Names `load_dataset` knows (any other TU set loads as ``tu:NAME``)."""
    return [*PLANETOID_NAMES, *TU_NAMES, *MOLECULENET_SETS]


def load_dataset(
    name: str, data_dir: str | os.PathLike | None = None
) -> NodeDataset | GraphDataset:
    """Loads a known data set by name (see `_load`); repeated loads in a process are shared.

    The data sets are immutable (frozen dataclasses of tensors), so a benchmark's seeds, a
    search's trials and an evaluation after training read the files once. The cache is
    keyed by the name, the data folder and the files' modification times.
    """
    folder = locations.resolve_data_dir(data_dir)
    return _cached_load(name, str(folder) if folder else None, _folder_stamp(folder))


def _folder_stamp(folder) -> tuple:
    """Modification times of the data folder's data set folders (a changed file reloads)."""
    if folder is None:
        return ()
    paths = [p for pattern in ("*", "*/*", "*/*/*") for p in folder.glob(pattern)]
    return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in paths if p.is_file()))


@functools.lru_cache(maxsize=4)
def _cached_load(name: str, data_dir: str | None, stamp: tuple) -> NodeDataset | GraphDataset:
    return _load(name, data_dir)


def _load(name: str, data_dir: str | os.PathLike | None = None) -> NodeDataset | GraphDataset:
    """Loads a known data set by name.

    Args:
      name: ``cora``, ``citeseer``, ``pubmed``, ``mutag``, ``esol``, ``freesolv``,
        ``lipophilicity``, or ``tu:NAME`` for any TU set.
      data_dir: Folder with local copies; default ``$TFGRAPHTUNE_DATA_DIR``, else the copy
        shipped in the package (Cora), else download.

    Returns:
      A `NodeDataset` (Planetoid) or a `GraphDataset` (TU, MoleculeNet).

    Raises:
      ValidationError: Unknown name, or missing/corrupt files.
    """
    key = name.lower()
    if key in PLANETOID_NAMES:
        return load_planetoid(key, data_dir)
    if key in TU_NAMES:
        return load_tu(key, data_dir)
    if key in MOLECULENET_SETS:
        return load_moleculenet(key, data_dir)
    if key.startswith("tu:") and len(name) > 3:
        return load_tu(name[3:], data_dir)
    raise ValidationError(
        f"unknown data set {name!r}; expected one of {dataset_names()} or tu:NAME."
    )
