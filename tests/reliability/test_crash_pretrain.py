"""``pretrain`` killed with SIGKILL mid-epoch or while saving, then run again, ends with the
uninterrupted run's backbone: the same weights, loss and epochs (DGI with early stopping
on the loss; its corruption and dropout draws are restored, not re-drawn)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf

from tests.reliability.crash_helpers import KILLED, cli, leftovers, node_config

pytestmark = pytest.mark.xdist_group("crash")

FLAGS = ("--method", "dgi", "--epochs", "12", "--set", "pretrain.patience=3",
         "--set", "pretrain.learning_rate=0.01")  # fmt: skip


def backbone(out):
    """``(metadata, {variable: value})`` of a pre-trained checkpoint folder."""
    metadata = json.loads((out / "pretrain.json").read_text())
    reader = tf.train.load_checkpoint(str(out / "weights" / "backbone"))
    names = [n for n in reader.get_variable_to_shape_map() if n.startswith("backbone/")]
    return metadata, {name: reader.get_tensor(name) for name in names}


def assert_same_backbone(got, expected):
    (meta, weights), (meta0, weights0) = got, expected
    assert meta["epochs_run"] == meta0["epochs_run"]
    assert meta["final_loss"] == pytest.approx(meta0["final_loss"], rel=1e-5)
    assert weights.keys() == weights0.keys() and weights
    for name, value in weights0.items():
        np.testing.assert_allclose(weights[name], value, rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    root = tmp_path_factory.mktemp("crash_pretrain")
    config = node_config(root)
    out = root / "uninterrupted"
    done = cli("pretrain", "--config", config, "--out", out, *FLAGS)
    assert done.returncode == 0, done.stderr
    return config, backbone(out)


def test_sigkill_mid_epoch_continues_to_the_uninterrupted_backbone(uninterrupted, tmp_path):
    config, expected = uninterrupted
    out = tmp_path / "dgi"
    killed = cli("pretrain", "--config", config, "--out", out, *FLAGS, kill_at="epoch:5")
    assert killed.returncode == KILLED
    assert not out.exists()
    rerun = cli("pretrain", "--config", config, "--out", out, *FLAGS)
    assert rerun.returncode == 0, rerun.stderr
    assert "continuing an unfinished run at epoch 6" in rerun.stderr
    assert_same_backbone(backbone(out), expected)
    assert leftovers(out) == []


def test_sigkill_while_saving_leaves_no_checkpoint_and_does_not_train_again(
    uninterrupted, tmp_path
):
    config, expected = uninterrupted
    out = tmp_path / "dgi"
    killed = cli("pretrain", "--config", config, "--out", out, *FLAGS, kill_at="save")
    assert killed.returncode == KILLED
    assert not out.exists()  # Only the hidden staging folder was written.
    rerun = cli("pretrain", "--config", config, "--out", out, *FLAGS)
    assert rerun.returncode == 0, rerun.stderr
    assert "training had finished" in rerun.stderr
    assert_same_backbone(backbone(out), expected)
    assert leftovers(out) == []
