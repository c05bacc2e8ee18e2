"""Knowledge distillation: the loss by hand, config checks, soft targets on every node."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf

from tests.explain.planted import write_planted
from tfgraphtune.cli.main import main
from tfgraphtune.finetune.distillation import DistillationLoss, pack_targets
from tfgraphtune.training.config import ConfigError, load_config
from tfgraphtune.training.train import check_run_config


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("temperature, alpha", [(1.0, 0.5), (2.0, 0.7), (4.0, 1.0)])
def test_loss_is_weighted_kl_plus_cross_entropy(temperature, alpha):
    teacher = np.array([[0.0, np.log(3.0)], [2.0, 0.0], [1.0, 1.0]], np.float32)
    student = np.array([[0.0, 0.0], [0.5, 1.5], [3.0, -1.0]], np.float32)
    labels, kl_w, ce_w = [1, 0, 1], [1.0, 1.0, 1.0], [1.5, 1.5, 0.0]
    y = pack_targets(labels, kl_w, ce_w, teacher)
    loss = DistillationLoss(temperature, alpha)(tf.constant(y), tf.constant(student)).numpy()
    p, q = _softmax(teacher / temperature), _softmax(student / temperature)
    kl = (p * np.log(p / q)).sum(axis=1)
    ce = -np.log(_softmax(student)[np.arange(3), labels])
    expected = np.mean(alpha * temperature**2 * kl * kl_w + (1 - alpha) * ce * np.array(ce_w))
    assert loss == pytest.approx(expected, rel=1e-5)
    # Row 0 by hand at T = 1: KL([.25, .75] || [.5, .5]) = 0.1308, CE = ln 2.
    if temperature == 1.0:
        assert kl[0] == pytest.approx(0.25 * np.log(0.5) + 0.75 * np.log(1.5), rel=1e-6)


def test_loss_config_round_trip():
    loss = DistillationLoss(3.0, 0.25)
    restored = DistillationLoss.from_config(loss.get_config())
    assert (restored.temperature, restored.alpha) == (3.0, 0.25)


def _teacher(tmp_path):
    facts = write_planted(tmp_path)
    assert main(["finetune", "--config", str(facts["config"]), "--epochs", "2"]) == 0
    return facts


def test_config_errors_before_any_data(tmp_path):
    facts = _teacher(tmp_path)
    teacher = str(tmp_path / "run")
    graph = load_config(None, ["task=graph_classification", f"finetune.distill.teacher={teacher}"])
    with pytest.raises(ConfigError, match="task 'graph_classification' cannot be distilled"):
        check_run_config(graph)
    mlp_gcn_head = load_config(
        facts["config"], [f"finetune.distill.teacher={teacher}", "finetune.distill.student=mlp",
                          "model.head=gcn"]
    )  # fmt: skip
    with pytest.raises(ConfigError, match="serves without the graph"):
        check_run_config(mlp_gcn_head)
    with pytest.raises(ConfigError, match="'finetune.distill.alpha' must be a number in"):
        load_config(facts["config"], ["finetune.distill.alpha=1.5"])
    with pytest.raises(ConfigError, match="'finetune.distill.student' must be one of"):
        load_config(facts["config"], ["finetune.distill.student=cnn"])
    missing = load_config(facts["config"], [f"finetune.distill.teacher={tmp_path / 'nope'}"])
    with pytest.raises(ConfigError, match="finetune.distill.teacher"):
        check_run_config(missing)
    code = main(["finetune", "--config", str(facts["config"]), "--teacher", str(tmp_path / "x"),
                 "--out", str(tmp_path / "student")])  # fmt: skip
    assert code == 2


def test_soft_targets_on_every_node_teach_an_mlp_what_it_cannot_see(tmp_path):
    # The planted label sits in a neighbour's feature: an MLP on a center's own (noise)
    # features cannot learn it from the 40 training labels, but with the teacher's soft
    # targets on every node (GLNN's transductive setting) it memorises the teacher's
    # answers for the test centers too.
    facts = write_planted(tmp_path)
    assert main(["finetune", "--config", str(facts["config"])]) == 0
    teacher = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert teacher["test"]["accuracy"] >= 0.9
    common = ["--config", str(facts["config"]), "--student", "mlp", "--set", "model.head=linear",
              "--set", "model.hidden_units=64", "--epochs", "300"]  # fmt: skip
    results = {}
    for name, alpha in (("labels_only", 0.0), ("soft_targets", 1.0)):
        out = tmp_path / name
        code = main(["finetune", *common, "--teacher", str(tmp_path / "run"), "--out", str(out),
                     "--set", f"finetune.distill.alpha={alpha}"])  # fmt: skip
        assert code == 0
        results[name] = json.loads((out / "metrics.json").read_text())
    assert results["soft_targets"]["distillation"]["student"] == "mlp"
    assert results["labels_only"]["test"]["accuracy"] <= 0.7
    assert results["soft_targets"]["test"]["accuracy"] >= 0.8
