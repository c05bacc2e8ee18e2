"""Exact ROC-AUC and average precision of binary scores, computed with numpy.

Keras' ``tf.keras.metrics.AUC`` approximates the curves with a fixed grid of thresholds;
these functions are exact (every distinct score is a threshold, tied scores count as one
threshold) and match the usual definitions (scikit-learn's ``roc_auc_score`` and
``average_precision_score``), which published link prediction results report.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def _check(labels: ArrayLike, scores: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Returns ``(labels as bool, scores as float64)`` as flat arrays.

    Raises:
      ValueError: Different lengths, labels other than 0/1, non-finite scores, or only one
        class present.
    """
    labels = np.asarray(labels).reshape(-1)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if labels.shape != scores.shape:
        raise ValueError(
            f"labels and scores must have the same length; received {labels.size} labels and "
            f"{scores.size} scores."
        )
    if not np.all((labels == 0) | (labels == 1)):
        raise ValueError(f"labels must be 0 or 1; received values {np.unique(labels)[:10]}.")
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores must be finite; received NaN or infinite values.")
    labels = labels.astype(bool)
    if labels.all() or not labels.any():
        raise ValueError("ranking metrics need both positive and negative labels.")
    return labels, scores


def roc_auc(labels: ArrayLike, scores: ArrayLike) -> float:
    """Area under the ROC curve: the probability that a positive outranks a negative.

    Computed as the Mann-Whitney U statistic with average ranks, so a positive and a
    negative with equal scores count one half (Hanley & McNeil, "The meaning and use of the
    area under a receiver operating characteristic (ROC) curve", Radiology 1982):
    ``AUC = (sum of positive ranks - P (P + 1) / 2) / (P N)``.

    Args:
      labels: ``[n]`` 0/1 labels.
      scores: ``[n]`` scores, higher meaning more likely positive (logits or probabilities).

    Returns:
      The AUC in ``[0, 1]``.

    Raises:
      ValueError: Mismatched lengths, labels other than 0/1, non-finite scores, or one class.

    Example:
      >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
      0.75
    """
    labels, scores = _check(labels, scores)
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    # Tied scores share the mean of the ranks they span (1-based).
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    ends = np.r_[starts[1:], scores.size]
    group_rank = (starts + 1 + ends) / 2.0
    ranks = np.empty(scores.size, dtype=np.float64)
    ranks[order] = np.repeat(group_rank, ends - starts)
    num_pos = float(labels.sum())
    num_neg = float(labels.size - num_pos)
    return float((ranks[labels].sum() - num_pos * (num_pos + 1) / 2.0) / (num_pos * num_neg))


def average_precision(labels: ArrayLike, scores: ArrayLike) -> float:
    """Average precision: ``AP = sum_k (R_k - R_{k-1}) P_k`` over distinct score thresholds.

    ``P_k`` and ``R_k`` are the precision and recall when every score ``>=`` the k-th
    largest distinct score is called positive (no interpolation; the step-wise area under
    the precision-recall curve used by Kipf & Welling's GAE evaluation through
    scikit-learn's ``average_precision_score``).

    Args:
      labels: ``[n]`` 0/1 labels.
      scores: ``[n]`` scores, higher meaning more likely positive.

    Returns:
      The AP in ``[0, 1]``.

    Raises:
      ValueError: Mismatched lengths, labels other than 0/1, non-finite scores, or one class.

    Example:
      >>> round(average_precision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 4)
      0.8333
    """
    labels, scores = _check(labels, scores)
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores = scores[order]
    sorted_labels = labels[order]
    # The last row of each run of tied scores closes one threshold.
    last_of_group = np.r_[sorted_scores[1:] != sorted_scores[:-1], True]
    true_pos = np.cumsum(sorted_labels)[last_of_group]
    called = (np.flatnonzero(last_of_group) + 1).astype(np.float64)
    precision = true_pos / called
    recall = true_pos / true_pos[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
