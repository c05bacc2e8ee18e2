"""``tune`` killed with SIGKILL in the middle of a trial and run again ends with the
uninterrupted search's trials and best run: completed trials are kept, the interrupted
one is run again from its start, and every trial trains exactly as it would have."""

from __future__ import annotations

import json
import subprocess

import pandas as pd
import pytest

from tests.reliability.crash_helpers import KILLED
from tests.tuning.conftest import REPO_ROOT, subprocess_env, tune_command  # noqa: F401

# Three Cora searches / six cluster launches: slow on a shared machine.
pytestmark = [pytest.mark.xdist_group("crash"), pytest.mark.slow]

TRIALS = 3


def _search(argv, **env):
    return subprocess.run(argv, cwd=REPO_ROOT, env=subprocess_env(**env), capture_output=True,
                          text=True, timeout=600)  # fmt: skip


def _splits(run_dir) -> dict:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return {s: metrics[s] for s in ("train", "validation", "test") if s in metrics}


def _trials(out) -> pd.DataFrame:
    table = pd.read_csv(out / "trials.csv", dtype={"trial_id": str}).set_index("trial_id")
    return table.sort_index()


def test_killed_search_ends_with_the_uninterrupted_trials(tmp_path, tune_command):  # noqa: F811
    flags = ("--max-trials", str(TRIALS))
    whole = tmp_path / "whole"
    done = _search(tune_command(whole, *flags))
    assert done.returncode == 0, done.stderr

    out = tmp_path / "killed"
    # Trials train 3 epochs each: epoch 4 of the process is the second trial's second.
    killed = _search(tune_command(out, *flags), TFGRAPHTUNE_TEST_KILL_AT="epoch:4")
    assert killed.returncode == KILLED
    assert not (out / "trials.csv").exists() and not (out / "best").exists()
    rerun = _search(tune_command(out, *flags))
    assert rerun.returncode == 0, rerun.stderr

    expected, got = _trials(whole), _trials(out)
    assert list(got.index) == list(expected.index)
    assert (got["status"] == "COMPLETED").all()
    # The same hyperparameters and the same scores, trial by trial.
    hyper = [c for c in expected.columns if c.startswith("hp:")]
    assert hyper and got[hyper].equals(expected[hyper])
    assert got["score"].tolist() == pytest.approx(expected["score"].tolist(), abs=1e-6)
    assert got["runs"].tolist().count(2) == 1  # Only the killed trial ran twice.
    # The best trial's run folder has the uninterrupted search's metrics.
    best, best0 = _splits(out / "best"), _splits(whole / "best")
    assert best.keys() == best0.keys() and "test" in best
    for split, values in best0.items():
        assert best[split] == pytest.approx(values, abs=1e-6), split
