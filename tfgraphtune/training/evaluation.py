"""Evaluation metrics computed from predictions with numpy (exact, no streaming)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def per_class_report(
    labels: np.ndarray, predictions: np.ndarray, class_names: Sequence[str] | None = None
) -> pd.DataFrame:
    """Precision, recall, F1 and support per class, plus ``macro avg`` and ``accuracy`` rows.

    Args:
      labels: ``[n]`` true class ids.
      predictions: ``[n]`` predicted class ids, or ``[n, C]`` scores (argmax is taken).
      class_names: Optional names, one per class.

    Returns:
      A DataFrame indexed by class name with columns precision, recall, f1, support.
      Classes without predictions or without examples get 0 where undefined.
    """
    labels = np.asarray(labels).reshape(-1)
    predictions = np.asarray(predictions)
    num_classes = predictions.shape[-1] if predictions.ndim == 2 else None
    if predictions.ndim == 2:
        predictions = predictions.argmax(axis=-1)
    predictions = predictions.reshape(-1)
    if num_classes is None:
        num_classes = int(max(labels.max(initial=-1), predictions.max(initial=-1)) + 1)
    names = list(class_names) if class_names is not None else [str(c) for c in range(num_classes)]
    rows = []
    for c in range(num_classes):
        true_positive = np.sum((predictions == c) & (labels == c))
        predicted = np.sum(predictions == c)
        actual = np.sum(labels == c)
        precision = true_positive / predicted if predicted else 0.0
        recall = true_positive / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append((names[c], precision, recall, f1, int(actual)))
    frame = pd.DataFrame(rows, columns=["class", "precision", "recall", "f1", "support"])
    macro = frame[["precision", "recall", "f1"]].mean()
    accuracy = float(np.mean(predictions == labels)) if len(labels) else 0.0
    frame.loc[len(frame)] = ("macro avg", macro.precision, macro.recall, macro.f1, len(labels))
    frame.loc[len(frame)] = ("accuracy", accuracy, accuracy, accuracy, len(labels))
    return frame.set_index("class")


def classification_metrics(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """``accuracy`` and ``macro_f1`` of ``[n, C]`` scores against ``[n]`` labels."""
    report = per_class_report(labels, scores)
    return {
        "accuracy": float(report.loc["accuracy", "precision"]),
        "macro_f1": float(report.loc["macro avg", "f1"]),
    }


def regression_metrics(targets: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
    """``rmse`` and ``mae``."""
    error = np.asarray(predictions, np.float64).reshape(-1) - np.asarray(
        targets, np.float64
    ).reshape(-1)
    return {"rmse": float(np.sqrt(np.mean(error**2))), "mae": float(np.mean(np.abs(error)))}
