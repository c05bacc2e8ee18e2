"""The one training path: every task kind, every backbone source, every strategy.

``tfgraphtune finetune``, ``tfgraphtune run``, tuning trials, the benchmarks and the
notebooks all call `train`; `evaluate_run` re-computes a run folder's metrics from the
folder alone (its model, weights and preprocessing) plus the data.

Order of work in `train` (checks first, so a bad setting fails before any data is read):

1. check the config (types and ranges, then what the task and strategy can honour);
2. check that the output folder can be written;
3. prepare the task's data (normalization fitted on training data only);
4. build the model: backbone (scratch | pre-trained | resumed run) -> fine-tuning
   transform (LoRA/adapters) -> the task's head; then trainability and per-layer rates;
5. ``model.fit`` with early stopping, TensorBoard and the strategy's callbacks;
6. evaluate with the task's exact metrics, and write the run folder atomically.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tfgraphtune.distribute.inputs import to_keras_input
from tfgraphtune.distribute.strategy import (
    is_chief,
    precision_policy,
    serve_if_parameter_server_role,
    strategy_from_config,
)
from tfgraphtune.finetune import distillation
from tfgraphtune.finetune.strategies import FineTuneStrategy, trainable_fraction
from tfgraphtune.serving.serving_input import ServingInput
from tfgraphtune.tasks import Task, TaskData, get_task
from tfgraphtune.training import backbones, backup, run_folder
from tfgraphtune.training.callbacks import StepTimer, standard_callbacks
from tfgraphtune.training.config import ConfigError, check_config
from tfgraphtune.training.optimizers import make_optimizer
from tfgraphtune.training.progress import progress_callbacks
from tfgraphtune.training.validation import PersistentValidation


@dataclasses.dataclass
class RunResult:
    """What `train` returns.

    Attributes:
      metrics: Metrics per split plus epochs, timings and fine-tuning facts (the content
        of ``metrics.json``).
      model: The trained Keras model.
      data: The prepared `TaskData`.
      task: The `Task`.
      history: The Keras history dict.
      run_dir: The run folder written, or None.
    """

    metrics: dict[str, Any]
    model: tf.keras.Model
    data: TaskData
    task: Task
    history: dict[str, list]
    run_dir: Path | None


def check_run_config(config: Mapping[str, Any]) -> tuple[Task, backbones.BackboneSource]:
    """Every check that needs no data: types, task, backbone source, strategy.

    Returns:
      ``(task, backbone source)``.

    Raises:
      ConfigError: Every problem found, one per line.
      ValidationError: A missing or unreadable checkpoint / run folder.
    """
    check_config(config)
    task = get_task(config["task"])
    problems = task.check_config(config)
    source = backbones.backbone_source(config)
    problems += FineTuneStrategy.from_config(config).check(source.config)
    problems += distillation.check(config, task)
    if source.kind == backbones.RESUME:
        resumed = run_folder.read_run_config(source.path)["task"]
        if resumed != task.name:
            problems.append(
                f"config key 'finetune.resume' names a {resumed} run; it cannot continue as "
                f"task {task.name!r}"
            )
    if problems:
        raise ConfigError(f"invalid config for task {task.name!r}:\n  " + "\n  ".join(problems))
    return task, source


def prepare_data(
    config: Mapping[str, Any], task: Task, source, preprocessing=None, dataset=None
) -> TaskData:
    """The task's data for this backbone (GCN coefficients cached when GCN layers read it).

    Args:
      config: A full config.
      task: Its task.
      source: The `BackboneSource`.
      preprocessing: A stored preprocessing to apply instead of fitting one.
      dataset: A raw data set to use instead of the config's data source.
    """
    gcn = backbones.uses_gcn(source, task.head_of(config) if task.heads else None)
    return task.prepare(config, preprocessing=preprocessing, gcn_normalization=gcn, source=dataset)


def build_model(
    config: Mapping[str, Any],
    task: Task,
    data: TaskData,
    source: backbones.BackboneSource,
    strategy: FineTuneStrategy,
) -> tf.keras.Model:
    """The task's model with its weights: scratch, pre-trained + strategy, or resumed."""
    inputs = task.build_inputs(data)
    if distillation.student_kind(config) == "mlp":
        model = distillation.build_mlp_student(config, task, data)
        model(inputs)
        return model
    if source.kind == backbones.RESUME:
        from tfgraphtune.models.checkpoint import check_schema_compatible

        run = run_folder.load_run(source.path)
        if not task.uses_backbone:  # The task rebuilds its model from the resumed one.
            model = task.build_model(run.model, data, config)
            model(inputs)
            return model
        check_schema_compatible(run.model.backbone.get_config(), _schema_of(run.path), data.schema)
        model = run.model
        model(inputs)
        return model
    if not task.uses_backbone:  # A recommender builds its own model (see Task.uses_backbone).
        model = task.build_model(None, data, config)
        model(inputs)
        return model
    backbone = backbones.make_backbone(source, dict(config), data)
    graph = task.any_graph(data)
    backbone(graph, training=False)
    backbone = strategy.transform_backbone(
        backbone, graph, pretrained=source.kind == backbones.PRETRAINED
    )
    model = task.build_model(backbone, data, config)
    model(inputs)
    return model


