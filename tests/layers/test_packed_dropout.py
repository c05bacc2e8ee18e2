"""PackedDropout: Keras dropout's distribution from packed random bits."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import assert_config_round_trip
from tfgraphtune.layers.dropout import PackedDropout, packed_bits_dropout

SEED = tf.constant([3, 7], tf.int64)


@pytest.mark.parametrize("rate", [0.5, 0.25, 0.1, 0.9])
def test_drop_fraction_and_scale(rate):
    # 200k entries: the dropped fraction's standard error is <= 0.0012 (4 sigma < 0.005).
    x = tf.ones([1000, 200])
    out = packed_bits_dropout(x, rate, SEED).numpy()
    dropped = out == 0
    assert abs(dropped.mean() - rate) < 0.005
    # Kept entries are scaled by 1 / keep; 0.1 and 0.9 are 16-bit quantized (2^-16).
    levels = 256 if rate in (0.5, 0.25) else 65536
    keep = 1.0 - round(rate * levels) / levels
    np.testing.assert_allclose(out[~dropped], 1.0 / keep, rtol=1e-6)
    # Expectation is the input: mean over entries within 4 standard errors.
    std = np.sqrt(rate / (1 - rate))
    assert abs(out.mean() - 1.0) < 4 * std / np.sqrt(out.size)


def test_mask_has_no_pattern_across_rows_and_columns():
    # Independent entries: per-column and per-row drop fractions look binomial, and the
    # masks of two columns are uncorrelated.
    out = packed_bits_dropout(tf.ones([4000, 64]), 0.5, SEED).numpy() == 0
    columns = out.mean(axis=0)
    assert np.all(np.abs(columns - 0.5) < 5 * 0.5 / np.sqrt(4000))
    correlation = np.corrcoef(out[:, 0], out[:, 1])[0, 1]
    assert abs(correlation) < 5 / np.sqrt(4000)


def test_odd_sizes_and_other_seeds():
    x = tf.ones([7, 3])  # 21 entries: not a multiple of the 4 bytes of one random word.
    a = packed_bits_dropout(x, 0.5, SEED).numpy()
    b = packed_bits_dropout(x, 0.5, tf.constant([4, 7], tf.int64)).numpy()
    assert a.shape == (7, 3)
    assert set(np.unique(a)) <= {0.0, 2.0}
    assert not np.array_equal(a, b)


def test_layer_training_inference_and_new_mask_per_call():
    layer = PackedDropout(0.5)
    x = tf.ones([100, 50])
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x.numpy())
    first, second = layer(x, training=True).numpy(), layer(x, training=True).numpy()
    assert 0.4 < (first == 0).mean() < 0.6
    assert not np.array_equal(first, second)

    step = tf.function(lambda t: layer(t, training=True))
    assert not np.array_equal(step(x).numpy(), step(x).numpy())


def test_gradient_is_the_mask_times_scale():
    layer = PackedDropout(0.25)
    x = tf.random.normal([50, 40])
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = layer(x, training=True)
        total = tf.reduce_sum(out)
    gradient = tape.gradient(total, x).numpy()
    expected = np.where(out.numpy() != 0, 1 / 0.75, 0.0)
    np.testing.assert_allclose(gradient, expected, rtol=1e-6)


def test_same_seeds_repeat_runs():
    def run():
        tf.keras.utils.set_random_seed(5)
        return PackedDropout(0.5)(tf.ones([20, 20]), training=True).numpy()

    np.testing.assert_array_equal(run(), run())


def test_config_round_trip():
    assert_config_round_trip(PackedDropout(0.3, name="d"))
