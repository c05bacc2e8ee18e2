"""Per-layer learning rates scale one update by exactly the configured factors."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tests.finetune.test_strategies import GRAPH, LABELS
from tfgraphtune.finetune.multi_optimizer import DiscriminativeOptimizer, layerwise_multipliers
from tfgraphtune.models.backbone import Backbone
from tfgraphtune.models.tasks.node_classification import NodeModel

LOSS = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def make_model():
    backbone = Backbone(
        node_set="n", feature="x", hidden_units=[4, 3], activation="tanh", dropout=0.0
    )
    model = NodeModel(backbone, 2, head="linear")
    model(GRAPH)
    return model


def gradients(model):
    with tf.GradientTape() as tape:
        loss = LOSS(LABELS, model(GRAPH, training=True))
    return tape.gradient(loss, model.trainable_variables)


def factor_of(variable):
    # layerwise_multipliers(decay=0.5) on 2 levels: level 0 -> 0.25, level 1 -> 0.5, head 1.
    return 0.25 if "gcn_0" in variable.name else 0.5 if "gcn_1" in variable.name else 1.0


def test_one_sgd_step_is_lr_times_factor_times_gradient():
    model = make_model()
    optimizer = DiscriminativeOptimizer(
        tf.keras.optimizers.SGD(0.1), layerwise_multipliers(model.backbone, 0.5)
    )
    before = [v.numpy().copy() for v in model.trainable_variables]
    grads = gradients(model)
    model.compile(optimizer=optimizer, loss=LOSS, run_eagerly=True)
    model.fit(tf.data.Dataset.from_tensors((GRAPH, LABELS)), epochs=1, verbose=0)
    for variable, old, grad in zip(model.trainable_variables, before, grads):
        expected = old - 0.1 * factor_of(variable) * grad.numpy()
        np.testing.assert_allclose(
            variable.numpy(), expected, rtol=1e-5, atol=1e-7, err_msg=variable.name
        )
    assert int(optimizer.iterations) == 1


def test_adam_first_step_moves_each_group_by_its_rate():
    # Adam's first step is lr * g / (|g| + eps) ~= lr * sign(g): the factor shows directly.
    model = make_model()
    optimizer = DiscriminativeOptimizer(
        tf.keras.optimizers.Adam(0.01, epsilon=1e-12), [("gcn_0", 0.1), ("gcn_1", 0.0)]
    )
    before = [v.numpy().copy() for v in model.trainable_variables]
    grads = gradients(model)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    for variable, old, grad in zip(model.trainable_variables, before, grads):
        factor = 0.1 if "gcn_0" in variable.name else 0.0 if "gcn_1" in variable.name else 1.0
        moved = np.abs(variable.numpy() - old)[np.abs(grad.numpy()) > 1e-6]
        np.testing.assert_allclose(moved, 0.01 * factor, rtol=1e-3, err_msg=variable.name)


def test_regex_and_layer_keys_first_match_wins():
    model = make_model()
    optimizer = DiscriminativeOptimizer(
        tf.keras.optimizers.SGD(1.0),
        [(model.backbone.conv_layers[0], 0.3), ("gcn_", 0.7)],
        default_multiplier=2.0,
    )
    factors = {
        v.name.split("/")[-2] + "/" + v.name.split("/")[-1]: optimizer.multiplier_of(v)
        for v in model.weights
    }
    assert factors["gcn_0/kernel:0"] == 0.3
    assert factors["gcn_1/kernel:0"] == 0.7
    assert factors["head_dense/kernel:0"] == 2.0


def test_invalid_multiplier_names_the_key():
    with pytest.raises(ValueError, match="expected a number >= 0. Received: 'gcn_0': -1"):
        DiscriminativeOptimizer(tf.keras.optimizers.SGD(0.1), {"gcn_0": -1})
