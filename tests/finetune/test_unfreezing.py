"""`GradualUnfreezing` across several ``fit()`` calls: which weights each call moves.

The tiny backbone has two levels and ``every=2``: the schedule trains the head alone in
epochs 0-1, adds level 1 (``gcn_1``) at epoch 2 and level 0 (``gcn_0``) at epoch 4.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tests.finetune.test_strategies import (
    GRAPH,
    HEAD,
    LABELS,
    LEVEL0,
    LEVEL1,
    _value,
    build_model,
    short_name,
)
from tfgraphtune.finetune.strategies import get_strategy
from tfgraphtune.finetune.unfreezing import GradualUnfreezing

ALL = HEAD | LEVEL0 | LEVEL1
DATA = tf.data.Dataset.from_tensors((GRAPH, LABELS)).repeat()


def compile_model(model, momentum=0.0):
    model.compile(
        optimizer=tf.keras.optimizers.SGD(0.5, momentum=momentum),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        run_eagerly=True,  # Tiny graphs: tracing would cost more than the steps.
    )


def setup(momentum=0.0):
    strategy = get_strategy("gradual", unfreeze_every=2)
    model = build_model(strategy)
    callbacks = strategy.apply(model)
    compile_model(model, momentum)
    return strategy, model, callbacks


def fit(model, callbacks, **kwargs) -> set[str]:
    """Runs ``model.fit`` one step per epoch; the short names of the weights it moved."""
    before = {short_name(v): v.numpy().copy() for v in model.weights}
    model.fit(DATA, steps_per_epoch=1, callbacks=callbacks, verbose=0, **kwargs)
    return {name for name, value in before.items() if not np.allclose(value, _value(model, name))}


def trainable(model) -> set[str]:
    return {short_name(v) for v in model.trainable_weights}


# Three fits covering epochs 0-2, 3 and 4, written with and without initial_epoch: without
# it Keras counts epochs from 0 again, and the schedule goes on by the epochs already trained.
CONTINUED = {
    "initial_epoch": [
        {"epochs": 3},
        {"initial_epoch": 3, "epochs": 4},
        {"initial_epoch": 4, "epochs": 5},
    ],
    "epochs_from_zero": [{"epochs": 3}, {"epochs": 1}, {"epochs": 1}],
}


@pytest.mark.parametrize("style", CONTINUED)
def test_gradual_later_fits_continue_the_schedule(style):
    _, model, callbacks = setup()
    first, second, third = CONTINUED[style]
    # Epochs 0-2: head, then level 1 joins at epoch 2.
    assert fit(model, callbacks, **first) == HEAD | LEVEL1
    assert callbacks[0].unfrozen_at == {2: 1}
    assert trainable(model) == HEAD | LEVEL1
    # Epoch 3: no event; level 0 stays frozen, level 1 stays trainable.
    assert fit(model, callbacks, **second) == HEAD | LEVEL1
    assert callbacks[0].unfrozen_at == {2: 1}
    assert trainable(model) == HEAD | LEVEL1
    # Epoch 4: level 0 joins, and is still trainable once fit() has returned.
    assert fit(model, callbacks, **third) == ALL
    assert callbacks[0].unfrozen_at == {2: 1, 4: 0}
    assert trainable(model) == ALL


def test_gradual_event_inside_a_second_fit_outlives_it():
    _, model, callbacks = setup()
    assert fit(model, callbacks, epochs=3) == HEAD | LEVEL1
    assert fit(model, callbacks, initial_epoch=3, epochs=5) == ALL
    assert callbacks[0].unfrozen_at == {2: 1, 4: 0}
    assert model.backbone.conv_layers[0].trainable
    assert trainable(model) == ALL


def test_gradual_recompiled_optimizer_gets_every_future_variable():
    _, model, callbacks = setup(momentum=0.9)
    assert fit(model, callbacks, epochs=3) == HEAD | LEVEL1
    compile_model(model, momentum=0.9)  # A fresh optimizer for the second stage.
    assert fit(model, callbacks, initial_epoch=3, epochs=5) == ALL
    assert callbacks[0].unfrozen_at == {2: 1, 4: 0}
    assert len(model.optimizer.variables) == 1 + len(ALL)  # Iterations + one momentum each.


def test_gradual_fresh_callback_resumes_at_initial_epoch():
    # E.g. resuming from a checkpoint: epoch 3 is past the level-1 event at epoch 2.
    strategy, model, _ = setup()
    callback = GradualUnfreezing(model.backbone, every=2)
    assert fit(model, [callback], initial_epoch=3, epochs=4) == HEAD | LEVEL1
    assert callback.unfrozen_at == {2: 1}


def test_gradual_new_callback_restarts_the_schedule():
    strategy, model, callbacks = setup()
    assert fit(model, callbacks, epochs=5) == ALL
    restarted = strategy.apply(model)
    assert fit(model, restarted, epochs=1) == HEAD
    assert restarted[0].unfrozen_at == {}
    assert callbacks[0].unfrozen_at == {2: 1, 4: 0}


def test_gradual_rejects_an_optimizer_built_without_the_backbone():
    _, model, callbacks = setup(momentum=0.9)
    model.optimizer.build(model.head.trainable_variables)
    with pytest.raises(ValueError, match="was built without some variables"):
        fit(model, callbacks, epochs=1)
