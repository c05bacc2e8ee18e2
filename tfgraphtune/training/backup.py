"""Crash-safe training: Keras's ``BackupAndRestore`` plus the state it does not keep.

``train.backup_interval`` (``auto`` by default) backs the training state up into
``.NAME.backup/`` next to the output folder ``NAME``. Rerunning the same command after the
process was killed (SIGKILL, OOM killer, power loss) continues from the last backup and
ends with the metrics of a run that was never interrupted: everything the rest of
training depends on is restored, not re-drawn.

What a backup holds and why:

* Keras's checkpoint (``BackupAndRestore``): model variables, optimizer slots and step
  counter (so learning-rate schedules continue), the epoch reached.
* The random number generators of the model's dropout layers and objectives: the layers
  are built with Keras's ``tf.random.Generator`` RNG (`stateful_random_layers`), whose
  state is a variable saved with the checkpoint. Keras's default stateful random ops keep
  their position in a kernel that restarts with the process, so a resumed run would draw
  other dropout masks.
* ``state-EPOCH.json`` (+ ``best-EPOCH.npz``): the history so far, early stopping's
  counters and best weights, and whether training had finished (early stopped or last
  epoch), so a run killed while writing its results does not train again.

The data order is not saved: the training data set is re-created and fast-forwarded by
the steps already trained (`skip_trained_steps`), which replays its shuffles, sampled
negatives and sampled subgraphs exactly (they are seeded).

``train.backup_interval``: ``auto`` backs up at the end of an epoch once at least
`AUTO_SECONDS` passed since the last backup (a run shorter than that writes only one
backup, after its last epoch), an integer N every N epochs, ``null`` never. The backup is
removed when the run folder is committed.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tfgraphtune.training.staging import OutputFolderError, write_file_atomic

AUTO_SECONDS = 5.0
CONFIG_FILE = "config.json"
# Keys that do not change what training computes: a rerun may differ in them.
_IGNORED_KEYS = ("train.verbose", "train.backup_interval", "train.tensorboard", "data.data_dir")


def backup_dir_for(out: str | Path) -> Path:
    """The backup folder of the output folder `out`: the hidden sibling ``.NAME.backup``."""
    out = Path(out)
    return out.parent / f".{out.name}.backup"


def enabled(config: Mapping[str, Any]) -> bool:
    """Whether the config backs up at all (``train.backup_interval`` not null)."""
    return config["train"].get("backup_interval", "auto") is not None


@contextlib.contextmanager
def stateful_random_layers():
    """Keras layers created in the block draw random numbers from a `tf.random.Generator`
    whose state can be saved (`TrainingBackup` saves it); Keras's default is stateful
    random ops whose state cannot."""
    from tf_keras.src import backend

    previous = backend._USE_GENERATOR_FOR_RNG
    tf.keras.backend.experimental.enable_tf_random_generator()
    try:
        yield
    finally:
        backend._USE_GENERATOR_FOR_RNG = previous


def random_generators(model: tf.keras.Model) -> list[tf.random.Generator]:
    """The `tf.random.Generator` of every random layer of `model`, in layer order."""
    generators = []
    for layer in model._flatten_layers(include_self=True):
        source = getattr(layer, "_random_generator", None)
        generator = getattr(source, "_generator", None)
        if isinstance(generator, tf.random.Generator):
            generators.append(generator)
    return generators


def _fingerprint(config: Mapping[str, Any]) -> dict:
    config = json.loads(json.dumps(dict(config), default=str))
    for dotted in _IGNORED_KEYS:
        *parents, key = dotted.split(".")
        section = config
        for part in parents:
            section = section.get(part) if isinstance(section, dict) else None
        if isinstance(section, dict):
            section.pop(key, None)
    return config


def _differences(a: Any, b: Any, prefix: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        keys = sorted(set(a) | set(b))
        return [d for k in keys for d in _differences(a.get(k), b.get(k), f"{prefix}{k}.")]
    return [] if a == b else [prefix.rstrip(".")]


def prepare_backup(
    backup_dir: Path, config: Mapping[str, Any], *, overwrite: bool, writer: bool, what: str
) -> bool:
    """Checks that a backup in `backup_dir` belongs to this config; creates the folder.

    Args:
      backup_dir: The backup folder.
      config: The run's config.
      overwrite: Whether a backup of another config may be discarded.
      writer: Whether this process writes the backup (a multi-worker run's chief).
      what: The output folder, for messages.

    Returns:
      Whether an earlier run's backup will be continued.

    Raises:
      OutputFolderError: A backup of another config, without `overwrite`.
    """
    saved = backup_dir / CONFIG_FILE
    mine = _fingerprint(config)
    if saved.exists():
        try:
            theirs = json.loads(saved.read_text())
        except (OSError, ValueError):
            theirs = None
        if theirs == mine:
            return True
        if not overwrite:
            keys = _differences(theirs, mine) if isinstance(theirs, dict) else ["(unreadable)"]
            raise OutputFolderError(
                f"{what} has an unfinished run with another config (backup "
                f"{str(backup_dir)!r}; differs in {', '.join(keys[:5])}); rerun its command "
                "to continue it, or pass --overwrite to discard it and start this one."
            )
        if writer:
            shutil.rmtree(backup_dir, ignore_errors=True)
    elif backup_dir.exists() and writer:
        shutil.rmtree(backup_dir, ignore_errors=True)  # Killed before its config was written.
    if writer:
        backup_dir.mkdir(parents=True, exist_ok=True)
        write_file_atomic(saved, json.dumps(mine, indent=1))
    return False


def discard_if_empty(backup_dir: Path | None) -> None:
    """Deletes a backup that holds no epoch yet: a run that failed before its first backup
    (an unknown data set, say) leaves nothing to continue, and must not make the next
    command in the same folder an "unfinished run with another config"."""
    if backup_dir is not None and backup_dir.exists() and _saved_epoch(backup_dir) < 0:
        shutil.rmtree(backup_dir, ignore_errors=True)


def remove_backup(backup_dir: Path) -> None:
    """Deletes a backup (after its run folder was committed)."""
    shutil.rmtree(backup_dir, ignore_errors=True)


def _saved_epoch(backup_dir: Path) -> int:
    """The last epoch Keras backed up in `backup_dir`, or -1."""
    latest = tf.train.latest_checkpoint(str(backup_dir / "chief"))
    if latest is None:
        return -1
    reader = tf.train.load_checkpoint(latest)
    return int(reader.get_tensor("ckpt_saved_epoch/.ATTRIBUTES/VARIABLE_VALUE"))


def _read_state(backup_dir: Path, epoch: int) -> dict | None:
    path = backup_dir / f"state-{epoch}.json"
    if epoch < 0 or not path.exists():
        return None
    return json.loads(path.read_text())


def resume_point(backup_dir: Path | None) -> tuple[int, bool]:
    """``(next epoch, finished)`` of the backup in `backup_dir` (``(0, False)`` if none)."""
    if backup_dir is None:
        return 0, False
    epoch = _saved_epoch(backup_dir)
    state = _read_state(backup_dir, epoch)
    if state is None:
        return 0, False
    return epoch + 1, bool(state["finished"])


def skip_trained_steps(dataset_fn, steps: int):
    """`dataset_fn` fast-forwarded by `steps` global steps (the epochs a backup holds)."""
    if steps <= 0:
        return dataset_fn
    from tfgraphtune.distribute.inputs import local_replicas

    def skipped(context):
        return dataset_fn(context).skip(steps * len(local_replicas(context)))

    return skipped


class _RandomState(tf.Module):
    def __init__(self, generators):
        super().__init__(name="random_state")
        self.generators = list(generators)


class TrainingBackup(tf.keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` that also keeps random generators, early stopping and history.

    Place it after every other callback: it saves at the end of an epoch what the others
    (early stopping restoring its best weights) made of it.

    Args:
      backup_dir: The backup folder (`backup_dir_for`).
      interval: ``"auto"`` or every how many epochs (see the module docstring).
      early_stopping: The run's early-stopping callbacks, whose state is kept.

    Attributes:
      history: Every epoch's logs, those before a resume included.
      resumed_from: The epoch training continued at (0 when it started afresh).
    """

    def __init__(
        self,
        backup_dir: str | Path,
        *,
        interval: str | int = "auto",
        early_stopping: Sequence[tf.keras.callbacks.EarlyStopping] = (),
    ):
        super().__init__(str(backup_dir), save_freq="epoch", delete_checkpoint=False)
        # One device checkpoints like no strategy (Keras only lists the replicating ones).
        self._supported_strategies = (*self._supported_strategies, tf.distribute.OneDeviceStrategy)
        self.path = Path(backup_dir)
        self.interval = interval
        self.early_stopping = list(early_stopping)
        self.history: dict[str, list] = {}
        self.resumed_from = 0
        self._last_backup = 0.0

    def _writes(self) -> bool:
        return bool(self.model.distribute_strategy.extended.should_checkpoint)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)  # Restores the model, optimizer and counters.
        checkpoint = self._training_state.read_checkpoint_manager._checkpoint
        random_state = _RandomState(random_generators(self.model))
        # Saved with every later backup; restored from this one.
        checkpoint.random_state = random_state
        self._training_state.write_checkpoint_manager._checkpoint.random_state = random_state
        latest = self._training_state.read_checkpoint_manager.latest_checkpoint
        epoch = _saved_epoch(self.path)
        state = _read_state(self.path, epoch)
        if latest and state is not None:
            tf.train.Checkpoint(random_state=random_state).read(latest).expect_partial()
            self.history = {k: list(v) for k, v in state["history"].items()}
            for index, callback in enumerate(self.early_stopping):
                self._restore_early_stopping(callback, state["early_stopping"][index], epoch, index)
            self.resumed_from = epoch + 1
        self._last_backup = time.monotonic()

    def _restore_early_stopping(self, callback, saved: dict, epoch: int, index: int) -> None:
        callback.wait = saved["wait"]
        callback.stopped_epoch = saved["stopped_epoch"]
        callback.best = saved["best"] if saved["best"] is not None else callback.best
        callback.best_epoch = saved["best_epoch"]
        weights = self.path / f"best-{epoch}-{index}.npz"
        if weights.exists():
            with np.load(weights, allow_pickle=False) as arrays:
                callback.best_weights = [arrays[f"w{i}"] for i in range(len(arrays.files))]

    def on_epoch_end(self, epoch, logs=None):
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(float(value))
        finished = bool(self.model.stop_training) or epoch + 1 >= self.params["epochs"]
        if self.interval == "auto":
            due = time.monotonic() - self._last_backup >= AUTO_SECONDS
        else:
            due = (epoch + 1) % int(self.interval) == 0
        if not (due or finished):
            return
        if self._writes():
            self._write_state(epoch, finished)
        self._backup(epoch=epoch)  # Every worker saves (non-chief ones to a temp folder).
        if self._writes():
            self._prune(epoch)
        self._last_backup = time.monotonic()

    def _write_state(self, epoch: int, finished: bool) -> None:
        # Written before the checkpoint of this epoch: whichever checkpoint a kill
        # leaves, its state file exists.
        stopping = []
        for index, callback in enumerate(self.early_stopping):
            best = callback.best
            stopping.append(
                {
                    "wait": int(callback.wait),
                    "stopped_epoch": int(callback.stopped_epoch),
                    "best": None if best is None or not np.isfinite(best) else float(best),
                    "best_epoch": int(callback.best_epoch),
                }
            )
            if callback.best_weights is not None:
                arrays = {f"w{i}": np.asarray(w) for i, w in enumerate(callback.best_weights)}
                tmp = self.path / f".best-{epoch}-{index}.tmp.npz"
                np.savez(tmp, **arrays)
                tmp.replace(self.path / f"best-{epoch}-{index}.npz")
        state = {
            "epoch": epoch,
            "finished": finished,
            "history": self.history,
            "early_stopping": stopping,
        }
        write_file_atomic(self.path / f"state-{epoch}.json", json.dumps(state))

    def _prune(self, epoch: int) -> None:
        for path in [*self.path.glob("state-*.json"), *self.path.glob("best-*.npz")]:
            if int(path.stem.split("-")[1]) < epoch:
                path.unlink(missing_ok=True)


