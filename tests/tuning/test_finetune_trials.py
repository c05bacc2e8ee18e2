"""Searches over a pre-trained backbone: every trial starts from it with its strategy."""

from __future__ import annotations

import keras_tuner as kt
import numpy as np
import pytest

from tests.tuning.conftest import CONFIG
from tfgraphtune.layers.lora_gcn_conv import LoRAGCNConv
from tfgraphtune.models.backbone import Backbone
from tfgraphtune.pretrain.runner import pretrain
from tfgraphtune.training.config import load_config
from tfgraphtune.tuning import GraphHyperModel

SPACE = "tune.space={finetune.strategy: {type: choice, values: [linear_probe, lora, gradual]}}"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("tune-pretrain") / "dgi"
    config = load_config(
        CONFIG,
        [
            f"data.data_dir={data_dir}",
            "pretrain.method=dgi",
            "pretrain.epochs=2",
            "model.hidden_units=16",
            "model.num_layers=1",
            "model.activation=prelu",
        ],
    )
    pretrain(config, out=out)
    return out


def _trial_model(checkpoint, data_dir, strategy):
    config = load_config(
        CONFIG,
        [f"data.data_dir={data_dir}", f"finetune.backbone={checkpoint}", SPACE],
    )
    hypermodel = GraphHyperModel(config)
    hp = kt.HyperParameters()
    hypermodel.declare_hyperparameters(hp)
    hp.values["finetune.strategy"] = strategy
    return hypermodel, hp, hypermodel.build(hp)


def test_linear_probe_trial_holds_the_pretrained_weights_frozen(checkpoint, data_dir):
    _, _, model = _trial_model(checkpoint, data_dir, "linear_probe")
    pretrained = Backbone.from_pretrained(checkpoint)
    np.testing.assert_array_equal(
        model.backbone.conv_layers[0].kernel.numpy(), pretrained.conv_layers[0].kernel.numpy()
    )
    assert model.trainable_weights and not model.backbone.trainable_weights


def test_lora_trial_trains_the_lora_factors(checkpoint, data_dir):
    _, _, model = _trial_model(checkpoint, data_dir, "lora")
    assert isinstance(model.backbone.conv_layers[0], LoRAGCNConv)
    names = {v.name.split("/")[-1].split(":")[0] for v in model.backbone.trainable_weights}
    assert {"lora_a", "lora_b"} <= names and "kernel" not in names


def test_gradual_trial_fits_with_its_unfreezing_callback(checkpoint, data_dir):
    hypermodel, hp, model = _trial_model(checkpoint, data_dir, "gradual")
    callbacks = hypermodel.runner._trainables[model].callbacks
    assert [type(c).__name__ for c in callbacks] == ["GradualUnfreezing"]
    history = hypermodel.fit(hp, model, epochs=2)
    assert len(history["loss"]) == 2
