"""Seeded, stratified splits of labelled items (graphs or nodes) for evaluation protocols."""

from __future__ import annotations

import numpy as np


def stratified_folds(labels: np.ndarray, folds: int, seed: int) -> list[np.ndarray]:
    """Splits indices into `folds` test folds with the class proportions of `labels`.

    Each class's indices are shuffled and dealt round-robin to the folds, starting where
    the previous class stopped, so fold sizes differ by at most one.

    Raises:
      ValueError: Fewer than 2 folds, or more folds than graphs.
    """
    if folds < 2 or folds > len(labels):
        raise ValueError(
            f"Received an invalid value for folds, expected an integer in [2, {len(labels)}]. "
            f"Received: folds={folds!r}"
        )
    rng = np.random.default_rng(seed)
    assignment = np.empty(len(labels), dtype=np.int64)
    offset = 0
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        assignment[members] = (offset + np.arange(len(members))) % folds
        offset += len(members)
    return [np.sort(np.flatnonzero(assignment == fold)) for fold in range(folds)]


def stratified_holdout(
    indices: np.ndarray, labels: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Splits `indices` into ``(kept, held out)``, holding out `fraction` of each class.

    At least one member of each class present is held out.
    """
    rng = np.random.default_rng(seed)
    held = []
    for label in np.unique(labels[indices]):
        members = rng.permutation(indices[labels[indices] == label])
        held.append(members[: max(1, round(fraction * len(members)))])
    held = np.sort(np.concatenate(held))
    return np.setdiff1d(indices, held), held
