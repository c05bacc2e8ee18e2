"""Inputs under a ``tf.distribute`` strategy: per-replica data sets from one function.

A task describes its training data as a function of a `tf.distribute.InputContext` (TF-GNN
runner's ``DatasetProvider.get_dataset(context)`` contract): it is called once per input
pipeline (worker), and the data set it returns hands its elements to that worker's
replicas in turn. `to_keras_input` turns the function into what ``model.fit`` takes under
the current strategy: the plain data set with one replica, a distributed data set with
several, a ``DatasetCreator`` under a parameter-server strategy.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

DatasetFn = Callable[[tf.distribute.InputContext], tf.data.Dataset]


def local_replicas(context: tf.distribute.InputContext) -> list[int]:
    """The global indices of the replicas this input pipeline feeds, in order."""
    per_pipeline = max(context.num_replicas_in_sync // context.num_input_pipelines, 1)
    first = context.input_pipeline_id * per_pipeline
    return list(range(first, first + per_pipeline))


def replica_shard(ids: np.ndarray, replica: int, num_replicas: int) -> np.ndarray:
    """Every `num_replicas`-th id from `replica` on (shards differ in size by at most one)."""
    return np.asarray(ids)[replica::num_replicas]


def one_element_per_replica(elements: list, *, repeat: bool = False) -> tf.data.Dataset:
    """A data set yielding one given element per local replica, in replica order."""
    dataset = tf.data.Dataset.from_tensors(elements[0])
    for element in elements[1:]:
        dataset = dataset.concatenate(tf.data.Dataset.from_tensors(element))
    return dataset.repeat() if repeat else dataset


def to_keras_input(dataset_fn: DatasetFn, strategy: tf.distribute.Strategy | None = None):
    """What ``model.fit`` / ``evaluate`` take for `dataset_fn` under `strategy`."""
    strategy = strategy or tf.distribute.get_strategy()
    if isinstance(strategy, tf.distribute.experimental.ParameterServerStrategy):
        return tf.keras.utils.experimental.DatasetCreator(dataset_fn)
    if not tf.distribute.has_strategy() and strategy is tf.distribute.get_strategy():
        # No strategy: the one pipeline's data set, as is (no distribution overhead).
        return dataset_fn(tf.distribute.InputContext())
    return strategy.distribute_datasets_from_function(dataset_fn)
