"""``tfgraphtune --help`` and every ``<sub> --help`` answer in under a second.

Parsing imports no TensorFlow, numpy or pandas: each subcommand module imports what it
needs inside its handler. The bound is the issue's (a user waiting for help), measured in
a fresh process as the user runs it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tfgraphtune.cli.main import _SUBCOMMANDS

HEAVY = ("tensorflow", "numpy", "pandas", "tensorflow_gnn", "matplotlib", "sklearn")


def _help(*args: str) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "tfgraphtune.cli.main", *args, "--help"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=60,
        check=False,
    )
    return time.perf_counter() - start, result


@pytest.mark.parametrize("command", [None, *_SUBCOMMANDS])
def test_help_under_a_second(command):
    args = () if command is None else (command,)
    elapsed, result = _help(*args)
    assert result.returncode == 0, result.stderr
    assert "usage: tfgraphtune" in result.stdout
    assert elapsed < 1.0, f"tfgraphtune {' '.join(args)} --help took {elapsed:.2f}s"


def test_parsing_imports_nothing_heavy():
    code = (
        "import sys\n"
        "from tfgraphtune.cli.main import build_parser\n"
        "build_parser()\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=os.environ.copy(), timeout=60, check=True)  # fmt: skip
    assert result.stdout.strip() == "[]"
