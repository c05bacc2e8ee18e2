"""Optimizers, the smoothed loss and the numpy metrics, against hand values."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tfgraphtune.training.evaluation import (
    classification_metrics,
    per_class_report,
    regression_metrics,
)
from tfgraphtune.training.losses import SparseCategoricalCrossentropyWithSmoothing
from tfgraphtune.training.optimizers import make_optimizer, make_schedule


@pytest.mark.parametrize("name", ["adam", "adamw", "sgd"])
def test_optimizers_by_name(name):
    optimizer = make_optimizer(name, 0.1, weight_decay=0.01)
    assert optimizer.__class__.__name__.lower() == name


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "lamb"}, "Received: optimizer='lamb'"),
        ({"weight_decay": -1.0}, "Received: weight_decay=-1.0"),
        ({"learning_rate": 0.0}, "Received: learning_rate=0.0"),
        ({"schedule": "linear"}, "Received: schedule='linear'"),
    ],
    ids=["name", "decay", "lr", "schedule"],
)
def test_bad_optimizer_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_optimizer(**kwargs)


def test_cosine_schedule_with_warmup():
    schedule = make_schedule(0.1, "cosine", decay_steps=10, warmup_steps=10)
    # Linear warmup: half way through, half the peak rate.
    np.testing.assert_allclose(float(schedule(5)), 0.05, rtol=1e-5)
    np.testing.assert_allclose(float(schedule(10)), 0.1, rtol=1e-5)


def test_step_schedule_halves_the_rate_every_period():
    # The GIN paper's schedule: 0.01, halved every 50 epochs (here 50 steps).
    schedule = make_schedule(0.01, "step", decay_steps=50, decay_rate=0.5)
    rates = [float(schedule(step)) for step in (0, 49, 50, 99, 100)]
    np.testing.assert_allclose(rates, [0.01, 0.01, 0.005, 0.005, 0.0025], rtol=1e-6)


def test_label_smoothing_matches_hand_value():
    # Two classes, logits [0, 0]: p = [0.5, 0.5] whatever the target.
    # Smoothed target for y=0 with s=0.2: [0.9, 0.1]; loss = -(0.9 + 0.1) * log 0.5 = log 2.
    loss = SparseCategoricalCrossentropyWithSmoothing(0.2)
    np.testing.assert_allclose(float(loss([0], [[0.0, 0.0]])), np.log(2.0), rtol=1e-6)
    # Logits [2, 0]: log p = [2 - lse, -lse], lse = log(e^2 + 1).
    lse = np.log(np.exp(2.0) + 1.0)
    expected = -(0.9 * (2.0 - lse) + 0.1 * (-lse))
    np.testing.assert_allclose(float(loss([0], [[2.0, 0.0]])), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="label_smoothing"):
        SparseCategoricalCrossentropyWithSmoothing(1.0)


def test_smoothing_zero_equals_keras_sparse_cross_entropy():
    logits = tf.constant([[1.0, 2.0, 0.5], [0.1, 0.2, 3.0]])
    labels = tf.constant([1, 0])
    ours = SparseCategoricalCrossentropyWithSmoothing(0.0)(labels, logits)
    keras = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
    np.testing.assert_allclose(float(ours), float(keras), rtol=1e-6)


def test_per_class_report_hand_values():
    # labels      0 0 1 1 2
    # predictions 0 1 1 1 0
    # class 0: tp 1, predicted 2, actual 2 -> p 0.5 r 0.5 f1 0.5
    # class 1: tp 2, predicted 3, actual 2 -> p 2/3 r 1 f1 0.8
    # class 2: tp 0, predicted 0, actual 1 -> 0, 0, 0
    report = per_class_report(np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 1, 0]))
    np.testing.assert_allclose(report.loc["0", ["precision", "recall", "f1"]], [0.5, 0.5, 0.5])
    np.testing.assert_allclose(report.loc["1", ["precision", "recall", "f1"]], [2 / 3, 1, 0.8])
    np.testing.assert_allclose(report.loc["2", ["precision", "recall", "f1"]], [0, 0, 0])
    np.testing.assert_allclose(report.loc["macro avg", "f1"], (0.5 + 0.8) / 3)
    assert report.loc["accuracy", "precision"] == pytest.approx(3 / 5)


def test_classification_metrics_from_scores():
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    metrics = classification_metrics(np.array([0, 1, 1]), scores)
    assert metrics["accuracy"] == pytest.approx(2 / 3)


def test_regression_metrics():
    # errors [1, -1, 2]: rmse sqrt(6/3), mae 4/3
    metrics = regression_metrics([0, 0, 0], [1, -1, 2])
    assert metrics == pytest.approx({"rmse": np.sqrt(2.0), "mae": 4 / 3})
