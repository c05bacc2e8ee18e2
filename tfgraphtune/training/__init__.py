"""Optimizers, losses, callbacks, evaluation and runners for `model.fit` training."""

from tfgraphtune.training.ranking_metrics import average_precision, roc_auc

__all__ = ["average_precision", "roc_auc"]
