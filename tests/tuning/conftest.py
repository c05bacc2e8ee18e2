"""Helpers for the tuning tests: the ``tfgraphtune tune`` command line as a subprocess."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = REPO_ROOT / "configs" / "cora_gcn.yaml"

# Small enough for a few seconds per trial on a shared 2-core machine.
SMALL_SPACE = (
    "tune.space={model.hidden_units: {type: choice, values: [8, 16, 32]}, "
    "train.learning_rate: {type: float, min: 0.005, max: 0.05, sampling: log}}"
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def subprocess_env(**extra: str) -> dict[str, str]:
    """This environment without KerasTuner's distribution variables, plus `extra`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("KERASTUNER_")}
    env.update({"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1", **extra})
    return env


@pytest.fixture
def tune_command(data_dir):
    """``tune_command(out, *flags)``: the argv of a small Cora search (3 epochs, small space)."""

    def command(out: Path, *flags: str) -> list[str]:
        return [
            sys.executable, "-m", "tfgraphtune.cli.main", "tune",
            "--config", str(CONFIG), "--data-dir", str(data_dir), "--out", str(out),
            "--epochs", "3", "--quiet", "--set", SMALL_SPACE, *flags,
        ]  # fmt: skip

    return command
