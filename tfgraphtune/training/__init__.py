"""Training utilities: exact ranking metrics for evaluation."""

from tfgraphtune.training.ranking_metrics import average_precision, roc_auc

__all__ = ["average_precision", "roc_auc"]
