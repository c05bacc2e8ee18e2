"""`quiet_tensorflow`: TensorFlow without its start-up noise, for notebooks and scripts.

TensorFlow's C++ runtime writes its start-up lines (oneDNN, CUDA probing, CPU features)
straight to file descriptor 2 before any logging flag applies, so neither
``TF_CPP_MIN_LOG_LEVEL`` nor Python's logging can hold them back; in a Jupyter kernel they
land in the first cell's output. `quiet_tensorflow` imports TensorFlow with descriptor 2
pointed at a temporary file (replayed only when the import fails), the way the
``tfgraphtune`` command does, and sets TensorFlow's Python logger to errors only.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile

# TF-GNN 1.0.3's own GraphTensor code passes its immutable feature mappings through
# tf.nest (`graph_tensor._relax_outer_dim_if`), and TensorFlow 2.21 logs this for it on
# every first batch; nothing a user can act on.
_KNOWN_NOISE = ("Mapping types may not work well with tf.nest",)


class _DropKnownNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_KNOWN_NOISE)


def drop_known_tensorflow_warnings() -> None:
    """Drops TensorFlow's Python-side warnings about TF-GNN internals (`_KNOWN_NOISE`);
    every other TensorFlow warning still shows."""
    import tensorflow as tf

    logger = tf.get_logger()
    if not any(isinstance(f, _DropKnownNoise) for f in logger.filters):
        logger.addFilter(_DropKnownNoise())


def quiet_tensorflow(*, start_runtime: bool = True, python_warnings: bool = False):
    """Imports TensorFlow, TF-GNN and tfgraphtune quietly; returns the ``tensorflow`` module.

    The C++ start-up banner (absl lines) is written straight to file descriptor 2 before any
    logging flag applies, so stderr points at a temporary file during the import and is
    replayed only on failure.

    Args:
      start_runtime: Also start the runtime (device discovery logs lines of its own). Off in
        a multi-worker cluster, whose strategy must configure collective ops first.
      python_warnings: Keep TensorFlow's Python-side warnings (the CLI does; notebooks
        don't), except the known TF-GNN noise, which is always dropped.

    Example::

        import tfgraphtune
        tf = tfgraphtune.quiet_tensorflow()
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" not in sys.modules:
        sys.stderr.flush()
        saved = os.dup(2)
        with tempfile.TemporaryFile() as held:
            os.dup2(held.fileno(), 2)
            try:
                import tensorflow as tf
                import tensorflow_gnn  # noqa: F401

                import tfgraphtune  # noqa: F401  (selects tf_keras first)

                if start_runtime:
                    tf.constant(0)
            except BaseException:
                os.dup2(saved, 2)
                held.seek(0)
                sys.stderr.write(held.read().decode(errors="replace"))
                raise
            finally:
                os.dup2(saved, 2)
                os.close(saved)
    import tensorflow as tf

    import tfgraphtune  # noqa: F401

    if not python_warnings:
        # Python-side warnings TensorFlow logs while tracing (e.g. tf.nest's Mapping notes).
        tf.get_logger().setLevel("ERROR")
    drop_known_tensorflow_warnings()
    return tf