def make_backup(
    backup_dir: Path | None, config: Mapping[str, Any], callbacks: Sequence
) -> TrainingBackup | None:
    """The `TrainingBackup` of a run (None without a backup folder)."""
    if backup_dir is None:
        return None
    stopping = [c for c in callbacks if isinstance(c, tf.keras.callbacks.EarlyStopping)]
    return TrainingBackup(
        backup_dir, interval=config["train"].get("backup_interval", "auto"), early_stopping=stopping
    )


def fit_resumable(
    model: tf.keras.Model,
    train_fn,
    *,
    config: Mapping[str, Any],
    steps_per_epoch: int,
    epochs: int,
    callbacks: Sequence[tf.keras.callbacks.Callback] = (),
    backup_dir: Path | None = None,
    initial_epoch: int = 0,
    **fit_kwargs,
) -> dict[str, list]:
    """``model.fit`` on `train_fn` (an `InputContext` function) that backs up to and
    continues from `backup_dir` (None: plain ``fit``); returns the whole history.

    A backup of a finished training restores its final state and trains no further.
    """
    from tfgraphtune.distribute.inputs import to_keras_input
    from tfgraphtune.training import test_hooks

    callbacks = [*callbacks, *test_hooks.kill_callbacks()]
    saver = make_backup(backup_dir, config, callbacks)
    if saver is not None:
        next_epoch, finished = resume_point(backup_dir)
        if finished:
            epochs = next_epoch  # Restore the finished state; train no further.
        # The data order continues where the backup left it.
        train_fn = skip_trained_steps(train_fn, next_epoch * steps_per_epoch)
        callbacks.append(saver)  # Last: it saves what the others made of an epoch.
    history = model.fit(
        to_keras_input(train_fn, model.distribute_strategy),
        steps_per_epoch=steps_per_epoch,
        epochs=int(epochs),
        initial_epoch=int(initial_epoch),
        callbacks=callbacks,
        **fit_kwargs,
    )
    return saver.history if saver is not None else history.history


def announce_resume(what: str, backup_dir: Path) -> None:
    """Says on stderr that an unfinished run continues (and from where)."""
    epoch, finished = resume_point(backup_dir)
    if finished:
        print(f"tfgraphtune: {what}: training had finished; writing its results from "
              f"{backup_dir}", file=sys.stderr)  # fmt: skip
    elif epoch:
        print(f"tfgraphtune: {what}: continuing an unfinished run at epoch {epoch + 1} "
              f"from {backup_dir}", file=sys.stderr)  # fmt: skip
