"""A search killed with SIGKILL mid-way resumes: completed trials are not run again."""

from __future__ import annotations

import json
import subprocess
import time

import pandas as pd

from tests.tuning.conftest import REPO_ROOT, subprocess_env

TRIALS = 4
KILL_AFTER = 2
TIMEOUT_S = 180


def completed_trials(out) -> dict[str, float]:
    """Trial id -> score of the trials the oracle has recorded as completed."""
    done = {}
    for path in (out / "search").glob("trial_*/trial.json"):
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # Being written.
        if state["status"] == "COMPLETED":
            done[state["trial_id"]] = state["score"]
    return done


def test_killed_search_resumes_without_rerunning_completed_trials(tmp_path, tune_command):
    out = tmp_path / "search"
    argv = tune_command(out, "--max-trials", str(TRIALS))
    log = (tmp_path / "first.log").open("w")
    first = subprocess.Popen(argv, cwd=REPO_ROOT, env=subprocess_env(), stdout=log, stderr=log)
    deadline = time.monotonic() + TIMEOUT_S
    try:
        while len(completed_trials(out)) < KILL_AFTER:
            assert first.poll() is None, (tmp_path / "first.log").read_text()
            assert time.monotonic() < deadline, "the first search made no progress"
            time.sleep(0.2)
        first.kill()  # SIGKILL: no clean-up runs.
    finally:
        if first.poll() is None:
            first.kill()
        first.wait()
        log.close()
    before = completed_trials(out)
    assert KILL_AFTER <= len(before) < TRIALS
    assert not (out / "trials.csv").exists()

    second = subprocess.run(
        argv, cwd=REPO_ROOT, env=subprocess_env(), capture_output=True, text=True,
        timeout=TIMEOUT_S,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr

    table = pd.read_csv(out / "trials.csv", dtype={"trial_id": str}).set_index("trial_id")
    assert len(table) == TRIALS
    assert (table["status"] == "COMPLETED").all()
    for trial_id, score in before.items():
        # Started once (one line in runs.jsonl), and its result is the first run's.
        assert table.loc[trial_id, "runs"] == 1, trial_id
        assert table.loc[trial_id, "score"] == score
    # Only the trial that was running at the kill (if any) was started again.
    assert (table["runs"] > 1).sum() <= 1
    assert (out / "best" / "weights").exists()
