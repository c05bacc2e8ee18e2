"""How a search trains, evaluates and saves one trial: the one training path, split in steps.

KerasTuner needs a trial's steps apart (build inside the trial's ``tf.distribute`` scope,
fit, evaluate, save); `TaskTrials` is `tfgraphtune.training.train` cut at those points, so
a trial of any task kind, from scratch or from a pre-trained backbone with any fine-tuning
strategy, trains exactly as ``tfgraphtune finetune`` with the same config.
"""

from __future__ import annotations

import json
import weakref
from pathlib import Path
from typing import Any

import tensorflow as tf

from tfgraphtune.distribute.inputs import to_keras_input
from tfgraphtune.tasks import get_task, task_names
from tfgraphtune.training import train as training
from tfgraphtune.training.run_folder import RunFolderWriter

# Keras and this library name the validation split differently.
_SPLIT_PREFIX = {"train": "train", "validation": "val", "test": "test"}


class TaskTrials:
    """The steps of one trial, for any task.

    `prepare` is called once per distinct data preparation (see `data_key`); every trial
    of a search with that key shares the prepared data.
    """

    def __init__(self):
        # Model -> its `Trainable` (inputs, strategy callbacks), without touching the model.
        self._trainables = weakref.WeakKeyDictionary()

    def data_key(self, config: dict) -> str:
        """What `prepare` depends on: the data section and whether GCN layers read it."""
        task, source = training.check_run_config(config)
        gcn = training.backbones.uses_gcn(source, task.head_of(config) if task.heads else None)
        return json.dumps([config["task"], config["data"], config["train"]["seed"], gcn],
                          sort_keys=True, default=str)  # fmt: skip

    def prepare(self, config: dict) -> Any:
        task, source = training.check_run_config(config)
        return training.prepare_data(config, task, source)

    def build(self, config: dict, data: Any) -> tf.keras.Model:
        """The compiled model with its weights (called inside the trial's strategy scope)."""
        task, source = training.check_run_config(config)
        trainable = training.make_trainable(config, task, source, data)
        self._trainables[trainable.model] = trainable
        return trainable.model

    def fit(self, model, config, data, *, epochs, initial_epoch=0, callbacks=None):
        """Trains; returns the Keras history dict."""
        return training.fit_trainable(
            self._trainables[model],
            config,
            epochs=epochs,
            initial_epoch=initial_epoch,
            callbacks=list(callbacks or []),
            stage="tuning trial",
        )

    def evaluate(self, model, config, data) -> dict[str, float]:
        """Flat ``{split_metric: value}``: the task's exact metrics and Keras's losses."""
        task = get_task(config["task"])
        metrics: dict[str, float] = {}
        for split, values in task.evaluate(model, data).items():
            for name, value in values.items():
                metrics[f"{_SPLIT_PREFIX.get(split, split)}_{name}"] = float(value)
        # The loss as Keras computes it (regularization included), for loss objectives.
        fit = self._trainables[model].fit
        result = model.evaluate(
            to_keras_input(fit.validation, model.distribute_strategy),
            steps=fit.validation_steps,
            verbose=0,
            return_dict=True,
        )
        metrics["val_loss"] = float(result["loss"])
        return metrics

    def write_run(self, run_dir, model, config, data, *, metrics, history) -> Path:
        """Writes a standard run folder (``tfgraphtune evaluate`` and ``export`` work on it)."""
        task = get_task(config["task"])
        config = {**config, "out": str(run_dir)}
        writer = RunFolderWriter(run_dir, overwrite=True)
        try:
            return training.write_run_folder(
                writer,
                config,
                task,
                data,
                model,
                {**task.evaluate(model, data), **metrics},
                history,
            )
        except BaseException:
            writer.discard()
            raise


def trial_runner_for(task: str) -> TaskTrials:
    """The trial runner of a task (one for every task kind).

    Raises:
      ValueError: An unknown task.
    """
    if task not in task_names():
        raise ValueError(f"unknown task {task!r}; expected one of {task_names()}.")
    return TaskTrials()
