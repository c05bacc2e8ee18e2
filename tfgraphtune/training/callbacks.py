"""Keras callbacks used by the runners and benchmarks."""

from __future__ import annotations

import time

import tensorflow as tf


class StepTimer(tf.keras.callbacks.Callback):
    """Records the wall time of every training step (forward, backward, update).

    The time between `on_train_batch_begin` and `on_train_batch_end` covers fetching the
    batch and one call of the compiled train function; epoch bookkeeping and validation are
    outside it.

    Attributes:
      step_times: Seconds per step, in order.
    """

    def __init__(self):
        super().__init__()
        self.step_times: list[float] = []
        self._start = 0.0

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.step_times.append(time.perf_counter() - self._start)


def standard_callbacks(
    *,
    monitor: str = "val_loss",
    patience: int | None = 10,
    mode: str = "auto",
    log_dir: str | None = None,
) -> list[tf.keras.callbacks.Callback]:
    """Early stopping with best-weights restore, and TensorBoard logs when `log_dir` is set.

    Args:
      monitor: The validation metric early stopping watches, e.g. ``val_loss``,
        ``val_accuracy``.
      patience: Epochs without improvement before stopping; None disables early stopping.
      mode: ``min``, ``max`` or ``auto`` (Keras infers it from the metric name).
      log_dir: TensorBoard log folder, or None.

    Raises:
      ValueError: Invalid patience.
    """
    callbacks: list[tf.keras.callbacks.Callback] = []
    if patience is not None:
        if not isinstance(patience, int) or patience < 1:
            raise ValueError(
                "Received an invalid value for patience, expected an integer >= 1 or None. "
                f"Received: patience={patience!r}"
            )
        callbacks.append(
            tf.keras.callbacks.EarlyStopping(
                monitor=monitor, patience=patience, mode=mode, restore_best_weights=True
            )
        )
    if log_dir is not None:
        callbacks.append(tf.keras.callbacks.TensorBoard(log_dir=log_dir, write_graph=False))
    return callbacks
