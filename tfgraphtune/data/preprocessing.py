"""Preprocessing fitted on training data once, then applied in training, evaluation and serving.

A `Preprocessing` is what a run folder stores so that every later use of the model sees
its inputs exactly as training did:

* the node feature normalization (``row_sum`` needs no statistics; ``standardize`` keeps
  the per-column mean and standard deviation of the *training* rows only, so no statistic
  of validation or test data leaks into the model);
* the edge cleaning steps the training tables went through that a request must go
  through too (``drop_self_loops``, ``drop_duplicate_edges``, ``make_undirected``), applied
  in-graph by the serving export to each request's edges.

Every method works on numpy arrays and on tensors inside a `tf.function` (the export).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.data.errors import ValidationError

FEATURE_NORMALIZATIONS = ("row_sum", "standardize")
# Cleaning steps a request's edges go through in the serving export, in this order.
SERVED_EDGE_CLEANING = ("drop_self_loops", "drop_duplicate_edges", "make_undirected")


@dataclasses.dataclass(frozen=True)
class Preprocessing:
    """Feature normalization statistics and request edge cleaning of one trained model.

    Attributes:
      feature_normalization: None, ``"row_sum"`` or ``"standardize"``.
      mean: Per-column mean of the training rows (``standardize`` only).
      std: Per-column standard deviation (population, ``ddof=0``) of the training rows;
        constant columns are only centred.
      edge_cleaning: Names from `SERVED_EDGE_CLEANING` the training edges went through.
      fitted_on: What the statistics were computed from, in words (for reports).
    """

    feature_normalization: str | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    edge_cleaning: tuple[str, ...] = ()
    fitted_on: str = ""

    def __post_init__(self):
        if self.feature_normalization not in (None, *FEATURE_NORMALIZATIONS):
            raise ValidationError(
                f"unknown feature normalization {self.feature_normalization!r}; expected "
                f"one of {list(FEATURE_NORMALIZATIONS)} or null."
            )
        if self.feature_normalization == "standardize" and (self.mean is None or self.std is None):
            raise ValidationError("'standardize' needs the training mean and std; use fit().")
        unknown = [step for step in self.edge_cleaning if step not in SERVED_EDGE_CLEANING]
        if unknown:
            raise ValidationError(
                f"edge cleaning steps {unknown} cannot be applied to requests; expected names "
                f"from {list(SERVED_EDGE_CLEANING)}."
            )

    @classmethod
    def fit(
        cls,
        method: str | None,
        training_features: np.ndarray | None = None,
        *,
        edge_cleaning: Sequence[str] = (),
        fitted_on: str = "",
    ) -> Preprocessing:
        """Computes the statistics `method` needs from the training rows.

        Args:
          method: None, ``"row_sum"`` or ``"standardize"``.
          training_features: ``[rows, F]`` raw features of the training rows only
            (needed for ``standardize``).
          edge_cleaning: Cleaning steps of the training edges (only the served ones are
            kept).
          fitted_on: A description of the rows, e.g. ``"140 training nodes"``.

        Raises:
          ValidationError: Unknown method, or ``standardize`` without training rows.
        """
        served = tuple(step for step in edge_cleaning if step in SERVED_EDGE_CLEANING)
        if method != "standardize":
            return cls(method, edge_cleaning=served, fitted_on=fitted_on)
        if training_features is None or len(training_features) == 0:
            raise ValidationError(
                "feature normalization 'standardize' needs at least one training row to "
                "compute its mean and standard deviation from."
            )
        values = np.asarray(training_features, dtype=np.float64)
        return cls(
            method,
            mean=tuple(float(v) for v in values.mean(axis=0)),
            std=tuple(float(v) for v in values.std(axis=0)),
            edge_cleaning=served,
            fitted_on=fitted_on,
        )

    def normalize(self, values):
        """Normalizes ``[rows, F]`` features (numpy in, numpy out; tensor in, tensor out)."""
        if isinstance(values, np.ndarray):
            return self._normalize_numpy(values)
        values = tf.cast(values, tf.float32)
        if self.feature_normalization == "row_sum":
            return tf.math.divide_no_nan(values, tf.reduce_sum(values, axis=-1, keepdims=True))
        if self.feature_normalization == "standardize":
            mean = tf.constant(self.mean, tf.float32)
            std = np.asarray(self.std, np.float32)
            return (values - mean) / tf.constant(np.where(std > 0, std, 1.0), tf.float32)
        return values

    def _normalize_numpy(self, values: np.ndarray) -> np.ndarray:
        values = values.astype(np.float32)
        if self.feature_normalization == "row_sum":
            sums = values.sum(axis=-1, keepdims=True)
            return np.divide(values, sums, out=np.zeros_like(values), where=sums != 0)
        if self.feature_normalization == "standardize":
            std = np.asarray(self.std, np.float32)
            return (values - np.asarray(self.mean, np.float32)) / np.where(std > 0, std, 1.0)
        return values

    def apply(self, graph: tfgnn.GraphTensor, node_set: str, feature: str) -> tfgnn.GraphTensor:
        """A new graph whose `feature` of `node_set` is normalized (float32).

        Raises:
          ValidationError: The graph lacks the node set or feature.
        """
        if node_set not in graph.node_sets or feature not in graph.node_sets[node_set].features:
            raise ValidationError(
                f"node set {node_set!r} has no feature {feature!r} to normalize.",
                set_name=node_set,
                feature=feature,
            )
        features = dict(graph.node_sets[node_set].features)
        features[feature] = self.normalize(features[feature])
        return graph.replace_features(node_sets={node_set: features})

    def clean_request_edges(
        self, source: tf.Tensor, target: tf.Tensor, num_nodes: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """Applies the training's edge cleaning to merged request edges, in-graph.

        Args:
          source, target: ``[E]`` int64 node indices into the merged request nodes (each
            request graph's nodes follow the previous one's, so an edge's graph is the one
            its source falls in).
          num_nodes: Total number of merged nodes, a scalar.

        Returns:
          ``(source, target)``: the cleaned edges, sorted by ``(source, target)`` (so each
          graph's edges stay contiguous and in graph order) when any step ran.
        """
        if not self.edge_cleaning:
            return source, target
        source = tf.cast(source, tf.int64)
        target = tf.cast(target, tf.int64)
        if "drop_self_loops" in self.edge_cleaning:
            keep = tf.not_equal(source, target)
            source, target = tf.boolean_mask(source, keep), tf.boolean_mask(target, keep)
        if "make_undirected" in self.edge_cleaning:
            source, target = tf.concat([source, target], 0), tf.concat([target, source], 0)
        total = tf.maximum(tf.cast(num_nodes, tf.int64), 1)
        keys = source * total + target
        if "drop_duplicate_edges" in self.edge_cleaning or "make_undirected" in self.edge_cleaning:
            keys, _ = tf.unique(keys)
        keys = tf.sort(keys)
        return keys // total, keys % total

    def to_json(self) -> dict[str, Any]:
        return {
            "feature_normalization": self.feature_normalization,
            "mean": None if self.mean is None else list(self.mean),
            "std": None if self.std is None else list(self.std),
            "edge_cleaning": list(self.edge_cleaning),
            "fitted_on": self.fitted_on,
        }

    @classmethod
    def from_json(cls, values: Mapping[str, Any]) -> Preprocessing:
        """The inverse of `to_json`.

        Raises:
          ValidationError: Missing or malformed entries.
        """
        try:
            mean, std = values.get("mean"), values.get("std")
            return cls(
                feature_normalization=values.get("feature_normalization"),
                mean=None if mean is None else tuple(float(v) for v in mean),
                std=None if std is None else tuple(float(v) for v in std),
                edge_cleaning=tuple(values.get("edge_cleaning") or ()),
                fitted_on=str(values.get("fitted_on", "")),
            )
        except (TypeError, ValueError, AttributeError) as err:
            raise ValidationError(f"malformed preprocessing record: {err}") from None

    def describe(self) -> str:
        """One line for reports, e.g. ``standardize (fitted on 140 training nodes)``."""
        text = self.feature_normalization or "no feature normalization"
        if self.fitted_on:
            text += f" (fitted on {self.fitted_on})"
        if self.edge_cleaning:
            text += f"; request edges: {', '.join(self.edge_cleaning)}"
        return text
