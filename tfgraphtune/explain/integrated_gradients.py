"""Integrated gradients over node features and edge weights (Sundararajan et al., 2017).

Hand-written because no TensorFlow library here computes it over a GraphTensor's features
and a per-edge message weight at once (tf-explain and alibi take a plain tensor input).

The path runs from the baseline (all features 0, every edge weight 0: no messages) to the
input (the features, every edge weight 1) in one straight line through both, so the
feature and edge attributions together satisfy completeness: they sum to
``f(input) - f(baseline)`` up to the error of the Riemann trapezoid rule over `steps`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from tfgraphtune.explain.scoring import Scorer


@dataclasses.dataclass
class Attributions:
    """What `integrated_gradients` returns.

    Attributes:
      features: ``[N, F]`` attribution of every node's every feature.
      edges: ``[E]`` attribution of every edge's weight.
      score: ``f(input)``.
      baseline_score: ``f(baseline)``.
    """

    features: np.ndarray
    edges: np.ndarray
    score: float
    baseline_score: float

    @property
    def completeness_error(self) -> float:
        """``|sum(attributions) - (f(input) - f(baseline))|``."""
        total = float(self.features.sum(dtype=np.float64) + self.edges.sum(dtype=np.float64))
        return abs(total - (self.score - self.baseline_score))


def integrated_gradients(scorer: Scorer, *, steps: int = 128) -> Attributions:
    """Integrated gradients of ``scorer`` along the straight path from the baseline.

    Args:
      scorer: The explained output as a function of features and edge weights.
      steps: Intervals of the trapezoid rule (``steps + 1`` gradient evaluations).

    Returns:
      `Attributions` (feature and edge attributions, the two end scores).
    """
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"Received an invalid value for steps, expected an integer >= 1. "
                         f"Received: steps={steps!r}")  # fmt: skip
    features = scorer.features
    ones = tf.ones([scorer.num_edges], tf.float32)

    @tf.function(reduce_retracing=True)
    def gradients(alpha):
        scaled_features, weights = alpha * features, alpha * ones
        with tf.GradientTape() as tape:
            tape.watch([scaled_features, weights])
            value = scorer(scaled_features, weights)
        feature_grad, edge_grad = tape.gradient(
            value,
            [scaled_features, weights],
            unconnected_gradients=tf.UnconnectedGradients.ZERO,
        )
        return value, feature_grad, edge_grad

    feature_sum = tf.zeros_like(features)
    edge_sum = tf.zeros_like(ones)
    end_values = {}
    for step in range(steps + 1):
        alpha = tf.constant(step / steps, tf.float32)
        value, feature_grad, edge_grad = gradients(alpha)
        # Trapezoid rule: the two end points count half.
        weight = 0.5 if step in (0, steps) else 1.0
        feature_sum += weight * feature_grad
        edge_sum += weight * edge_grad
        if step in (0, steps):
            end_values[step] = float(value)
    return Attributions(
        features=(features * feature_sum / steps).numpy(),
        edges=(ones * edge_sum / steps).numpy(),
        score=end_values[steps],
        baseline_score=end_values[0],
    )
