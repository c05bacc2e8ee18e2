"""The tune.space declarations: parsing, KerasTuner hyperparameters, trial configs."""

from __future__ import annotations

import keras_tuner as kt
import numpy as np
import pytest

from tfgraphtune.training.config import ConfigError, load_config
from tfgraphtune.tuning import search_space
from tfgraphtune.tuning.tuners import GaussianProcess


@pytest.fixture
def config():
    return load_config(None)


def test_declare_maps_values_onto_config_keys(config):
    params = search_space.parse_space(
        {
            "model.hidden_units": {"type": "choice", "values": [16, 32], "default": 32},
            "model.normalization": {"type": "choice", "values": [None, "layer"]},
            "model.dropout": {"type": "float", "min": 0.1, "max": 0.5, "step": 0.1},
            "train.learning_rate": {"type": "float", "min": 1e-3, "max": 1e-1, "sampling": "log"},
            "model.residual": {"type": "bool"},
            "train.epochs": {"type": "fixed", "value": 7},
        },
        config,
    )
    hp = kt.HyperParameters()
    values = search_space.declare(hp, params)
    # Defaults: the given one, the first choice, min for floats, False, the fixed value.
    assert values == {
        "model.hidden_units": 32,
        "model.normalization": None,
        "model.dropout": 0.1,
        "train.learning_rate": 1e-3,
        "model.residual": False,
        "train.epochs": 7,
    }
    # None is not a KerasTuner choice value: it is declared as its YAML text.
    assert hp.values["model.normalization"] == "null"
    hp.values["model.normalization"] = "layer"
    hp.values["model.dropout"] = 0.30000000000000004
    trial = search_space.trial_config(config, search_space.declare(hp, params))
    assert trial["model"]["normalization"] == "layer"
    assert trial["model"]["dropout"] == 0.3
    assert trial["train"]["epochs"] == 7
    assert config["train"]["epochs"] == 200  # The base config is not changed.


def test_when_makes_a_param_conditional(config):
    params = search_space.parse_space(
        {
            "train.optimizer": {"type": "choice", "values": ["adam", "adamw"]},
            "train.weight_decay": {
                "type": "choice",
                "values": [1e-4, 1e-3],
                "when": {"train.optimizer": "adamw"},
            },
        },
        config,
    )
    hp = kt.HyperParameters()
    assert search_space.declare(hp, params) == {"train.optimizer": "adam"}
    hp.values["train.optimizer"] = "adamw"
    values = search_space.declare(hp, params)
    assert values["train.optimizer"] == "adamw"
    assert values["train.weight_decay"] in (1e-4, 1e-3)


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ({"model.width": {"type": "int", "min": 1, "max": 2}}, "'model.width', which is not"),
        ({"model.dropout": {"type": "uniform"}}, "expected type one of"),
        ({"model.dropout": {"type": "float", "min": 0.5, "max": 0.1}}, "expected min <= max"),
        ({"train.learning_rate": {"type": "float", "min": 0, "max": 1, "sampling": "log"}},
         "log sampling needs min > 0"),
        ({"model.conv": {"type": "choice", "values": []}}, "non-empty list"),
        ({"model.conv": {"type": "choice", "values": ["gcn"], "step": 1}}, "unknown options"),
        ({"model.l2": {"type": "fixed", "value": 0, "when": {"model.conv": "gcn"}}},
         "not declared before it"),
        ({"out": {"type": "fixed", "value": "x"}}, "cannot be searched"),
    ],
)  # fmt: skip
def test_invalid_spaces_name_the_entry_and_the_problem(config, space, message):
    with pytest.raises(ConfigError, match=message):
        search_space.parse_space(space, config)


def test_tune_section_keeps_unknown_key_errors():
    with pytest.raises(ConfigError, match="unknown config key 'tune.trials'"):
        load_config(None, ["tune.trials=3"])
    config = load_config(None, ["tune.space={model.conv: {type: fixed, value: sage}}"])
    assert config["tune"]["space"] == {"model.conv": {"type": "fixed", "value": "sage"}}


def test_default_space_per_task(config):
    space = search_space.default_space(config)
    assert {"model.conv", "model.hidden_units", "train.learning_rate", "model.head"} <= set(space)
    assert not any(key.startswith("finetune.") for key in space)
    search_space.parse_space(space, config)  # Valid against the config.
    graph = search_space.default_space({**config, "task": "graph_classification"})
    assert "model.readout" in graph and "model.head" not in graph


def test_default_space_with_a_pretrained_backbone_searches_the_strategy(config):
    config = {**config, "finetune": {**config["finetune"], "backbone": "runs/pretrained"}}
    space = search_space.default_space(config)
    assert "model.conv" not in space  # Fixed by the backbone.
    assert space["finetune.lora_rank"]["when"] == {"finetune.strategy": "lora"}
    params = search_space.parse_space(space, config)
    hp = kt.HyperParameters()
    hp.values["finetune.strategy"] = "lora"
    values = search_space.declare(hp, params)
    assert values["finetune.lora_rank"] in (4, 8, 16)
    assert "finetune.top_k" not in values and "finetune.layer_decay" not in values
    # Every strategy the space offers is one `FineTuneStrategy` knows.
    from tfgraphtune.finetune.strategies import STRATEGIES

    assert set(space["finetune.strategy"]["values"]) <= set(STRATEGIES)


@pytest.mark.parametrize(
    ("objective", "expected"),
    [
        (None, ("val_accuracy", "max")),
        ({"name": "val_loss"}, ("val_loss", "min")),
        ({"name": "val_macro_f1", "direction": "max"}, ("val_macro_f1", "max")),
        ("val_loss", ("val_loss", "min")),
    ],
)
def test_objective(config, objective, expected):
    config["tune"]["objective"] = objective
    assert search_space.objective_from_config(config) == expected


def test_gaussian_process_interpolates_and_is_unsure_far_away():
    # y = x^2 at x = 0, 0.5, 1: with tiny noise the mean passes through the points; the
    # standard deviation is ~0 there and grows away from them.
    x = np.array([[0.0], [0.5], [1.0]])
    y = x[:, 0] ** 2
    gp = GaussianProcess(alpha=1e-8).fit(x, y)
    mean, std = gp.predict(x, return_std=True)
    np.testing.assert_allclose(mean, y, atol=1e-4)
    np.testing.assert_allclose(std, 0.0, atol=1e-3)
    _, far = gp.predict(np.array([[3.0]]), return_std=True)
    assert far[0] > 0.1


def test_tuning_a_distilled_student_is_refused(tmp_path):
    from tfgraphtune.training.config import ConfigError, load_config
    from tfgraphtune.tuning.tuners import make_tuner

    config = load_config(None, [f"finetune.distill.teacher={tmp_path}"])
    with pytest.raises(ConfigError, match="finetune.distill.teacher"):
        make_tuner(config, tmp_path / "search")
