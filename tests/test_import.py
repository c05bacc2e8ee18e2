"""``import tfgraphtune`` selects Keras 2 whatever TF_USE_LEGACY_KERAS says."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _run(code: str, legacy_keras: str | None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("TF_USE_LEGACY_KERAS", None)
    if legacy_keras is not None:
        env["TF_USE_LEGACY_KERAS"] = legacy_keras
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )


@pytest.mark.parametrize("legacy_keras", [None, "0", "1"], ids=["unset", "zero", "one"])
def test_import_selects_tf_keras(legacy_keras):
    code = (
        "import tfgraphtune, tensorflow as tf, tensorflow_gnn\n"
        "print(tf.keras.layers.Layer.__module__)"
    )
    result = _run(code, legacy_keras)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("tf_keras")


def test_tensorflow_imported_first_but_keras_untouched_still_works():
    result = _run("import tensorflow\nimport tfgraphtune\nimport tensorflow_gnn", "0")
    assert result.returncode == 0, result.stderr


def test_keras3_already_built_gives_one_clear_sentence():
    result = _run("import tensorflow as tf\ntf.keras.layers.Dense\nimport tfgraphtune", "0")
    assert result.returncode != 0
    assert "KerasVersionError: tfgraphtune needs Keras 2 (the tf-keras package)" in result.stderr


def test_public_names_resolve():
    import tfgraphtune

    for name in tfgraphtune.__all__:
        assert getattr(tfgraphtune, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        tfgraphtune.nope  # noqa: B018
