"""KerasTuner tuners over `GraphHyperModel`: random search, Hyperband, Bayesian optimization.

Pinned to keras-tuner 1.3.5: from 1.4 on, KerasTuner imports Keras 3 and rejects tf_keras
models (``FatalTypeError``, upstream issue 1039). 1.3.5 reaches Keras only through
``from tensorflow import keras``, which is tf_keras once `tfgraphtune` is imported, so
nothing in the user's process changes (tests/tuning/test_keras_tuner_compat.py).

Every trial leaves, in its KerasTuner trial folder (``DIR/search/trial_ID/``):
``runs.jsonl`` (one line per start: tuner id, pid, time), ``tfgraphtune_trial.json``
(status, message, metrics, timings, the trial's config overrides), ``history.csv`` and
``checkpoint*`` (the trained weights, restored for the best trial).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras_tuner as kt
import numpy as np
import pandas as pd
from keras_tuner.engine import oracle as oracle_module
from keras_tuner.tuners import bayesian

from tfgraphtune.training.config import ConfigError
from tfgraphtune.tuning import search_space
from tfgraphtune.tuning.hypermodel import GraphHyperModel

TUNERS = ("random", "hyperband", "bayesian")
PROJECT_NAME = "search"
RUNS_FILE = "runs.jsonl"
RECORD_FILE = "tfgraphtune_trial.json"


def _now() -> float:
    return time.time()


class GraphTunerMixin:
    """Runs trials through the hypermodel's `TaskTrials` and records each one.

    Placed before a KerasTuner tuner class. A trial: build inside the distribution
    strategy scope (and, for Hyperband, restore the parent trial's weights), fit
    ``tuner/epochs`` (Hyperband) or ``train.epochs``, evaluate every split, save the
    weights to the trial's checkpoint, report the metrics. Failures keep KerasTuner's
    status (INVALID, then FAILED after the retries) and are printed on stderr with their
    message and written to the trial's record.
    """

    hypermodel: GraphHyperModel

    def _populate_initial_space(self):
        # KerasTuner builds a model per conditional scope to discover the space; declaring
        # the space is enough here, and costs no model or data.
        hp = self.oracle.get_space()
        self.hypermodel.declare_hyperparameters(hp)
        self.oracle.update_space(hp)
        for param in self.hypermodel.params:
            if not param.when:
                continue
            hp = self.oracle.get_space()
            for parent, values in param.when:
                hp.values[parent] = values[0]
            self.hypermodel.declare_hyperparameters(hp)
            self.oracle.update_space(hp)

    def on_search_begin(self):
        super().on_search_begin()
        # KerasTuner writes its tuner file only after the first trial; without it a search
        # killed during that trial would not be resumed.
        self.save()

    def reload(self):
        super().reload()
        if self._is_worker():
            return
        # The oracle writes trial.json (COMPLETED) before oracle.json; a kill between the two
        # leaves the finished trial listed as running, and reload() would queue it again.
        oracle = self.oracle
        oracle._retry_queue = [
            trial_id
            for trial_id in oracle._retry_queue
            if oracle.trials[trial_id].status != kt.engine.trial.TrialStatus.COMPLETED
        ]

    def _trial_path(self, trial_id: str) -> Path:
        return Path(self.get_trial_dir(trial_id))

    def _write_record(self, trial_id: str, **fields) -> None:
        path = self._trial_path(trial_id) / RECORD_FILE
        record = json.loads(path.read_text()) if path.exists() else {"trial_id": trial_id}
        record.update(fields)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=2, default=str))
        os.replace(tmp, path)

    def on_trial_begin(self, trial):
        started = _now()
        self._trial_started = started
        self._trial_metrics = None
        line = {
            "tuner_id": self.tuner_id,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": started,
        }
        with open(self._trial_path(trial.trial_id) / RUNS_FILE, "a") as stream:
            stream.write(json.dumps(line) + "\n")
        overrides = self.hypermodel.declare_hyperparameters(trial.hyperparameters.copy())
        self._write_record(
            trial.trial_id,
            tuner_id=self.tuner_id,
            status="RUNNING",
            started=started,
            overrides=overrides,
            hyperparameters=dict(trial.hyperparameters.values),
        )
        super().on_trial_begin(trial)

    def run_trial(self, trial, *args, **kwargs):
        hp = trial.hyperparameters
        config = self.hypermodel.trial_config(hp)
        epochs = hp.values.get("tuner/epochs", config["train"]["epochs"])
        initial_epoch = hp.values.get("tuner/initial_epoch", 0)
        model = self._try_build(hp)
        history = self.hypermodel.fit(hp, model, epochs=epochs, initial_epoch=initial_epoch)
        data = self.hypermodel.data(config)
        metrics = self.hypermodel.runner.evaluate(model, config, data)
        objective = getattr(self.oracle.objective, "name", None)
        if objective is not None and objective not in metrics:
            # Fatal (not a failed trial): every trial would report the same names.
            raise kt.errors.FatalValueError(
                f"config key 'tune.objective' names {objective!r}, which the trials do not "
                f"report; use one of {sorted(metrics)}."
            )
        model.save_weights(self._get_checkpoint_fname(trial.trial_id))
        trial_dir = self._trial_path(trial.trial_id)
        if history:
            pd.DataFrame(history).rename_axis("epoch").to_csv(trial_dir / "history.csv")
        metrics["epochs_run"] = float(len(next(iter(history.values()), [])))
        metrics["trial_seconds"] = _now() - self._trial_started
        self._trial_metrics = dict(metrics)
        return metrics

    def on_trial_end(self, trial):
        ended = _now()
        fields: dict[str, Any] = {
            "status": trial.status,
            "ended": ended,
            "seconds": ended - self._trial_started,
        }
        if trial.status == kt.engine.trial.TrialStatus.COMPLETED:
            fields["message"] = None
            fields["metrics"] = self._trial_metrics
        else:
            fields["message"] = trial.message
            last_line = (trial.message or "").strip().splitlines()[-1:] or ["(no message)"]
            print(
                f"tfgraphtune tune: trial {trial.trial_id} {trial.status} on {self.tuner_id}: "
                f"{last_line[0]}",
                file=sys.stderr,
                flush=True,
            )
        self._write_record(trial.trial_id, **fields)
        self.trial_statuses.append((trial.trial_id, trial.status))
        try:
            super().on_trial_end(trial)
        except RuntimeError:
            # The oracle gave up (too many consecutive failures) before writing this trial.
            if not self._is_worker():
                save_oracle_after_abort(self.oracle, trial.trial_id)
            raise

    @property
    def trial_statuses(self) -> list[tuple[str, str]]:
        """``(trial id, status)`` of every trial this process ran, in order."""
        if "_trial_statuses" not in self.__dict__:
            self._trial_statuses = []
        return self._trial_statuses


def save_oracle_after_abort(oracle, trial_id: str) -> None:
    """Writes the trial and oracle state KerasTuner skips when `end_trial` raises."""
    oracle._save_trial(oracle.trials[trial_id])
    oracle.save()


class GraphRandomSearch(GraphTunerMixin, kt.RandomSearch):
    """KerasTuner's `RandomSearch` over a `GraphHyperModel`."""


class GraphHyperband(GraphTunerMixin, kt.Hyperband):
    """KerasTuner's `Hyperband` over a `GraphHyperModel` (a trial resumes its parent's weights)."""


class GaussianProcess:
    """Gaussian-process regression with a Matern 5/2 kernel, in numpy.

    Stands in for scikit-learn's ``GaussianProcessRegressor`` (what KerasTuner's Bayesian
    oracle uses; scikit-learn is not in this stack): ``y`` is normalized, observation
    noise `alpha` is added to the diagonal, and the isotropic length scale is the one of a
    log-spaced grid with the highest log marginal likelihood.

    Args:
      alpha: Noise variance added to the kernel diagonal.
    """

    LENGTH_SCALES = np.logspace(-2, 1.5, 15)

    def __init__(self, alpha: float = 1e-4):
        self.alpha = alpha

    @staticmethod
    def _kernel(a: np.ndarray, b: np.ndarray, length_scale: float) -> np.ndarray:
        distance = np.sqrt(np.maximum(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1), 0.0))
        scaled = np.sqrt(5.0) * distance / length_scale
        return (1.0 + scaled + scaled**2 / 3.0) * np.exp(-scaled)

    def fit(self, x, y) -> GaussianProcess:
        x = np.asarray(x, np.float64)
        y = np.asarray(y, np.float64).reshape(-1)
        self._mean = float(y.mean())
        self._std = float(y.std()) or 1.0
        target = (y - self._mean) / self._std
        best = None
        for length_scale in self.LENGTH_SCALES:
            kernel = self._kernel(x, x, length_scale) + self.alpha * np.eye(len(x))
            try:
                chol = np.linalg.cholesky(kernel)
            except np.linalg.LinAlgError:
                continue
            weights = np.linalg.solve(chol.T, np.linalg.solve(chol, target))
            # log p(y) = -y^T K^-1 y / 2 - log|K| / 2 - n log(2 pi) / 2
            likelihood = -0.5 * target @ weights - np.log(np.diag(chol)).sum()
            if best is None or likelihood > best[0]:
                best = (likelihood, length_scale, chol, weights)
        if best is None:
            raise np.linalg.LinAlgError("kernel matrix is not positive definite")
        _, self.length_scale, self._chol, self._weights = best
        self._x = x
        return self

    def predict(self, x, return_std: bool = False):
        x = np.asarray(x, np.float64)
        cross = self._kernel(x, self._x, self.length_scale)
        mean = cross @ self._weights * self._std + self._mean
        if not return_std:
            return mean
        solved = np.linalg.solve(self._chol, cross.T)
        variance = np.maximum(1.0 - (solved**2).sum(0), 0.0)
        return mean, np.sqrt(variance) * self._std


