"""A GNNExplainer-style learned soft mask (Ying et al., "GNNExplainer", NeurIPS 2019).

Hand-written because TF-GNN has no explainer. As in the paper (and PyG's
``GNNExplainer``): a sigmoid edge mask ``sigma(M)`` scales every message along its edge
and a sigmoid feature mask ``sigma(F)`` (one value per feature, shared by every node)
scales the inputs; both are learned with Adam to keep the model's prediction (the
log-probability of the explained class, or the squared change of a regression output)
while a size term keeps the masks small and an entropy term pushes each entry towards 0
or 1. Only the edges that can reach the explained row (its computation subgraph) enter the
size and entropy terms, as PyG's hard mask does.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from tfgraphtune.explain.scoring import Scorer

# PyG's GNNExplainer coefficients, except the edge terms: with PyG's edge_size 0.005 and
# edge_entropy 1.0 every edge mask saturated at 0.95-1.0 here (the entropy term pushes
# masks that start at sigmoid(1) = 0.73 towards 1 faster than the prediction term can
# separate them), so on the planted-neighbour graph the informative edge ranked first for
# 0 of 8 nodes; with 0.1 / 0.1 it ranks first for 8 of 8 (masks ~0.93 against ~0.22).
DEFAULTS = {
    "edge_size": 0.1,
    "edge_entropy": 0.1,
    "feature_size": 1.0,
    "feature_entropy": 0.1,
}
_EPS = 1e-15


@dataclasses.dataclass
class Masks:
    """What `gnn_explainer` returns.

    Attributes:
      features: ``[F]`` learned feature mask in (0, 1).
      edges: ``[E]`` learned edge mask in (0, 1); edges outside the computation subgraph
        keep 0.
      loss: The final objective.
    """

    features: np.ndarray
    edges: np.ndarray
    loss: float


def _entropy(mask: tf.Tensor) -> tf.Tensor:
    return -mask * tf.math.log(mask + _EPS) - (1 - mask) * tf.math.log(1 - mask + _EPS)


def gnn_explainer(
    scorer: Scorer,
    *,
    edges_in_scope: np.ndarray,
    epochs: int = 200,
    learning_rate: float = 0.01,
    regression: bool = False,
    seed: int = 0,
    coefficients: dict[str, float] | None = None,
) -> Masks:
    """Learns the soft edge and feature masks for one prediction.

    Args:
      scorer: The explained output (its row and class).
      edges_in_scope: ``[E]`` bool, the edges that can reach the explained row.
      epochs: Adam steps.
      learning_rate: Adam's learning rate.
      regression: Whether the output is a regression value (kept by a squared error
        against the unmasked prediction instead of the class log-probability).
      seed: Seed of the masks' random initialization.
      coefficients: Overrides of `DEFAULTS`.

    Returns:
      `Masks`.
    """
    coef = {**DEFAULTS, **(coefficients or {})}
    features = scorer.features
    num_edges, num_features = scorer.num_edges, int(features.shape[-1])
    num_nodes = int(features.shape[0])
    rng = np.random.default_rng(seed)
    # PyG's initialization: edge logits around 1 with a ReLU-gain spread, features near 0.
    std = np.sqrt(2.0) * np.sqrt(2.0 / (2 * max(num_nodes, 1)))
    edge_logits = tf.Variable(rng.normal(1.0, std, num_edges).astype(np.float32))
    feature_logits = tf.Variable((0.1 * rng.normal(size=num_features)).astype(np.float32))
    scope = tf.constant(np.asarray(edges_in_scope, bool))
    scope_float = tf.cast(scope, tf.float32)
    in_scope = tf.maximum(tf.reduce_sum(scope_float), 1.0)
    target = tf.constant(scorer.output)
    original = tf.stop_gradient(scorer(features, tf.ones([num_edges])))
    optimizer = tf.keras.optimizers.Adam(learning_rate)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            edge_mask = tf.sigmoid(edge_logits) * scope_float
            feature_mask = tf.sigmoid(feature_logits)
            outputs = scorer.outputs(features * feature_mask[None, :], edge_mask)
            if regression:
                fit = tf.square(outputs[target] - original)
            else:
                fit = -tf.nn.log_softmax(outputs)[target]
            edge_size = coef["edge_size"] * tf.reduce_sum(edge_mask)
            edge_entropy = coef["edge_entropy"] * (
                tf.reduce_sum(_entropy(edge_mask) * scope_float) / in_scope
            )
            feature_size = coef["feature_size"] * tf.reduce_mean(feature_mask)
            feature_entropy = coef["feature_entropy"] * tf.reduce_mean(_entropy(feature_mask))
            loss = fit + edge_size + edge_entropy + feature_size + feature_entropy
        variables = [edge_logits, feature_logits]
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    loss = tf.constant(0.0)
    for _ in range(int(epochs)):
        loss = step()
    edges = (tf.sigmoid(edge_logits) * scope_float).numpy()
    return Masks(features=tf.sigmoid(feature_logits).numpy(), edges=edges, loss=float(loss))
