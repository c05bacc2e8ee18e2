"""The pictures of a run folder, drawn with matplotlib (Agg, no display needed).

Each function returns a `matplotlib.figure.Figure` built without pyplot (no global
figure state, safe in any thread and process); `save_figures` writes them as PNG into
``FOLDER/plots/``. The numbers come from scikit-learn (confusion matrix, ROC and
precision-recall curves, PCA), the same definitions the metrics use.

Every picture is small and quick: a run folder's pictures take well under a second
(the embedding projection samples at most `MAX_POINTS` rows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

PLOTS_DIR = "plots"
MAX_POINTS = 3000
DPI = 100
# Keras history keys that are not curves worth a panel.
_NOT_CURVES = ("lr", "learning_rate")


def save_figures(folder: str | Path, figures: Mapping[str, Figure]) -> list[Path]:
    """Writes each figure as ``FOLDER/plots/NAME.png``; returns the paths."""
    out = Path(folder) / PLOTS_DIR
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, figure in figures.items():
        if figure is None:
            continue
        path = out / f"{name}.png"
        figure.savefig(path, dpi=DPI)  # Laid out by tight_layout: one render, not two.
        paths.append(path)
    return paths


def training_curves(history: Mapping[str, Sequence[float]], *, title: str = "") -> Figure:
    """One panel per logged quantity (loss, accuracy, ...): training and validation curves.

    Args:
      history: Keras's ``History.history`` (or ``history.csv`` as a dict of columns).
      title: Shown above the panels.
    """
    names = [
        name
        for name in history
        if not name.startswith("val_") and name not in _NOT_CURVES and name != "epoch"
    ]
    # Validation-only quantities (e.g. the link task's exact val_roc_auc) get their own panel.
    names += [
        name
        for name in history
        if name.startswith("val_") and name[4:] not in history and name[4:] not in _NOT_CURVES
    ]
    names = names[:4] or ["loss"]
    figure = Figure(figsize=(3.2 * len(names), 2.8))
    axes = figure.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        if name.startswith("val_"):
            pairs = ((name, "validation"),)
        else:
            pairs = ((name, "training"), (f"val_{name}", "validation"))
        for key, label in pairs:
            values = history.get(key)
            if values is not None and len(values):
                ax.plot(np.arange(1, len(values) + 1), values, label=label)
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def confusion_matrix(labels: np.ndarray, outputs: np.ndarray, *, split: str = "test") -> Figure:
    """Counts of true class (rows) against predicted class (columns, the arg max)."""
    from sklearn.metrics import ConfusionMatrixDisplay

    labels = np.asarray(labels).reshape(-1)
    predicted = np.asarray(outputs).argmax(axis=-1)
    classes = np.arange(np.asarray(outputs).shape[-1])
    size = min(2.5 + 0.45 * len(classes), 9)
    figure = Figure(figsize=(size, size))
    ax = figure.subplots()
    ConfusionMatrixDisplay.from_predictions(
        labels, predicted, labels=classes, ax=ax, colorbar=False, cmap="Blues"
    )
    accuracy = float(np.mean(labels == predicted)) if len(labels) else float("nan")
    ax.set_title(f"confusion matrix ({split}, accuracy {accuracy:.3f})", fontsize="medium")
    figure.tight_layout()
    return figure


def roc_pr_curves(labels: np.ndarray, scores: np.ndarray, *, split: str = "test") -> Figure:
    """ROC and precision-recall curves of binary labels against scores (link prediction)."""
    from sklearn.metrics import (
        auc,
        average_precision_score,
        precision_recall_curve,
        roc_curve,
    )

    labels = np.asarray(labels).reshape(-1)
    scores = np.asarray(scores, np.float64).reshape(-1)
    figure = Figure(figsize=(7.0, 3.2))
    roc_ax, pr_ax = figure.subplots(1, 2)
    fpr, tpr, _ = roc_curve(labels, scores)
    roc_ax.plot(fpr, tpr, label=f"ROC-AUC {auc(fpr, tpr):.3f}")
    roc_ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8)
    roc_ax.set_xlabel("false positive rate")
    roc_ax.set_ylabel("true positive rate")
    roc_ax.set_title(f"ROC ({split})")
    precision, recall, _ = precision_recall_curve(labels, scores)
    pr_ax.plot(recall, precision, label=f"AP {average_precision_score(labels, scores):.3f}")
    pr_ax.axhline(labels.mean(), linestyle="--", color="grey", linewidth=0.8)
    pr_ax.set_xlabel("recall")
    pr_ax.set_ylabel("precision")
    pr_ax.set_title(f"precision-recall ({split})")
    for ax in (roc_ax, pr_ax):
        ax.legend(fontsize="small", loc="lower right" if ax is roc_ax else "lower left")
        ax.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def regression_scatter(
    labels: np.ndarray, predictions: np.ndarray, *, split: str = "test"
) -> Figure:
    """Predicted against true values, with the diagonal a perfect model lies on."""
    labels = np.asarray(labels, np.float64).reshape(-1)
    predictions = np.asarray(predictions, np.float64).reshape(-1)
    figure = Figure(figsize=(3.6, 3.6))
    ax = figure.subplots()
    ax.scatter(labels, predictions, s=10, alpha=0.6)
    if len(labels):
        low = float(min(labels.min(), predictions.min()))
        high = float(max(labels.max(), predictions.max()))
        ax.plot([low, high], [low, high], linestyle="--", color="grey", linewidth=0.8)
        rmse = float(np.sqrt(np.mean((labels - predictions) ** 2)))
        ax.set_title(f"predicted vs true ({split}, RMSE {rmse:.3g})", fontsize="medium")
    ax.set_xlabel("true")
    ax.set_ylabel("predicted")
    ax.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def embedding_projection(
    embeddings: np.ndarray, classes: np.ndarray | None = None, *, what: str = "node", seed: int = 0
) -> Figure:
    """The learned embeddings projected to 2-D with PCA, coloured by class.

    PCA rather than t-SNE: it is deterministic and takes milliseconds where t-SNE takes
    seconds on Cora, and a run folder's pictures must stay quick. At most `MAX_POINTS`
    rows (a seeded sample) are drawn.

    Args:
      embeddings: ``[rows, dims]``.
      classes: Integer class per row, or None (one colour).
      what: What a row is, for the title (``node``, ``graph``).
      seed: Seed of the sample.
    """
    from sklearn.decomposition import PCA
    from threadpoolctl import threadpool_limits  # scikit-learn's own dependency

    embeddings = np.asarray(embeddings, np.float64)
    embeddings = embeddings.reshape(len(embeddings), -1)
    rows = np.arange(len(embeddings))
    if len(rows) > MAX_POINTS:
        rows = np.sort(np.random.default_rng(seed).choice(rows, MAX_POINTS, replace=False))
    points = embeddings[rows]
    if points.shape[1] >= 2 and len(points) >= 2:
        # One BLAS thread: a 3000 x 512 PCA takes ~0.15 s on one, while several threads
        # competing with training (or other processes) for the cores took seconds.
        with threadpool_limits(limits=1):
            projected = PCA(n_components=2, random_state=seed).fit_transform(points)
    else:
        projected = np.zeros((len(points), 2))
        projected[:, : points.shape[1]] = points[:, :2]
    figure = Figure(figsize=(4.2, 3.8))
    ax = figure.subplots()
    if classes is not None and np.issubdtype(np.asarray(classes).dtype, np.integer):
        colours = np.asarray(classes)[rows]
        scatter = ax.scatter(*projected.T, c=colours, cmap="tab10", s=6, alpha=0.8)
        if len(np.unique(colours)) <= 12:
            ax.legend(*scatter.legend_elements(), title="class", fontsize="x-small",
                      title_fontsize="x-small", loc="best", markerscale=0.8)  # fmt: skip
    elif classes is not None:  # Regression targets: a colour scale.
        values = np.asarray(classes, np.float64).reshape(len(embeddings), -1)[rows, 0]
        scatter = ax.scatter(*projected.T, c=values, cmap="viridis", s=6, alpha=0.8)
        figure.colorbar(scatter, ax=ax, label="target")
    else:
        ax.scatter(*projected.T, s=6, alpha=0.8)
    ax.set_title(f"{what} embeddings (PCA, {len(rows)} {what}s)", fontsize="medium")
    ax.set_xticks([])
    ax.set_yticks([])
    figure.tight_layout()
    return figure
