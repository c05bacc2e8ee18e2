"""Hyperparameter search over tfgraphtune models with KerasTuner 1.3.5 (tf_keras models).

Example:
  >>> from tfgraphtune.training.config import load_config
  >>> from tfgraphtune.tuning import make_tuner, trials_table
  >>> config = load_config("configs/cora_gcn.yaml", ["train.epochs=20"])
  >>> tuner = make_tuner(config, "runs/search-cora", max_trials=4)
  >>> tuner.search()
  >>> trials_table("runs/search-cora")  # one row per trial
"""

import tfgraphtune  # noqa: F401  (selects tf_keras before keras_tuner touches tf.keras)
from tfgraphtune.tuning.hypermodel import GraphHyperModel
from tfgraphtune.tuning.results import (
    SearchFailedError,
    best_trial_id,
    check_statuses,
    trials_table,
    write_best_run,
)
from tfgraphtune.tuning.search_space import default_space, parse_space
from tfgraphtune.tuning.trial_runners import TaskTrials, trial_runner_for
from tfgraphtune.tuning.tuners import (
    GraphBayesianOptimization,
    GraphHyperband,
    GraphRandomSearch,
    make_tuner,
)

__all__ = [
    "GraphBayesianOptimization",
    "GraphHyperModel",
    "GraphHyperband",
    "GraphRandomSearch",
    "SearchFailedError",
    "TaskTrials",
    "best_trial_id",
    "check_statuses",
    "default_space",
    "make_tuner",
    "parse_space",
    "trial_runner_for",
    "trials_table",
    "write_best_run",
]
