"""Progress of long stages: one Keras progress bar per stage, plain lines in logs.

Every long stage (pre-training, fine-tuning, a tuning trial, evaluation over seeds) shows
one bar, updated once per epoch with the loss, the monitored metric and an ETA, drawn by
Keras's own `tf.keras.utils.Progbar` so it looks like ``model.fit``'s. Keras's per-epoch
``verbose=1`` output is not used: a full-batch epoch is one step, so it prints a "1/1"
bar per epoch (200 bars for a 200-epoch run).

When the output is not a terminal (CI logs, files) a bar's carriage returns would pile up,
so `StageBar` writes a plain line instead every ``max(1, total // 10)`` updates or every
`PLAIN_INTERVAL_S` seconds, whichever comes first, plus the last one.

``tfgraphtune ... --quiet`` (or `set_progress(False)`) silences all of it.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Mapping, Sequence
from typing import TextIO

import tensorflow as tf

PLAIN_INTERVAL_S = 10.0
_STATE = {"enabled": True, "stream": None}


def set_progress(enabled: bool, *, stream: TextIO | str | None = None) -> None:
    """Turns every stage's progress output on or off for this process.

    Args:
      enabled: Whether stages show progress.
      stream: Where it goes (default: ``sys.stdout`` at the time of each stage; ``"stderr"``:
        ``sys.stderr`` at that time); the CLI sends it to stderr under ``--json`` so that
        stdout holds only the JSON.
    """
    _STATE["enabled"] = bool(enabled)
    _STATE["stream"] = stream


def progress_enabled() -> bool:
    """Whether stages show progress (`set_progress`)."""
    return _STATE["enabled"]


def _format(value) -> str:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.3e}"


def _count(number: int, unit: str) -> str:
    return f"{number} {unit}" + ("" if number == 1 else "s")


class StageBar:
    """One progress bar for one stage of `total` units (epochs, seeds, steps).

    Args:
      stage: The stage's name, printed once when it starts (``fine-tune``).
      total: How many units the stage runs at most (it may stop earlier).
      unit: What one unit is, for the ETA (``epoch``).
      stream: Where to write (default: ``sys.stdout`` at the time of the call).
      interactive: Draw a redrawn bar (a terminal) or plain lines; default: whether
        `stream` is a terminal or a notebook kernel.
    """

    def __init__(
        self,
        stage: str,
        total: int,
        *,
        unit: str = "epoch",
        stream: TextIO | None = None,
        interactive: bool | None = None,
    ):
        self.stage, self.total, self.unit = stage, max(int(total), 1), unit
        # "stderr" is looked up now, not when it was set: a captured stream (tests, notebooks)
        # may have been replaced and closed since.
        chosen = stream or _STATE["stream"] or sys.stdout
        self.stream = sys.stderr if chosen == "stderr" else chosen
        if interactive is None:
            isatty = getattr(self.stream, "isatty", lambda: False)
            interactive = bool(isatty()) or "ipykernel" in sys.modules
        self.interactive = interactive
        self.every = max(1, self.total // 10)
        self._start = time.perf_counter()
        self._last_line = -float("inf")
        self._bar = None
        self._current = 0
        self._values: dict[str, float] = {}
        self._write(f"{stage}: up to {_count(self.total, unit)}\n")

    def _to_stream(self):
        """Progbar prints to ``sys.stdout``; point that at this bar's stream meanwhile."""
        return contextlib.redirect_stdout(self.stream)

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def update(self, current: int, values: Mapping[str, float] | None = None) -> None:
        """Shows that `current` units are done, with the latest `values`."""
        self._current, self._values = int(current), dict(values or {})
        if self.interactive:
            if self._bar is None:
                # Progbar writes to sys.stdout; every value is shown as-is (not averaged).
                self._bar = tf.keras.utils.Progbar(
                    self.total,
                    stateful_metrics=list(self._values),
                    unit_name=self.unit,
                    interval=0.0,
                )
            for name in self._values:
                self._bar.stateful_metrics.add(name)
            with self._to_stream():
                self._bar.update(self._current, list(self._values.items()), finalize=False)
            return
        now = time.perf_counter()
        due = self._current % self.every == 0 or now - self._last_line >= PLAIN_INTERVAL_S
        if self._current == 1 or self._current >= self.total or due:
            self._last_line = now
            self._write(self._plain_line(now) + "\n")

    def _plain_line(self, now: float) -> str:
        elapsed = now - self._start
        # Nothing done yet: no rate to extrapolate from.
        eta = (
            f", ETA {elapsed / self._current * (self.total - self._current):.0f}s"
            if self._current
            else ""
        )
        cells = "".join(f" {name} {_format(value)}" for name, value in self._values.items())
        return f"{self.stage} {self.unit} {self._current}/{self.total}{cells} [{elapsed:.0f}s{eta}]"

    def close(self, note: str = "") -> None:
        """Ends the bar (also when the stage stopped early) with a closing line."""
        if self.interactive and self._bar is not None:
            with self._to_stream():
                self._bar.update(self._current, list(self._values.items()), finalize=True)
            # Progbar ends its line only when it reaches its target.
            if self._current < self.total:
                self._write("\n")
        elapsed = time.perf_counter() - self._start
        tail = f", {note}" if note else ""
        self._write(f"{self.stage}: {_count(self._current, self.unit)} in {elapsed:.1f}s{tail}\n")


