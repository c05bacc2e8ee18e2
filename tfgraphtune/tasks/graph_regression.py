"""Graph regression: a real-valued target per graph (ESOL solubility, FreeSolv, your tables)."""

from __future__ import annotations

import tensorflow as tf

from tfgraphtune.tasks.base import regression_outputs
from tfgraphtune.tasks.graph_task import GraphTask
from tfgraphtune.training.evaluation import regression_metrics


class GraphRegression(GraphTask):
    """Mean squared error on graph targets; RMSE and MAE.

    The head predicts ``mean + std * z`` with the training graphs' target mean and
    standard deviation (the layers fit standardized targets; outputs are in the data's
    units). Folds are drawn at random (there are no classes to stratify by).
    """

    name = "graph_regression"
    regression = True
    metric_names = ("rmse", "mae")
    default_objective = ("val_rmse", "min")
    serving_outputs_doc = (
        "`predictions` [B,1], `embeddings` [B,D] (the pooled readout), `num_nodes` [B]; one "
        "row per request graph."
    )

    def loss(self, config):
        return tf.keras.losses.MeanSquaredError()

    def keras_metrics(self, config):
        return [
            tf.keras.metrics.RootMeanSquaredError(name="rmse"),
            tf.keras.metrics.MeanAbsoluteError(name="mae"),
        ]

    def score(self, labels, outputs):
        return regression_metrics(labels, outputs)

    def outputs_from(self, values, embeddings):
        return regression_outputs(values, embeddings)
