"""A chief and two workers on 127.0.0.1 (KerasTuner's chief/worker mode) search Cora."""

from __future__ import annotations

import json
import re
import subprocess

import pandas as pd

from tests.tuning.conftest import REPO_ROOT, free_port, subprocess_env

TRIALS = 4
TIMEOUT_S = 240


def test_chief_and_two_workers_run_every_trial_exactly_once(tmp_path, tune_command):
    out = tmp_path / "search"
    port = free_port()
    base = {"KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": str(port)}
    argv = tune_command(out, "--max-trials", str(TRIALS), "--connect-timeout", "120")
    logs = {}
    processes = {}
    try:
        for tuner_id in ("chief", "worker0", "worker1"):
            extra = ["--workers", "2", "--chief-timeout", str(TIMEOUT_S)]
            logs[tuner_id] = (tmp_path / f"{tuner_id}.log").open("w+")
            processes[tuner_id] = subprocess.Popen(
                argv + (extra if tuner_id == "chief" else []),
                cwd=REPO_ROOT,
                # Three processes share the cores: one thread pool each.
                env=subprocess_env(
                    KERASTUNER_TUNER_ID=tuner_id,
                    TF_NUM_INTRAOP_THREADS="1",
                    TF_NUM_INTEROP_THREADS="1",
                    **base,
                ),
                stdout=logs[tuner_id],
                stderr=subprocess.STDOUT,
            )
        codes = {name: p.wait(timeout=TIMEOUT_S) for name, p in processes.items()}
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    output = {}
    for name, log in logs.items():
        log.seek(0)
        output[name] = log.read()
        log.close()
    assert codes == {"chief": 0, "worker0": 0, "worker1": 0}, output

    table = pd.read_csv(out / "trials.csv", dtype={"trial_id": str})
    assert len(table) == TRIALS
    assert (table["status"] == "COMPLETED").all(), table[["trial_id", "status", "message"]]
    # Exactly once: one start line per trial folder, and never on the chief.
    assert (table["runs"] == 1).all()
    assert set(table["tuner_id"]) <= {"worker0", "worker1"}
    pattern = r"tuning worker (worker\d): ran (\d+) trials, (\d+) completed"
    reported = {name: re.findall(pattern, output[name]) for name in ("worker0", "worker1")}
    assert all(len(found) == 1 for found in reported.values()), output
    assert [found[0][0] for found in reported.values()] == ["worker0", "worker1"]
    assert sum(int(found[0][2]) for found in reported.values()) == TRIALS
    ran = {name: int(found[0][1]) for name, found in reported.items() if int(found[0][1])}
    assert table["tuner_id"].value_counts().to_dict() == ran
    assert "search over, workers: worker0, worker1" in output["chief"]

    summary = json.loads((out / "search.json").read_text())
    assert summary["statuses"] == {"COMPLETED": TRIALS}
    best = summary["best_trial"]
    assert best["score"] == table["val_accuracy"].max()
    metrics = json.loads((out / "best" / "metrics.json").read_text())
    assert metrics["validation"]["accuracy"] == best["score"]
    assert metrics["tuning"]["weights"] == "restored"
