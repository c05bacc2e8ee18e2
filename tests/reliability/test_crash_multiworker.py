"""A MultiWorkerMirroredStrategy run (two worker processes on 127.0.0.1, the same
``finetune`` command in each with its TF_CONFIG) killed with SIGKILL and restarted
continues from its BackupAndRestore backup and ends with the uninterrupted two-worker
run's results."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import local_worker_tf_configs
from tests.reliability.crash_helpers import (
    KILLED,
    REPO_ROOT,
    assert_same_results,
    env,
    leftovers,
    node_config,
    results,
)

# Three Cora searches / six cluster launches: slow on a shared machine.
pytestmark = [pytest.mark.xdist_group("crash"), pytest.mark.slow]


def _cluster(config, out, kill_at=None) -> list[tuple[int, str]]:
    """Runs both workers to their end; ``[(exit code, stderr)]`` of worker 0 and 1."""
    processes = []
    for tf_config in local_worker_tf_configs(2):
        extra = {"TF_CONFIG": tf_config}
        if kill_at:
            extra["TFGRAPHTUNE_TEST_KILL_AT"] = kill_at
        argv = [sys.executable, "-m", "tfgraphtune.cli.main", "finetune", "--config",
                str(config), "--out", str(out), "--set",
                "train.distribution=multi_worker"]  # fmt: skip
        processes.append(
            subprocess.Popen(
                argv,
                cwd=REPO_ROOT,
                env=env(**extra),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
        )
    try:
        return [(p.wait(timeout=300), p.stderr.read()) for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()


def test_killed_multi_worker_run_continues_from_its_backup(tmp_path):
    config = node_config(tmp_path)
    whole = tmp_path / "whole"
    finished = _cluster(config, whole)
    assert [code for code, _ in finished] == [0, 0], finished

    out = tmp_path / "run"
    killed = _cluster(config, out, kill_at="epoch:5")  # Both workers die in epoch 5.
    assert [code for code, _ in killed] == [KILLED, KILLED], killed
    assert not out.exists()
    assert (tmp_path / ".run.backup" / "state-4.json").exists()

    restarted = _cluster(config, out)
    assert [code for code, _ in restarted] == [0, 0], restarted
    for _, stderr in restarted:  # Both workers restored the chief's backup.
        assert "continuing an unfinished run at epoch 6" in stderr
    assert_same_results(results(out), results(whole))
    assert leftovers(out) == []