def _schema_of(run_dir: Path):
    import tensorflow_gnn as tfgnn

    return tfgnn.read_schema(str(run_dir / "schema.pbtxt"))


def compile_model(
    model: tf.keras.Model, config: Mapping[str, Any], task: Task, strategy, steps_per_epoch: int
) -> None:
    """Optimizer (schedule over every step, per-layer rates), the task's loss and metrics."""
    train = config["train"]
    optimizer = make_optimizer(
        train["optimizer"],
        train["learning_rate"],
        weight_decay=train["weight_decay"],
        schedule=train["schedule"],
        decay_steps=max(int(train["decay_epochs"] or train["epochs"]) * steps_per_epoch, 1),
        warmup_steps=train["warmup_steps"],
        decay_rate=train["decay_rate"],
    )
    optimizer = strategy.wrap_optimizer(optimizer, model)
    metrics = task.keras_metrics(config)
    if task.metrics_weighted:
        model.compile(optimizer=optimizer, loss=task.loss(config), weighted_metrics=metrics)
    else:
        model.compile(optimizer=optimizer, loss=task.loss(config), metrics=metrics)


@dataclasses.dataclass
class Trainable:
    """A compiled model ready for ``fit``, with what training it needs.

    Attributes:
      model: The compiled Keras model.
      fit: The task's training and validation inputs.
      strategy: The fine-tuning strategy applied.
      callbacks: The strategy's callbacks (e.g. gradual unfreezing).
      trainable_fraction: Trainable / all parameters at the start.
      task_callbacks: The task's metric callbacks (they run before early stopping).
    """

    model: tf.keras.Model
    fit: Any
    strategy: FineTuneStrategy
    callbacks: list
    trainable_fraction: float
    task_callbacks: list = dataclasses.field(default_factory=list)


def make_trainable(
    config: Mapping[str, Any], task: Task, source: backbones.BackboneSource, data: TaskData
) -> Trainable:
    """Builds the model (backbone, strategy transform, head), applies the strategy, compiles.

    Call it inside a ``tf.distribute`` strategy scope to place the variables there.
    """
    strategy = FineTuneStrategy.from_config(config)
    # Dropout draws from generators whose state a crash-safe backup saves.
    with backup.stateful_random_layers():
        model = build_model(config, task, data, source, strategy)
    callbacks = list(strategy.apply(model) or []) if task.uses_backbone else []
    fraction = trainable_fraction(model)
    fit = task.fit_inputs(data, config)
    compile_model(model, config, task, strategy, fit.epoch_steps)
    return Trainable(model, fit, strategy, callbacks, fraction, task.training_callbacks(data))


def training_callbacks(config: Mapping[str, Any], *, log_dir: str | None = None) -> list:
    """Early stopping (``train.early_stopping``, best weights restored) and TensorBoard."""
    stopping = config["train"]["early_stopping"] or {}
    return standard_callbacks(
        monitor=stopping.get("monitor", "val_loss"),
        patience=stopping.get("patience"),
        mode=stopping.get("mode", "auto"),
        log_dir=log_dir,
    )


