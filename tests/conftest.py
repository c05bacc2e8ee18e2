"""Shared fixtures: seeded randomness and the local copy of the real data sets."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

import tfgraphtune  # noqa: F401  (selects tf_keras before TensorFlow is imported)

REPO_ROOT = Path(__file__).resolve().parent.parent

# The suite runs as two processes on two cores (pytest-xdist); the graphs in tests are
# small, so each process's kernels run on one thread instead of fighting for both cores.
tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)


@pytest.fixture(autouse=True)
def _seed_everything():
    random.seed(0)
    np.random.seed(0)
    tf.random.set_seed(0)
    tf.keras.utils.set_random_seed(0)
    yield


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder with the real data sets (``TFGRAPHTUNE_DATA_DIR``, else ../shared/data)."""
    path = Path(os.environ.get("TFGRAPHTUNE_DATA_DIR", REPO_ROOT.parent / "shared" / "data"))
    if not path.is_absolute():
        path = (REPO_ROOT / path).resolve()
    if not (path / "planetoid").is_dir():
        pytest.fail(f"real data not found at {path}; set TFGRAPHTUNE_DATA_DIR")
    return path
