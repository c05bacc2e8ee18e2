"""Test-only hooks that make a process kill itself at a chosen point (crash-safety tests).

``TFGRAPHTUNE_TEST_KILL_AT`` names the point; the process sends itself SIGKILL there, so
no ``finally`` block, ``atexit`` handler or Keras callback runs, exactly as when the
machine loses power or the kernel's OOM killer strikes. Not for users: the crash tests
(tests/reliability/test_crash_*.py) set it in a child process.

* ``epoch:N``: the N-th training epoch of this process (counted from 0 over every ``fit``
  in the process, e.g. over tuning trials) after its first batch: mid-epoch, the weights
  updated but the epoch neither finished nor backed up. ``epoch:N:batch:M`` after batch M.
* ``save``: while a run folder or pre-trained checkpoint is being written (weights
  written, the rest not).
* ``commit``: between moving an old run folder aside and renaming the new one in.
* ``export``: with an export version written to its staging folder, before the rename.
"""

from __future__ import annotations

import os
import signal
import time

import tensorflow as tf

ENV = "TFGRAPHTUNE_TEST_KILL_AT"


def _target() -> str:
    return os.environ.get(ENV, "")


def kill_point(name: str) -> None:
    """SIGKILLs this process when ``TFGRAPHTUNE_TEST_KILL_AT`` is `name`."""
    if _target() == name:
        os.kill(os.getpid(), signal.SIGKILL)


class KillAtEpoch(tf.keras.callbacks.Callback):
    """Kills the process at ``epoch:N[:batch:M]`` (see the module docstring)."""

    _epochs_seen = 0  # Over every fit of the process.

    def __init__(self, epoch: int, batch: int = 0):
        super().__init__()
        self.epoch, self.batch = epoch, batch
        self._current = -1

    def on_epoch_begin(self, epoch, logs=None):
        self._current = KillAtEpoch._epochs_seen
        KillAtEpoch._epochs_seen += 1

    def on_train_batch_end(self, batch, logs=None):
        if self._current == self.epoch and batch == self.batch:
            if os.environ.get("TF_CONFIG"):
                # Every worker of the cluster dies at this step. The first to get here
                # waits until the others have finished the step's all-reduce, which may
                # still read from it; killed at once, it could make a peer fail with an
                # error before reaching its own kill point (seen once in six runs).
                time.sleep(2.0)
            os.kill(os.getpid(), signal.SIGKILL)


def kill_callbacks() -> list[tf.keras.callbacks.Callback]:
    """The kill callback ``TFGRAPHTUNE_TEST_KILL_AT`` asks for (none when unset)."""
    parts = _target().split(":")
    if len(parts) not in (2, 4) or parts[0] != "epoch":
        return []
    batch = int(parts[3]) if len(parts) == 4 and parts[2] == "batch" else 0
    return [KillAtEpoch(int(parts[1]), batch)]
