"""Each strategy trains exactly the variables it claims: by name, and by what one step moves."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import path_graph
from tfgraphtune.finetune.strategies import STRATEGIES, get_strategy, trainable_fraction
from tfgraphtune.models.backbone import Backbone
from tfgraphtune.models.tasks.node_classification import NodeModel

# Four nodes on a path 0-1-2-3, two features, two classes.
GRAPH = path_graph(
    [[1.0, 0.0], [0.0, 2.0], [3.0, 1.0], [0.5, 0.5]], [0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]
)
LABELS = tf.constant([0, 1, 0, 1], tf.int64)

HEAD = {"head/head_dense/kernel", "head/head_dense/bias"}
LEVEL0 = {"gcn_0/kernel", "gcn_0/bias"}
LEVEL1 = {"gcn_1/kernel", "gcn_1/bias"}
EXPECTED = {
    "full": HEAD | LEVEL0 | LEVEL1,
    "linear_probe": HEAD,
    "top_k": HEAD | LEVEL1,
    "gradual": HEAD,  # Before the first unfreezing event.
    "discriminative": HEAD | LEVEL0 | LEVEL1,
    "lora": HEAD | {"gcn_0/lora_a", "gcn_0/lora_b", "gcn_1/lora_a", "gcn_1/lora_b"},
    "adapter": HEAD
    | {f"adapter_{i}/{d}/{w}" for i in (0, 1) for d in ("down", "up") for w in ("kernel", "bias")},
    "l2sp": HEAD | LEVEL0 | LEVEL1,
}


def short_name(variable) -> str:
    """``.../gcn_0/kernel:0`` -> ``gcn_0/kernel`` (adapter weights keep three parts)."""
    parts = variable.name.split(":")[0].split("/")
    return "/".join(parts[-3:] if parts[-3].startswith(("adapter", "head")) else parts[-2:])


def build_model(strategy):
    backbone = Backbone(
        node_set="n",
        feature="x",
        hidden_units=[4, 3],
        activation="tanh",
        dropout=0.0,
        **strategy.backbone_overrides(),
    )
    model = NodeModel(backbone, 2, head="linear")
    model(GRAPH)
    return model


def run_steps(model, strategy, steps, epochs=1):
    callbacks = strategy.apply(model)
    model.compile(
        optimizer=strategy.wrap_optimizer(tf.keras.optimizers.SGD(0.5), model),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        run_eagerly=True,  # Tiny graphs: tracing would cost more than the steps.
    )
    before = {short_name(v): v.numpy().copy() for v in model.weights}
    data = tf.data.Dataset.from_tensors((GRAPH, LABELS)).repeat()
    model.fit(data, steps_per_epoch=steps, epochs=epochs, callbacks=callbacks, verbose=0)
    return {name for name, value in before.items() if not np.allclose(value, _value(model, name))}


def _value(model, name):
    return next(v.numpy() for v in model.weights if short_name(v) == name)


@pytest.mark.parametrize("name", STRATEGIES)
def test_strategy_trains_what_it_claims(name):
    strategy = get_strategy(name, top_k=1, lora_rank=2, adapter_units=2, unfreeze_every=5)
    model = build_model(strategy)
    changed = run_steps(model, strategy, steps=2)
    assert {short_name(v) for v in model.trainable_weights} == EXPECTED[name]
    # Two steps: LoRA's A and the adapters' down-projections get gradients only once the
    # zero-initialised B / up-projection has moved.
    assert changed == EXPECTED[name]


@pytest.mark.parametrize(
    "epochs, events, moved",
    [
        ("two", {1: 1}, HEAD | LEVEL1),
        ("three", {1: 1, 2: 0}, EXPECTED["full"]),
    ],
)
def test_gradual_unfreezes_top_level_first(epochs, events, moved):
    strategy = get_strategy("gradual", unfreeze_every=1)
    model = build_model(strategy)
    callbacks = strategy.apply(model)
    model.compile(
        optimizer=tf.keras.optimizers.SGD(0.5),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        run_eagerly=True,  # Tiny graphs: tracing would cost more than the steps.
    )
    data = tf.data.Dataset.from_tensors((GRAPH, LABELS)).repeat()
    before = {short_name(v): v.numpy().copy() for v in model.weights}
    count = {"two": 2, "three": 3}[epochs]
    model.fit(data, steps_per_epoch=1, epochs=count, callbacks=callbacks, verbose=0)
    assert callbacks[0].unfrozen_at == events
    changed = {n for n, value in before.items() if not np.allclose(value, _value(model, n))}
    assert changed == moved


def test_l2sp_penalty_pulls_toward_pretrained_weights():
    strategy = get_strategy("l2sp", l2sp_alpha=2.0)
    model = build_model(strategy)
    strategy.apply(model)
    assert float(tf.add_n(model.losses)) == 0.0  # At w0 the penalty is zero.
    kernel = model.backbone.conv_layers[0].kernel
    kernel.assign_add(tf.ones_like(kernel))
    # alpha/2 * sum((w0 + 1 - w0)^2) = 1.0 * number of entries (2 x 4 = 8).
    np.testing.assert_allclose(float(tf.add_n(model.losses)), 8.0, rtol=1e-6)


def test_lora_trainable_fraction_is_small():
    strategy = get_strategy("lora", lora_rank=1)
    model = build_model(strategy)
    strategy.apply(model)
    # Trainable: lora 2*1+1*4 + 4*1+1*3 = 13, head 3*2+2 = 8 -> 21 of all 21 + 12 + 15 = 48.
    assert trainable_fraction(model) == pytest.approx(21 / 48)


def test_unknown_strategy_names_the_choices():
    with pytest.raises(ValueError, match="expected one of .*'lora'.*Received: strategy='lorra'"):
        get_strategy("lorra")


def test_lora_strategy_needs_lora_backbone():
    model = build_model(get_strategy("full"))
    with pytest.raises(ValueError, match="lora_rank > 0"):
        get_strategy("lora").apply(model)
