"""`GraphHyperModel`: a KerasTuner ``HyperModel`` over tfgraphtune configs."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import keras_tuner as kt
import tensorflow as tf

from tfgraphtune.tuning import search_space
from tfgraphtune.tuning.trial_runners import TaskTrials, trial_runner_for


class GraphHyperModel(kt.HyperModel):
    """Samples a trial config from ``tune.space`` and builds/trains it with the task's runner.

    A trial's config is the base config with the sampled values set
    (`search_space.trial_config`), so a trial trains exactly like ``tfgraphtune finetune``
    with those ``--set`` overrides. The prepared data is shared by all trials of a process.

    Args:
      config: A full config (`tfgraphtune.training.config.load_config`).
      runner: The `TaskTrials` steps (default: a new one).

    Example:
      >>> hypermodel = GraphHyperModel(load_config("configs/cora_gcn.yaml"))
      >>> hp = kt.HyperParameters()
      >>> hypermodel.trial_config(hp)["model"]["hidden_units"]
      16
    """

    def __init__(self, config: Mapping[str, Any], *, runner: TaskTrials | None = None):
        super().__init__(name="tfgraphtune", tunable=True)
        self.config = copy.deepcopy(dict(config))
        self.params = search_space.space_from_config(self.config)
        self.runner = runner if runner is not None else trial_runner_for(self.config["task"])
        self._data: dict[str, Any] = {}

    def declare_hyperparameters(self, hp: kt.HyperParameters) -> dict[str, Any]:
        """Declares the search space on `hp`; returns the active ``{config key: value}``."""
        return search_space.declare(hp, self.params)

    def trial_config(self, hp: kt.HyperParameters) -> dict[str, Any]:
        """The config of the trial `hp` describes (declaring the space on `hp` as needed)."""
        return search_space.trial_config(self.config, self.declare_hyperparameters(hp))

    def data(self, config: dict) -> Any:
        """The runner's prepared data for a trial config (prepared once per data key)."""
        key = self.runner.data_key(config)
        if key not in self._data:
            self._data[key] = self.runner.prepare(config)
        return self._data[key]

    def build(self, hp: kt.HyperParameters):
        config = self.trial_config(hp)
        data = self.data(config)
        # Same initial weights and dropout masks as `tfgraphtune finetune` of this config.
        tf.keras.utils.set_random_seed(int(config["train"]["seed"]))
        return self.runner.build(config, data)

    def fit(
        self,
        hp: kt.HyperParameters,
        model,
        *args,
        epochs=None,
        initial_epoch=0,
        callbacks=None,
        **kwargs,
    ):
        config = self.trial_config(hp)
        return self.runner.fit(
            model,
            config,
            self.data(config),
            epochs=int(epochs if epochs is not None else config["train"]["epochs"]),
            initial_epoch=initial_epoch,
            callbacks=callbacks,
        )
