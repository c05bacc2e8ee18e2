"""Known data sets by name."""

from __future__ import annotations

import os

from tfgraphtune.data.datasets.dataset import GraphDataset, NodeDataset
from tfgraphtune.data.datasets.planetoid import PLANETOID_NAMES, load_planetoid
from tfgraphtune.data.datasets.tu import load_tu
from tfgraphtune.data.errors import ValidationError

TU_NAMES = ("mutag",)


def dataset_names() -> list[str]:
    """Names `load_dataset` knows (any other TU set loads as ``tu:NAME``)."""
    return [*PLANETOID_NAMES, *TU_NAMES]


def load_dataset(
    name: str, data_dir: str | os.PathLike | None = None
) -> NodeDataset | GraphDataset:
    """Loads a known data set by name.

    Args:
      name: ``cora``, ``citeseer``, ``pubmed``, ``mutag``, or ``tu:NAME`` for any TU set.
      data_dir: Folder with local copies; default ``$TFGRAPHTUNE_DATA_DIR``, else download.

    Returns:
      A `NodeDataset` (Planetoid) or a `GraphDataset` (TU).

    Raises:
      ValidationError: Unknown name, or missing/corrupt files.
    """
    key = name.lower()
    if key in PLANETOID_NAMES:
        return load_planetoid(key, data_dir)
    if key in TU_NAMES:
        return load_tu(key, data_dir)
    if key.startswith("tu:") and len(name) > 3:
        return load_tu(name[3:], data_dir)
    raise ValidationError(
        f"unknown data set {name!r}; expected one of {dataset_names()} or tu:NAME."
    )
