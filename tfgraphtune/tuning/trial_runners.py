"""How a search trains, evaluates and saves one trial of a task, by task name.

A `TrialRunner` splits a task's training (``tfgraphtune.training.*_runner``) into the
steps KerasTuner needs apart: build (inside the trial's ``tf.distribute`` scope), fit,
evaluate, write a run folder. Other tasks plug in with `register_trial_runner`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tensorflow as tf

from tfgraphtune.training import node_runner, run_folder
from tfgraphtune.training.callbacks import standard_callbacks
from tfgraphtune.training.evaluation import per_class_report


class TrialRunner:
    """The steps of one trial for one task. Subclasses implement every method.

    `prepare` is called once per distinct data preparation and may cache its result: all
    trials of a search share it.
    """

    def prepare(self, config: dict) -> Any:
        """Loads the data the config's model trains on (cached by the caller's key)."""
        raise NotImplementedError

    def data_key(self, config: dict) -> str:
        """What `prepare` depends on: trials with the same key share prepared data."""
        return json.dumps(config["data"], sort_keys=True, default=str)

    def build(self, config: dict, data: Any) -> tf.keras.Model:
        """The compiled model with its weights created (called inside a strategy scope)."""
        raise NotImplementedError

    def fit(
        self,
        model: tf.keras.Model,
        config: dict,
        data: Any,
        *,
        epochs: int,
        initial_epoch: int = 0,
        callbacks: list | None = None,
    ) -> dict[str, list]:
        """Trains; returns the Keras history dict."""
        raise NotImplementedError

    def evaluate(self, model: tf.keras.Model, config: dict, data: Any) -> dict[str, float]:
        """Flat ``{split_metric: value}``, e.g. ``val_accuracy``, ``test_accuracy``."""
        raise NotImplementedError

    def write_run(
        self,
        run_dir: str | Path,
        model: tf.keras.Model,
        config: dict,
        data: Any,
        *,
        metrics: dict,
        history: dict | None,
    ) -> Path:
        """Writes a standard run folder (`tfgraphtune.training.run_folder`)."""
        raise NotImplementedError


# Keras and this library name the validation split differently.
_SPLIT_PREFIX = {"train": "train", "validation": "val", "test": "test"}


def with_pretrained_conv(config: dict) -> dict:
    """`config` with ``model.conv`` set to the pre-trained backbone's (``finetune.backbone``)."""
    backbone = (config.get("finetune") or {}).get("backbone")
    if not backbone:
        return config
    from tfgraphtune.pretrain.checkpoint import read_pretrained

    pretrained, _, _ = read_pretrained(backbone)
    return {**config, "model": {**config["model"], "conv": pretrained["conv"]}}


class NodeClassificationTrials(TrialRunner):
    """`TrialRunner` over `tfgraphtune.training.node_runner` (full-batch, one graph).

    With ``finetune.backbone`` set, every trial starts from that pre-trained backbone and
    applies ``finetune.strategy`` (trainability, LoRA/adapters, per-layer rates, callbacks)
    exactly as ``tfgraphtune finetune --backbone`` does.
    """

    def data_key(self, config: dict) -> str:
        # GCN pre-computes its normalization into the graph; other convs do not.
        config = with_pretrained_conv(config)
        return super().data_key(config) + str(config["model"]["conv"] == "gcn")

    def prepare(self, config: dict) -> Any:
        from tfgraphtune.models.tasks.node_classification import full_batch_inputs

        dataset, graph = node_runner.prepare_node_data(with_pretrained_conv(config))
        return {"dataset": dataset, "graph": graph, "inputs": full_batch_inputs(dataset, graph)}

    def build(self, config: dict, data: Any) -> tf.keras.Model:
        finetune = config.get("finetune") or {}
        if not finetune.get("backbone"):
            model = node_runner.build_node_model(config, data["dataset"])
            model(data["graph"])  # Create the weights here, inside the trial's strategy scope.
            node_runner.compile_node_model(model, config)
            return model
        from tfgraphtune.finetune.runner import FINETUNE_BACKBONE_KEYS, strategy_from_config
        from tfgraphtune.models.backbone import Backbone

        strategy = strategy_from_config(config)
        backbone = Backbone.from_pretrained(
            finetune["backbone"],
            schema=data["dataset"].schema,
            **{key: config["model"][key] for key in FINETUNE_BACKBONE_KEYS},
            **strategy.backbone_overrides(),
        )
        model = node_runner.build_node_model(
            with_pretrained_conv(config), data["dataset"], backbone
        )
        model(data["graph"])
        model.strategy_callbacks = list(strategy.apply(model))
        node_runner.compile_node_model(model, config, strategy.wrap_optimizer)
        return model

    def fit(self, model, config, data, *, epochs, initial_epoch=0, callbacks=None):
        train = config["train"]
        stopping = train["early_stopping"] or {}
        history = model.fit(
            data["inputs"]["train"].repeat(),
            steps_per_epoch=1,
            epochs=int(epochs),
            initial_epoch=int(initial_epoch),
            validation_data=data["inputs"]["validation"],
            callbacks=[
                *standard_callbacks(
                    monitor=stopping.get("monitor", "val_loss"),
                    patience=stopping.get("patience"),
                    mode=stopping.get("mode", "auto"),
                ),
                *getattr(model, "strategy_callbacks", []),
                *(callbacks or []),
            ],
            verbose=int(train["verbose"]),
        )
        return history.history

    def evaluate(self, model, config, data) -> dict[str, float]:
        metrics: dict[str, float] = {}
        per_split = node_runner.node_metrics(model, data["dataset"], data["graph"])
        for split, values in per_split.items():
            for name, value in values.items():
                metrics[f"{_SPLIT_PREFIX.get(split, split)}_{name}"] = float(value)
        for split in ("train", "validation"):
            # The loss as Keras computes it (with the L2 penalty), for loss objectives.
            result = model.evaluate(data["inputs"][split], verbose=0, return_dict=True)
            metrics[f"{_SPLIT_PREFIX[split]}_loss"] = float(result["loss"])
        return metrics

    def write_run(self, run_dir, model, config, data, *, metrics, history):
        dataset, graph = data["dataset"], data["graph"]
        per_split = node_runner.node_metrics(model, dataset, graph)
        test_ids = dataset.splits["test"]
        logits = model(graph, training=False).numpy()
        report = per_class_report(dataset.labels[test_ids], logits[test_ids])
        return run_folder.write_run(
            run_dir,
            config={**config, "out": str(run_dir)},
            schema=dataset.schema,
            model=model,
            metrics={**per_split, **metrics},
            history=history,
            tables={"per_class_test": report},
        )


_RUNNERS: dict[str, Callable[[], TrialRunner]] = {
    "node_classification": NodeClassificationTrials,
}


def register_trial_runner(task: str, factory: Callable[[], TrialRunner]) -> None:
    """Makes `tfgraphtune tune` search the given task (e.g. from the task's runner module)."""
    _RUNNERS[task] = factory


def trial_runner_for(task: str) -> TrialRunner:
    """A new `TrialRunner` for a task.

    Raises:
      ValueError: No runner registered for the task.
    """
    if task not in _RUNNERS:
        raise ValueError(
            f"task {task!r} cannot be tuned yet: no trial runner is registered for it; "
            f"tunable tasks: {sorted(_RUNNERS)}."
        )
    return _RUNNERS[task]()
