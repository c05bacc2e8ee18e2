"""Batches of many small graphs (merged into components) for graph-level pre-training."""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf
import tensorflow_gnn as tfgnn


def batched_graphs(
    graphs: Sequence[tfgnn.GraphTensor], batch_size: int, *, shuffle: bool = True, seed: int = 0
) -> tf.data.Dataset:
    """A repeating data set of `batch_size` graphs merged into one GraphTensor each."""
    if not graphs:
        raise ValueError("received no graphs to batch.")
    spec = graphs[0].spec.relax(num_components=True, num_nodes=True, num_edges=True)
    data = tf.data.Dataset.from_generator(lambda: iter(graphs), output_signature=spec)
    data = data.cache()
    if shuffle:
        data = data.shuffle(len(graphs), seed=seed, reshuffle_each_iteration=True)
    return data.batch(batch_size).map(lambda g: g.merge_batch_to_components()).repeat()
