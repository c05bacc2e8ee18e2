"""Selects Keras 2 (tf_keras) before TensorFlow builds ``tf.keras``.

TF-GNN's GraphTensor only travels through Keras 2. On TensorFlow >= 2.16, ``tf.keras`` is
Keras 2 only when ``TF_USE_LEGACY_KERAS=1`` is set before ``tf.keras`` is first touched.
This module is imported first by ``tfgraphtune/__init__.py``.
"""

from __future__ import annotations

import os
import sys

_KERAS3_MESSAGE = (
    "tfgraphtune needs Keras 2 (the tf-keras package), but TensorFlow in this process already "
    "built tf.keras with Keras 3; import tfgraphtune before anything touches tf.keras, or start "
    "Python with TF_USE_LEGACY_KERAS=1 set."
)


class KerasVersionError(ImportError):
    """Raised when ``tf.keras`` in this process is already Keras 3."""


def select_legacy_keras() -> None:
    """Makes ``tf.keras`` resolve to tf_keras, or raises `KerasVersionError`.

    Whatever the user set for ``TF_USE_LEGACY_KERAS`` is overridden: TF-GNN cannot work
    without Keras 2. If TensorFlow was imported earlier but ``tf.keras`` was never touched,
    the lazy loader still honours the variable, so only a process that already used
    Keras 3 through ``tf.keras`` is refused.

    Raises:
      KerasVersionError: ``tf.keras`` is already Keras 3 in this process.
    """
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    if "tensorflow" not in sys.modules:
        return
    import tensorflow as tf

    if not tf.keras.layers.Layer.__module__.startswith("tf_keras"):
        raise KerasVersionError(_KERAS3_MESSAGE)


select_legacy_keras()
