"""Node regression: a real-valued target per node of one graph."""

from __future__ import annotations

import tensorflow as tf

from tfgraphtune.tasks.base import regression_outputs
from tfgraphtune.tasks.node_task import NodeTask
from tfgraphtune.training.evaluation import regression_metrics


class NodeRegression(NodeTask):
    """Mean squared error on the training nodes' targets.

    The head predicts ``mean + std * z`` with the training targets' mean and standard
    deviation, so the layers fit standardized targets while the model (and its export)
    answers in the data's units. Metrics: RMSE and MAE.
    """

    name = "node_regression"
    regression = True
    metric_names = ("rmse", "mae")
    default_objective = ("val_rmse", "min")
    serving_outputs_doc = (
        "`predictions` [B,N,1] (0 on padding), `embeddings` [B,N,H], `num_nodes` [B]."
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
