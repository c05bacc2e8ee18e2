"""What classification tasks share, and what regression tasks share, whatever the rows.

Mixed into the row-specific bases (`NodeTask`, `GraphTask`): a node classifier and a graph
classifier differ in their data and head, not in their loss, metrics or served outputs.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfgraphtune.data.errors import ValidationError
from tfgraphtune.training.evaluation import classification_metrics, regression_metrics
from tfgraphtune.training.losses import SparseCategoricalCrossentropyWithSmoothing
from tfgraphtune.training.ranking_metrics import roc_auc


class Classification:
    """Cross-entropy (with optional label smoothing) on integer class ids.

    Metrics: accuracy during training; accuracy, macro-F1 (and ROC-AUC for two classes) at
    evaluation. Served: ``logits``, ``probabilities``, ``class_ids`` and ``embeddings``.
    """

    regression = False
    metric_names = ("accuracy",)
    default_objective = ("val_accuracy", "max")

    def check_labels(self, labels: np.ndarray, where: str) -> None:
        """Raises `ValidationError` unless the labels are integer class ids."""
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValidationError(
                f"the labels of {where} are {labels.dtype} values; {self.name} needs integer "
                f"class ids (use task: {self.name.replace('classification', 'regression')} "
                "for real-valued targets)."
            )

    def loss(self, config):
        return SparseCategoricalCrossentropyWithSmoothing(config["train"]["label_smoothing"])

    def keras_metrics(self, config):
        return [tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy")]

    def score(self, labels: np.ndarray, outputs: np.ndarray) -> dict[str, float]:
        metrics = classification_metrics(labels, outputs)
        if outputs.shape[-1] == 2 and len(np.unique(labels)) == 2:
            metrics["roc_auc"] = roc_auc(labels, outputs[:, 1] - outputs[:, 0])
        return metrics

    def figures(self, model, data) -> dict:
        from tfgraphtune.reporting import plots

        figures = super().figures(model, data)
        labels, outputs, split = self.test_predictions(model, data)
        if len(labels):  # A source may hold no test nor validation rows.
            figures["confusion_matrix"] = plots.confusion_matrix(labels, outputs, split=split)
        return figures

    def outputs_from(self, logits: tf.Tensor, embeddings: tf.Tensor) -> dict[str, tf.Tensor]:
        return {
            "logits": logits,
            "probabilities": tf.nn.softmax(logits, axis=-1),
            "class_ids": tf.argmax(logits, axis=-1, output_type=tf.int64),
            "embeddings": embeddings,
        }


class Regression:
    """Mean squared error on real-valued targets; RMSE and MAE.

    The head predicts ``mean + std * z`` with the training targets' mean and standard
    deviation, so the layers fit standardized targets while the model (and its export)
    answers in the data's units. Served: ``predictions`` and ``embeddings``.
    """

    regression = True
    metric_names = ("rmse", "mae")
    default_objective = ("val_rmse", "min")

    def check_labels(self, labels: np.ndarray, where: str) -> None:
        """Raises `ValidationError` unless the labels are numbers."""
        if not np.issubdtype(labels.dtype, np.number):
            raise ValidationError(f"the targets of {where} are {labels.dtype} values, not numbers.")

    def loss(self, config):
        return tf.keras.losses.MeanSquaredError()

    def keras_metrics(self, config):
        return [
            tf.keras.metrics.RootMeanSquaredError(name="rmse"),
            tf.keras.metrics.MeanAbsoluteError(name="mae"),
        ]

    def score(self, labels: np.ndarray, outputs: np.ndarray) -> dict[str, float]:
        return regression_metrics(labels, outputs)

    def figures(self, model, data) -> dict:
        from tfgraphtune.reporting import plots

        figures = super().figures(model, data)
        labels, outputs, split = self.test_predictions(model, data)
        if len(labels):
            figures["predicted_vs_true"] = plots.regression_scatter(labels, outputs, split=split)
        return figures

    def outputs_from(self, values: tf.Tensor, embeddings: tf.Tensor) -> dict[str, tf.Tensor]:
        return {"predictions": values, "embeddings": embeddings}
