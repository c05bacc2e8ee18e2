"""keras-tuner 1.3.5 (pinned) works with tf_keras models and leaves tf.keras alone."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.tuning.conftest import REPO_ROOT, subprocess_env

# In a fresh process: importing keras_tuner after tfgraphtune must not import Keras 3 or
# change what tf.keras is, and KerasTuner's model check must be against tf_keras's Model
# (1.4+ checks against Keras 3's and rejects tf_keras models with FatalTypeError). The
# searches in the other tests run tf_keras models through it.
SCRIPT = textwrap.dedent(
    """
    import sys
    {first}
    import tfgraphtune
    import tensorflow as tf

    before = (tf.keras.Model, tf.keras.layers.Dense, tf.keras.optimizers.Adam)
    import keras_tuner
    import tfgraphtune.tuning  # noqa: F401
    from keras_tuner.engine import tuner as tuner_module

    assert keras_tuner.__version__ == "1.3.5", keras_tuner.__version__
    assert (tf.keras.Model, tf.keras.layers.Dense, tf.keras.optimizers.Adam) == before
    assert tf.keras.Model.__module__.startswith("tf_keras."), tf.keras.Model.__module__
    assert tuner_module.keras.Model is tf.keras.Model
    assert {first!r} or "keras" not in sys.modules, "Keras 3 was imported"

    print("ok")
    """
)


@pytest.mark.parametrize(
    "first",
    [
        "",
        # TensorFlow imported (Keras 3 loaded, tf.keras untouched) before tfgraphtune: then
        # keras_tuner's `from tensorflow.keras import layers` must still find tf_keras.
        "import tensorflow",
    ],
    ids=["tfgraphtune-first", "tensorflow-first"],
)
def test_importing_keras_tuner_keeps_tf_keras(first):
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(first=first)],
        cwd=REPO_ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