class EpochProgress(tf.keras.callbacks.Callback):
    """A Keras callback drawing one `StageBar` for a whole ``fit``.

    Updated at the end of each epoch with the loss and the monitored metric (the one
    early stopping watches); at the end it says how many epochs ran and the best value
    of the monitored metric.

    Args:
      stage: The stage's name (``fine-tune``, ``pre-train``, ``trial 3``).
      monitor: The metric to show next to the loss (e.g. ``val_loss``), if logged.
      mode: ``min`` or ``max`` for the best value; ``auto`` infers it like Keras.
      show: Further logged names to show.
      stream, interactive: As for `StageBar`.
    """

    def __init__(
        self,
        stage: str,
        *,
        monitor: str | None = None,
        mode: str = "auto",
        show: Sequence[str] = (),
        stream: TextIO | None = None,
        interactive: bool | None = None,
    ):
        super().__init__()
        self.stage, self.monitor, self.show = stage, monitor, tuple(show)
        if mode == "auto":  # Keras's rule of thumb: scores go up, losses and errors down.
            higher = ("acc", "auc", "average_precision", "_ap", "f1")
            mode = "max" if monitor and any(k in monitor for k in higher) else "min"
        self.mode = mode
        self.stream, self.interactive = stream, interactive
        self.bar: StageBar | None = None
        self.best: tuple[int, float] | None = None

    def on_train_begin(self, logs=None):
        epochs = int(self.params.get("epochs") or 1)
        self.bar = StageBar(
            self.stage, epochs, unit="epoch", stream=self.stream, interactive=self.interactive
        )
        self.best = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        names = ["loss", *([self.monitor] if self.monitor else []), *self.show]
        values = {name: float(logs[name]) for name in dict.fromkeys(names) if name in logs}
        if self.monitor in values:
            value = values[self.monitor]
            better = self.best is None or (
                value < self.best[1] if self.mode == "min" else value > self.best[1]
            )
            if better:
                self.best = (epoch + 1, value)
        self.bar.update(epoch + 1, values)

    def on_train_end(self, logs=None):
        if self.bar is None:
            return
        note = ""
        if self.best is not None:
            note = f"best {self.monitor} {_format(self.best[1])} at epoch {self.best[0]}"
        self.bar.close(note)
        self.bar = None


def progress_callbacks(
    stage: str, *, monitor: str | None = None, mode: str = "auto", verbose: int = 0
) -> list[tf.keras.callbacks.Callback]:
    """`EpochProgress` for a stage, or nothing when progress is off.

    Args:
      stage: The stage's name.
      monitor: The monitored metric to show.
      mode: Its direction (``min``/``max``/``auto``).
      verbose: The config's ``train.verbose``: when Keras prints its own per-epoch output
        (``1`` or ``2``), no second display is added.
    """
    if not progress_enabled() or int(verbose):
        return []
    return [EpochProgress(stage, monitor=monitor, mode=mode)]


class _NoBar:
    """What `stage_bar` returns when progress is off: accepts updates, shows nothing."""

    def update(self, current: int, values: Mapping[str, float] | None = None) -> None:
        pass

    def close(self, note: str = "") -> None:
        pass


def stage_bar(stage: str, total: int, *, unit: str = "step") -> StageBar | _NoBar:
    """A `StageBar` for a stage that is not a ``fit`` (export steps, seeds of an
    evaluation), or a silent stand-in when progress is off."""
    if not progress_enabled():
        return _NoBar()
    return StageBar(stage, total, unit=unit)
