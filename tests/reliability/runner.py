"""Runs a `Case`: in this process (``main(argv)``) or as a ``tfgraphtune`` subprocess."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

from tests.reliability.cases import Case
from tests.reliability.workspace import Workspace

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclasses.dataclass
class Outcome:
    """What a case did: exit code, stderr, how it ran and how long it took."""

    case: Case
    code: int
    stderr: str
    expect: tuple[str, ...]
    subprocess: bool
    seconds: float


def prepare(case: Case, ws: Workspace, case_dir: Path) -> tuple[list[str], tuple[str, ...]]:
    """Creates the case folder, runs its setup; returns the argv and the expected texts."""
    case_dir.mkdir(parents=True, exist_ok=True)
    values = ws.placeholders(case_dir)
    if case.setup is not None:
        extra = case.setup(ws, case_dir)
        values.update(extra if isinstance(extra, dict) else {})
    argv = [part.format(**values) for part in case.argv]
    return argv, tuple(text.format(**values) for text in case.expect)


def run_subprocess(case: Case, ws: Workspace, case_dir: Path) -> Outcome:
    argv, expect = prepare(case, ws, case_dir)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "tfgraphtune.cli.main", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=case_dir,
        timeout=300,
        check=False,
    )
    return Outcome(case, done.returncode, done.stderr, expect, True, time.perf_counter() - start)


def run_in_process(case: Case, ws: Workspace, case_dir: Path) -> Outcome:
    """``main(argv)`` here; an exception escaping it counts as a traceback."""
    from tfgraphtune.cli.main import main

    argv, expect = prepare(case, ws, case_dir)
    stderr = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse
            code = exit_.code if isinstance(exit_.code, int) else 1
        except BaseException:  # noqa: BLE001  (reported as the failure it is)
            code = -1
            stderr.write(traceback.format_exc())
    return Outcome(case, code, stderr.getvalue(), expect, False, time.perf_counter() - start)