class GaussianProcessOracle(bayesian.BayesianOptimizationOracle):
    """KerasTuner's Bayesian optimization oracle with the numpy `GaussianProcess`.

    Same acquisition (upper confidence bound, L-BFGS-B restarts with scipy), same state
    and resume behaviour; only the regressor differs.
    """

    def __init__(
        self,
        objective=None,
        max_trials=10,
        num_initial_points=None,
        alpha=1e-4,
        beta=2.6,
        seed=None,
        **kwargs,
    ):
        # The parent's __init__ refuses to run without scikit-learn; set up the same fields.
        oracle_module.Oracle.__init__(
            self, objective=objective, max_trials=max_trials, seed=seed, **kwargs
        )
        self.num_initial_points = num_initial_points
        self.alpha = alpha
        self.beta = beta
        self._random_state = np.random.RandomState(self.seed)
        self.gpr = self._make_gpr()

    def _make_gpr(self):
        return GaussianProcess(alpha=self.alpha)


class GraphBayesianOptimization(GraphTunerMixin, kt.Tuner):
    """Bayesian optimization (`GaussianProcessOracle`) over a `GraphHyperModel`."""

    def __init__(
        self,
        hypermodel=None,
        objective=None,
        max_trials=10,
        num_initial_points=None,
        alpha=1e-4,
        beta=2.6,
        seed=None,
        max_retries_per_trial=0,
        max_consecutive_failed_trials=3,
        **kwargs,
    ):
        oracle = GaussianProcessOracle(
            objective=objective,
            max_trials=max_trials,
            num_initial_points=num_initial_points,
            alpha=alpha,
            beta=beta,
            seed=seed,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
        )
        super().__init__(oracle=oracle, hypermodel=hypermodel, **kwargs)