def fit_trainable(
    trainable: Trainable,
    config: Mapping[str, Any],
    *,
    epochs: int | None = None,
    initial_epoch: int = 0,
    callbacks: Sequence[tf.keras.callbacks.Callback] = (),
    log_dir: str | None = None,
    backup_dir: Path | None = None,
    stage: str = "fine-tune",
) -> dict[str, list]:
    """``model.fit`` with the config's callbacks; returns the history dict.

    With `backup_dir`, training is backed up there (``train.backup_interval``) and
    continues from a backup found there (see `tfgraphtune.training.backup`); the history
    returned then covers the epochs before the resume too. `stage` names the progress
    bar (`tfgraphtune.training.progress`).
    """
    # The model's strategy: the run's, or a tuning trial's (KerasTuner builds it in scope).
    strategy = trainable.model.distribute_strategy
    stopping = config["train"]["early_stopping"] or {}
    progress = progress_callbacks(
        stage,
        monitor=stopping.get("monitor", "val_loss"),
        mode=stopping.get("mode", "auto"),
        verbose=config["train"]["verbose"],
    )
    fit = trainable.fit
    validation_fn = fit.validation
    if fit.reuse_validation_iterator and backup_dir is not None:
        # One validation iterator for the whole fit: a resumed run continues it where the
        # backup left it (sampled validation subgraphs differ from pass to pass).
        passes = backup.resume_point(backup_dir)[0]
        validation_fn = backup.skip_trained_steps(validation_fn, passes * fit.validation_steps)
    validation = to_keras_input(validation_fn, strategy)
    reuse = fit.reuse_validation_iterator and not isinstance(
        validation, tf.keras.utils.experimental.DatasetCreator
    )
    return backup.fit_resumable(
        trainable.model,
        fit.train,
        config=config,
        steps_per_epoch=fit.steps_per_epoch,
        epochs=int(epochs if epochs is not None else config["train"]["epochs"]),
        initial_epoch=initial_epoch,
        callbacks=[
            *([PersistentValidation(validation, steps=fit.validation_steps)] if reuse else []),
            *trainable.task_callbacks,
            *training_callbacks(config, log_dir=log_dir),
            *trainable.callbacks,
            *callbacks,
            *progress,  # Last: it shows what the callbacks before it logged.
        ],
        backup_dir=backup_dir,
        validation_data=None if reuse else validation,
        validation_steps=None if reuse else fit.validation_steps,
        verbose=int(config["train"]["verbose"]),
    )


def write_run_folder(
    writer: run_folder.RunFolderWriter,
    config: Mapping[str, Any],
    task: Task,
    data: TaskData,
    model: tf.keras.Model,
    metrics: Mapping[str, Any],
    history: Mapping[str, list] | None,
) -> Path:
    """Writes a run folder of a trained model (see `run_folder`)."""
    return writer.write(
        config=config,
        model=model,
        task_name=task.name,
        schema=data.schema,
        preprocessing=data.preprocessing,
        serving_input=serving_input_of(data),
        warmup_graph=data.warmup_graph,
        metrics=metrics,
        history=history,
        tables=task.tables(model, data),
        figures=run_figures(task, model, data, history),
    )


def run_figures(task: Task, model, data: TaskData, history) -> dict:
    """The run folder's pictures: training curves and the task's own (`Task.figures`)."""
    from tfgraphtune.reporting import plots

    figures = {"training_curves": plots.training_curves(history)} if history else {}
    return {**figures, **task.figures(model, data)}


