"""``tfgraphtune pretrain`` writes a checkpoint; ``finetune --backbone --strategy`` uses it."""

from __future__ import annotations

import json

import pytest

from tfgraphtune.cli import main as cli_main

TINY = [
    "--set",
    "model.hidden_units=64",
    "--set",
    "finetune.lora_rank=2",
    "--set",
    "model.num_layers=1",
    "--set",
    "model.activation=prelu",
    "--set",
    "train.tensorboard=false",
]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("pretrain") / "dgi"
    code = cli_main.main(
        [
            "pretrain",
            "--dataset",
            "cora",
            "--method",
            "dgi",
            "--epochs",
            "2",
            "--data-dir",
            str(data_dir),
            "--out",
            str(out),
            *TINY,
        ]
    )
    assert code == 0
    return out


def test_pretrain_writes_a_checkpoint(checkpoint):
    meta = json.loads((checkpoint / "pretrain.json").read_text())
    assert meta["method"] == "dgi" and meta["epochs"] == 2 and meta["dataset"] == "cora"
    assert (checkpoint / "schema.pbtxt").exists() and (checkpoint / "backbone.json").exists()


def test_finetune_with_backbone_and_strategy(checkpoint, data_dir, tmp_path, capsys):
    code = cli_main.main(
        [
            "finetune",
            "--dataset",
            "cora",
            "--epochs",
            "2",
            "--data-dir",
            str(data_dir),
            "--backbone",
            str(checkpoint),
            "--strategy",
            "lora",
            "--out",
            str(tmp_path / "run"),
            "--set",
            "model.head=linear",
            *TINY,
        ]
    )
    assert code == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["strategy"] == "lora" and 0 < metrics["trainable_fraction"] < 0.1


def test_finetune_on_incompatible_data_names_the_feature(checkpoint, data_dir, tmp_path, capsys):
    code = cli_main.main(
        [
            "finetune",
            "--dataset",
            "citeseer",
            "--epochs",
            "1",
            "--data-dir",
            str(data_dir),
            "--backbone",
            str(checkpoint),
            "--out",
            str(tmp_path / "run"),
            *TINY,
        ]
    )
    assert code == cli_main.EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert "feature 'feat' of node set 'paper' has dtype float32 and shape [3703]" in err
    assert "pre-trained on dtype float32 and shape [1433]" in err


def test_unknown_method_is_a_user_error(data_dir, tmp_path, capsys):
    code = cli_main.main(["pretrain", "--method", "simclr", "--out", str(tmp_path / "x")])
    assert code == cli_main.EXIT_USER_ERROR
    assert "pretrain.method" in capsys.readouterr().err