def make_tuner(
    config: Mapping[str, Any],
    directory: str | os.PathLike,
    *,
    tuner: str | None = None,
    max_trials: int | None = None,
    distribution_strategy=None,
    overwrite: bool = False,
    hypermodel: GraphHyperModel | None = None,
):
    """The tuner a config's ``tune`` section asks for, writing under ``directory/search``.

    Args:
      config: A full config.
      directory: The search folder; an existing search there is resumed unless `overwrite`.
      tuner: ``random``, ``hyperband`` or ``bayesian``; overrides ``tune.tuner``.
      max_trials: Overrides ``tune.max_trials`` (random, bayesian; Hyperband's trial count
        follows from ``max_epochs`` and ``factor``).
      distribution_strategy: A ``tf.distribute.Strategy`` each trial runs under.
      overwrite: Start afresh, deleting an earlier search in `directory`.
      hypermodel: Default ``GraphHyperModel(config)``.

    Raises:
      ConfigError: Unknown tuner, bad ``tune`` values or search space.
    """
    tune = config["tune"]
    if config["finetune"]["distill"]["teacher"]:
        # Trials build their models without the teacher's loss: refuse rather than tune a
        # student that silently ignores its teacher.
        raise ConfigError(
            "config key 'finetune.distill.teacher' is not supported by tune; tune the "
            "teacher, or distil with `tfgraphtune finetune --teacher RUN`."
        )
    name = tuner or tune["tuner"]
    if name not in TUNERS:
        raise ConfigError(f"unknown tuner {name!r}; expected one of {list(TUNERS)}.")
    trials = tune["max_trials"] if max_trials is None else max_trials
    if not isinstance(trials, int) or trials < 1:
        raise ConfigError(f"max_trials must be a positive integer. Received: {trials!r}")
    metric, direction = search_space.objective_from_config(config)
    common = {
        "hypermodel": hypermodel if hypermodel is not None else GraphHyperModel(config),
        "objective": kt.Objective(metric, direction),
        # KerasTuner reads seed 0 as "draw a seed": shift by one so that every tune.seed,
        # 0 included, gives the same trials again.
        "seed": None if tune["seed"] is None else int(tune["seed"]) + 1,
        "max_retries_per_trial": tune["max_retries_per_trial"],
        "max_consecutive_failed_trials": tune["max_consecutive_failed_trials"],
        "directory": str(directory),
        "project_name": PROJECT_NAME,
        "overwrite": overwrite,
        "distribution_strategy": distribution_strategy,
    }
    if name == "random":
        return GraphRandomSearch(max_trials=trials, **common)
    if name == "bayesian":
        return GraphBayesianOptimization(
            max_trials=trials, num_initial_points=tune["num_initial_points"], **common
        )
    max_epochs = tune["max_epochs"] or config["train"]["epochs"]
    return GraphHyperband(
        max_epochs=int(max_epochs),
        factor=int(tune["factor"]),
        hyperband_iterations=int(tune["hyperband_iterations"]),
        **common,
    )
