"""Searches in this process: the CLI on Cora, failures, Hyperband and Bayesian plumbing."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from tests.tuning.conftest import CONFIG, SMALL_SPACE
from tfgraphtune.cli import main as cli_main
from tfgraphtune.training.config import load_config
from tfgraphtune.training.train import evaluate_run
from tfgraphtune.tuning import GraphHyperModel, TaskTrials, make_tuner, trials_table


@pytest.fixture(autouse=True)
def _only_tune(monkeypatch):
    monkeypatch.setattr(cli_main, "_SUBCOMMANDS", ("tune",))


def tune(out, data_dir, *flags):
    return cli_main.main(
        ["tune", "--config", str(CONFIG), "--data-dir", str(data_dir), "--out", str(out),
         "--epochs", "3", "--quiet", *flags]
    )  # fmt: skip


def test_random_search_writes_table_and_best_run_folder(tmp_path, data_dir, capsys):
    out = tmp_path / "search"
    assert tune(out, data_dir, "--max-trials", "3", "--set", SMALL_SPACE) == 0
    printed = capsys.readouterr().out
    table = pd.read_csv(out / "trials.csv", dtype={"trial_id": str})
    assert list(table["trial_id"]) == ["0", "1", "2"]
    assert (table["status"] == "COMPLETED").all()
    assert (table["tuner_id"] == "tuner0").all() and (table["runs"] == 1).all()
    assert {"hp:model.hidden_units", "hp:train.learning_rate"} <= set(table.columns)
    assert {"val_accuracy", "test_accuracy", "val_loss", "seconds"} <= set(table.columns)
    assert (table["score"] == table["val_accuracy"]).all()
    assert (table["epochs_run"] <= 3).all()
    best = table.loc[table["val_accuracy"].idxmax()]
    assert f"best trial {best['trial_id']}" in printed

    # The best trial is a standard run folder: its config has the sampled values and
    # `evaluate` rebuilds it with the searched weights.
    run = out / "best"
    config = load_config(run / "config.yaml")
    assert config["model"]["hidden_units"] == best["hp:model.hidden_units"]
    assert config["out"] == str(run)
    assert evaluate_run(run)["validation"]["accuracy"] == pytest.approx(best["val_accuracy"])
    assert json.loads((out / "search.json").read_text())["best_trial"]["trial_id"] == str(
        best["trial_id"]
    )


@pytest.mark.parametrize(
    ("trials", "expected_rows", "reason"),
    [
        (2, 2, "all 2 trials failed"),
        # KerasTuner gives up after tune.max_consecutive_failed_trials (3) in a row.
        (5, 3, "search stopped: Number of consecutive failures"),
    ],
)
def test_failed_trials_are_never_silent(tmp_path, data_dir, capsys, trials, expected_rows, reason):
    out = tmp_path / "search"
    bad_space = "tune.space={model.dropout: {type: choice, values: [1.5, 2.0, 3.0]}}"
    assert tune(out, data_dir, "--max-trials", str(trials), "--set", bad_space) == 1
    stderr = capsys.readouterr().err
    assert "config key 'model.dropout' must be a rate in [0, 1)" in stderr
    assert reason in stderr
    table = pd.read_csv(out / "trials.csv")
    assert list(table["status"]) == ["FAILED"] * expected_rows
    assert table["message"].str.contains("ConfigError").all()
    assert not (out / "best").exists()


class QuadraticTrials(TaskTrials):
    """No data, a one-weight model; ``val_score = -(log10(lr) + 2)^2`` (best at lr=0.01).

    ``fit`` counts epochs into the weight, so Hyperband's weight hand-over is visible.
    """

    def prepare(self, config):
        return None

    def build(self, config, data):
        model = tf.keras.Sequential([tf.keras.layers.Dense(1, use_bias=False)])
        model.build((None, 1))
        model.set_weights([np.zeros((1, 1), np.float32)])
        return model

    def fit(self, model, config, data, *, epochs, initial_epoch=0, callbacks=None):
        weight = model.get_weights()[0]
        model.set_weights([weight + (epochs - initial_epoch)])
        return {"loss": [0.0] * (epochs - initial_epoch)}

    def evaluate(self, model, config, data):
        lr = config["train"]["learning_rate"]
        return {
            "val_score": -((np.log10(lr) + 2.0) ** 2),
            "epochs_trained": float(model.get_weights()[0][0, 0]),
        }


def quadratic_config(tuner_name, **tune):
    return load_config(
        None,
        [
            f"tune.tuner={tuner_name}",
            "tune.objective={name: val_score, direction: max}",
            "tune.space={train.learning_rate: {type: float, min: 1.0e-4, max: 1, sampling: log}}",
            *(f"tune.{key}={value}" for key, value in tune.items()),
        ],
    )


def test_hyperband_trials_continue_from_their_parent(tmp_path):
    config = quadratic_config("hyperband", max_epochs=2, factor=2)
    tuner = make_tuner(
        config, tmp_path, hypermodel=GraphHyperModel(config, runner=QuadraticTrials())
    )
    tuner.search(verbose=0)
    table = trials_table(tmp_path)
    assert (table["status"] == "COMPLETED").all()
    assert set(table["hp:tuner/epochs"]) == {1, 2}
    # A continued trial starts from its parent's checkpoint: weight = its total epochs.
    assert (table["epochs_trained"] == table["hp:tuner/epochs"]).all()
    continued = table[table["hp:tuner/trial_id"].notna()]
    assert len(continued) > 0


def test_bayesian_optimization_runs_without_scikit_learn(tmp_path):
    config = quadratic_config("bayesian", max_trials=6, num_initial_points=3)
    tuner = make_tuner(
        config, tmp_path, hypermodel=GraphHyperModel(config, runner=QuadraticTrials())
    )
    tuner.search(verbose=0)
    table = trials_table(tmp_path)
    assert len(table) == 6 and (table["status"] == "COMPLETED").all()
    # The Gaussian-process trials (after the 3 random ones) get close to lr = 0.01.
    assert table["val_score"].iloc[3:].max() > -0.5


def test_trials_build_their_model_inside_the_distribution_strategy(tmp_path, data_dir):
    seen = []

    class Recording(TaskTrials):
        def build(self, config, data):
            model = super().build(config, data)
            seen.append((tf.distribute.get_strategy(), model.distribute_strategy))
            return model

    config = load_config(
        CONFIG, [f"data.data_dir={data_dir}", "train.epochs=2", "tune.max_trials=1", SMALL_SPACE]
    )
    strategy = tf.distribute.MirroredStrategy()
    tuner = make_tuner(
        config,
        tmp_path,
        distribution_strategy=strategy,
        hypermodel=GraphHyperModel(config, runner=Recording()),
    )
    tuner.search(verbose=0)
    assert list(trials_table(tmp_path)["status"]) == ["COMPLETED"]
    assert seen == [(strategy, strategy)]
