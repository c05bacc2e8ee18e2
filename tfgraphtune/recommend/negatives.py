"""Negative items for BPR: uniform over the items a user has NOT interacted with.

Candidates are drawn uniformly from all items; a candidate that is a training pair of
its user is redrawn (rejection sampling) until none is left. Membership is a binary
search of the key ``user * num_items + item`` in the sorted keys of the training pairs,
for the whole batch at once. All draws are stateless: the same seed gives the same
negatives, on any device.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfgraphtune.data.errors import ValidationError

_MAX_ROUNDS = 100


def training_keys(users, items, num_items: int) -> np.ndarray:
    """Sorted distinct int64 keys ``user * num_items + item`` of the training pairs."""
    return np.unique(np.asarray(users, np.int64) * num_items + np.asarray(items, np.int64))


def sample_negatives(users, *, keys, num_items: int, seed) -> tf.Tensor:
    """One negative item per user index, never one of that user's training items.

    Args:
      users: int [n] user indices; each must have at least one item it has not seen.
      keys: Sorted int64 keys from `training_keys`.
      num_items: Catalogue size.
      seed: A stateless seed, int [2].

    Returns:
      int32 [n] item indices.
    """
    users = tf.cast(tf.reshape(users, [-1]), tf.int64)
    keys = tf.convert_to_tensor(keys, tf.int64)
    seed = tf.cast(seed, tf.int64)
    size = tf.shape(users)[0]
    last = tf.maximum(tf.size(keys, out_type=tf.int64) - 1, 0)

    def seen(items):
        key = users * num_items + items
        found = tf.gather(keys, tf.minimum(tf.searchsorted(keys, key, out_type=tf.int64), last))
        return tf.logical_and(tf.size(keys) > 0, tf.equal(found, key))

    def body(round_, items, pending):
        draw = tf.random.stateless_uniform(
            [size],
            seed=tf.random.experimental.stateless_fold_in(seed, round_),
            minval=0,
            maxval=num_items,
            dtype=tf.int64,
        )
        items = tf.where(pending, draw, items)
        return round_ + 1, items, seen(items)

    _, items, _ = tf.while_loop(
        lambda round_, items, pending: tf.logical_and(round_ < _MAX_ROUNDS, tf.reduce_any(pending)),
        body,
        (tf.constant(0, tf.int64), tf.zeros([size], tf.int64), tf.ones([size], tf.bool)),
    )
    return tf.cast(items, tf.int32)


def triples_dataset(split, *, batch_size: int, seed: int, epochs: int) -> tf.data.Dataset:
    """Batches of (user, positive, negative) triples, reshuffled and resampled per epoch.

    Every training pair is one triple per epoch; epoch e's order and negatives depend
    only on (seed, e). Users who have seen every item have no negative and are skipped.

    Returns:
      A dataset of ``(users, positives, negatives)`` int32 batches, ``epochs`` epochs of
      ``ceil(pairs / batch_size)`` batches each.
    """
    users, items = split.train_pairs
    counts = np.bincount(users, minlength=split.num_users)
    usable = counts[users] < split.num_items
    users, items = users[usable], items[usable]
    if not len(users):
        raise ValidationError(
            "No training pair can get a negative item: the split has no training events, "
            "or every user has seen every item."
        )
    keys = training_keys(users, items, split.num_items)
    users_t = tf.constant(users, tf.int32)
    items_t = tf.constant(items, tf.int32)
    num_items = split.num_items

    def one_epoch(epoch):
        epoch_seed = tf.stack([tf.constant(seed, tf.int64), epoch])
        keys_order = tf.random.stateless_uniform([len(users)], seed=epoch_seed)
        order = tf.argsort(keys_order)
        epoch_users = tf.gather(users_t, order)
        negatives = sample_negatives(
            epoch_users,
            keys=keys,
            num_items=num_items,
            seed=tf.random.experimental.stateless_fold_in(epoch_seed, 1),
        )
        triples = (epoch_users, tf.gather(items_t, order), negatives)
        return tf.data.Dataset.from_tensor_slices(triples).batch(batch_size)

    return tf.data.Dataset.range(epochs).flat_map(one_epoch).prefetch(2)
