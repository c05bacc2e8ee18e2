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
    _route_submodule_imports_to_tf_keras(tf)


def _route_submodule_imports_to_tf_keras(tf) -> None:
    """Makes ``import tensorflow.keras.X`` find tf_keras, as ``tf.keras`` does.

    TensorFlow puts Keras's folder on ``tensorflow.__path__`` when it is imported, by the
    variable's value then. Imported before it was set, a later ``from tensorflow.keras
    import layers`` (keras_tuner does this) would load Keras 3 and replace ``tf.keras``
    with it. TensorFlow itself puts tf_keras's folder first when the variable is set.
    """
    import importlib.util

    spec = importlib.util.find_spec("tf_keras.api._v2.keras")
    if spec is None or not spec.submodule_search_locations:
        return
    legacy_dir = os.path.dirname(list(spec.submodule_search_locations)[0])
    if list(tf.__path__)[:1] != [legacy_dir]:
        tf.__path__ = [legacy_dir, *tf.__path__]


select_legacy_keras()