def train(
    config: Mapping[str, Any],
    *,
    write: bool = True,
    overwrite: bool = False,
    data: TaskData | None = None,
    dataset=None,
    callbacks: Sequence[tf.keras.callbacks.Callback] = (),
) -> RunResult:
    """Trains the config's task and writes its run folder (``config["out"]``).

    Args:
      config: A full config (`tfgraphtune.load_config`).
      write: Whether to write the run folder (benchmarks may not).
      overwrite: Whether an existing run folder at ``out`` may be replaced.
      data: Prepared data to reuse (e.g. across seeds of a benchmark); its preparation
        must match the config.
      dataset: A raw `NodeDataset` / `GraphDataset` built in Python, used instead of the
        config's ``data`` source (the config still says how to split and normalize it).
      callbacks: Extra Keras callbacks.

    Returns:
      A `RunResult`.

    Raises:
      ConfigError: A setting the task, backbone or strategy cannot honour.
      ValidationError: Bad data, files or output folder.
    """
    config = dict(config)
    task, source = check_run_config(config)
    if serve_if_parameter_server_role(config):
        return None  # A parameter-server cluster's ps/worker: served until stopped.
    strategy = strategy_from_config(config)
    # In a multi-worker run every worker trains (and backs up); only the chief writes.
    chief = is_chief()
    writer = (
        run_folder.RunFolderWriter(config["out"], overwrite=overwrite) if write and chief else None
    )
    backup_dir = None
    try:
        if write and backup.enabled(config):
            backup_dir = backup.backup_dir_for(config["out"])
            what = f"run folder {str(config['out'])!r}"
            if backup.prepare_backup(
                backup_dir, config, overwrite=overwrite, writer=chief, what=what
            ):
                backup.announce_resume(what, backup_dir)
            if writer is not None:
                writer.on_commit.append(lambda: backup.remove_backup(backup_dir))
        if data is None:
            tf.keras.utils.set_random_seed(int(config["train"]["seed"]))
            data = prepare_data(config, task, source, dataset=dataset)
        return _train(config, task, source, data, callbacks, writer, strategy, backup_dir)
    except BaseException:
        if writer is not None:
            writer.discard()
            backup.discard_if_empty(backup_dir)
        raise


def _train(config, task, source, data, callbacks, writer, strategy, backup_dir) -> RunResult:
    # Distilling: the teacher's soft targets join the training signal (same task otherwise).
    fit_task = distillation.wrap(task, config, data)
    if fit_task is not task and strategy.num_replicas_in_sync > 1:
        raise ConfigError(
            "config key 'finetune.distill.teacher' is set: distillation trains on one "
            "replica; set train.distribution to none or one_device"
        )
    tf.keras.utils.set_random_seed(int(config["train"]["seed"]))
    # Variables are created, and the model compiled, inside the strategy's scope.
    with precision_policy(config), strategy.scope():
        trainable = make_trainable(config, fit_task, source, data)
    timer = StepTimer()
    log_dir = (
        str(writer.path / "logs") if writer is not None and config["train"]["tensorboard"] else None
    )
    start = time.perf_counter()
    history = fit_trainable(
        trainable, config, callbacks=[timer, *callbacks], log_dir=log_dir, backup_dir=backup_dir
    )
    train_time = time.perf_counter() - start
    model = trainable.model
    metrics: dict[str, Any] = task.evaluate(model, data)
    metrics.update(
        epochs_run=len(history["loss"]),
        train_time_s=train_time,
        step_time_median_s=float(np.median(timer.step_times)) if timer.step_times else None,
        strategy=trainable.strategy.name,
        trainable_fraction=trainable.trainable_fraction,
        backbone_source=source.kind,
        backbone_path=source.path,
        preprocessing=data.preprocessing.describe(),
        notes=[*source.notes, *data.notes],
    )
    if fit_task is not task:
        metrics["distillation"] = dict(fit_task.distill)
    run_dir = None
    if writer is not None:
        run_dir = write_run_folder(writer, config, task, data, model, metrics, history)
    return RunResult(metrics, model, data, task, history, run_dir)


def serving_input_of(data: TaskData) -> ServingInput:
    """What a request to this data's model carries."""
    return ServingInput(
        node_set=data.node_set,
        feature=data.feature,
        edge_set=data.edge_set,
        num_features=data.num_features,
        dtype=data.feature_dtype,
    )


def evaluate_run(
    run_dir: str | Path, *, data_dir: str | None = None
) -> dict[str, dict[str, float]]:
    """Re-computes a run folder's metrics from the folder's model and preprocessing.

    Args:
      run_dir: A run folder.
      data_dir: Overrides the run config's ``data.data_dir`` (data moved elsewhere).

    Returns:
      Metrics per split; equal to the training run's for the same data.
    """
    run = run_folder.load_run(run_dir)
    config = dict(run.config)
    if data_dir is not None:
        config["data"] = {**config["data"], "data_dir": data_dir}
    task = run.task
    backbone = run.model.backbone.get_config() if task.uses_backbone else {}
    source = backbones.BackboneSource(backbones.SCRATCH, None, backbone)
    data = prepare_data(config, task, source, preprocessing=run.preprocessing)
    return task.evaluate(run.model, data)
