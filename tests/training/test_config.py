"""Config loading: defaults, YAML, overrides, and the errors for unknown keys."""

from __future__ import annotations

import pytest

from tfgraphtune.training.config import ConfigError, load_config, parse_override


def test_defaults_without_file():
    config = load_config()
    assert config["task"] == "node_classification"
    assert config["model"]["conv"] == "gcn"


def test_file_then_overrides_in_order(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("model:\n  hidden_units: 32\ntrain:\n  epochs: 5\n")
    config = load_config(path, ["train.epochs=7", "model.conv_options={num_heads: 2}"])
    assert config["model"]["hidden_units"] == 32
    assert config["train"]["epochs"] == 7
    assert config["model"]["conv_options"] == {"num_heads": 2}
    # Untouched defaults survive the merge.
    assert config["train"]["optimizer"] == "adam"


def test_override_values_are_yaml_typed():
    assert parse_override("train.learning_rate=1e-3") == (["train", "learning_rate"], 1e-3)
    assert parse_override("model.hidden_units=[32, 16]") == (["model", "hidden_units"], [32, 16])
    assert parse_override("data.normalize_features=null") == (
        ["data", "normalize_features"],
        None,
    )


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["model.hiden_units=3"], r"unknown config key 'model.hiden_units'.*hidden_units"),
        (["optimiser.lr=1"], r"unknown config key 'optimiser'"),
        (["train=3"], r"'train' must be a mapping"),
        (
            ["task=clustering"],
            r"config key 'task' must be one of \[.*node_classification.*'clustering'",
        ),
        (["novalue"], r"section.key=value"),
    ],
    ids=["typo", "section", "not_mapping", "task", "no_equals"],
)
def test_bad_overrides(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, overrides)


def test_bad_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "missing.yaml")
    path = tmp_path / "bad.yaml"
    path.write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)


def test_exponent_floats_in_files_are_floats(tmp_path):
    # Plain YAML 1.1 would read 1e-3 as the string "1e-3".
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  learning_rate: 1e-3\n  weight_decay: 5E-4\n")
    config = load_config(path)
    assert config["train"]["learning_rate"] == 1e-3
    assert config["train"]["weight_decay"] == 5e-4
