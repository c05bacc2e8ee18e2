"""Fixtures shared by the model tests: the config round trip."""

from __future__ import annotations

import json

import pytest
import tensorflow as tf


def _layer_types(model: tf.keras.Model) -> list[str]:
    return [type(layer).__name__ for layer in model._flatten_layers(include_self=False)]


@pytest.fixture
def assert_config_round_trip():
    """Asserts ``from_config(get_config())`` gives a JSON-equal config and the same layers.

    `build` is a callable that runs the model once, so both models have created their
    sublayers and weights before their layer types are compared.
    """

    def check(model: tf.keras.Model, build) -> tf.keras.Model:
        build(model)
        config = model.get_config()
        restored = type(model).from_config(json.loads(json.dumps(config)))
        build(restored)
        assert json.dumps(restored.get_config(), sort_keys=True) == json.dumps(
            config, sort_keys=True
        )
        assert _layer_types(restored) == _layer_types(model)
        assert [w.shape for w in restored.weights] == [w.shape for w in model.weights]
        return restored

    return check
