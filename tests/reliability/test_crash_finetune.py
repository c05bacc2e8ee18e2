"""``finetune`` killed with SIGKILL (mid-epoch, while saving, mid-commit) and run again
continues from its backup and ends with the uninterrupted run's results; a finished run
is never silently overwritten; a second writer of the same folder fails at once."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.reliability.crash_helpers import (
    KILLED,
    REPO_ROOT,
    assert_same_results,
    cli,
    env,
    graph_config,
    leftovers,
    node_config,
    results,
)
from tfgraphtune.cli.main import main

pytestmark = pytest.mark.xdist_group("crash")


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """The node config and its uninterrupted run (a finished run folder)."""
    root = tmp_path_factory.mktemp("crash_node")
    config = node_config(root)
    out = root / "uninterrupted"
    done = cli("finetune", "--config", config, "--out", out)
    assert done.returncode == 0, done.stderr
    return config, results(out), out


def test_sigkill_mid_epoch_continues_to_the_uninterrupted_results(node, tmp_path):
    config, expected, _ = node
    out = tmp_path / "run"
    killed = cli("finetune", "--config", config, "--out", out, kill_at="epoch:6")
    assert killed.returncode == KILLED
    assert not out.exists()  # Nothing half-written where the run goes.
    backup = tmp_path / ".run.backup"
    # Epochs 0-5 were backed up; the kill came after epoch 6's first step.
    assert sorted(p.name for p in backup.glob("state-*.json")) == ["state-5.json"]

    rerun = cli("finetune", "--config", config, "--out", out)
    assert rerun.returncode == 0, rerun.stderr
    assert "continuing an unfinished run at epoch 7" in rerun.stderr
    assert_same_results(results(out), expected)
    assert leftovers(out) == []  # Backup, staging folder and lock gone.


def test_sigkill_while_saving_or_committing_never_leaves_a_mixed_folder(node, tmp_path):
    config, expected, _ = node
    out = tmp_path / "run"
    # A finished run of another config sits in OUT; the new one replaces it (--overwrite).
    assert main(["finetune", "--config", str(config), "--out", str(out), "--epochs", "3"]) == 0
    old = results(out)
    assert old["epochs_run"] == 3

    saving = cli("finetune", "--config", config, "--out", out, "--overwrite", kill_at="save")
    assert saving.returncode == KILLED
    # OUT is still the old run, whole: its config, weights and metrics agree.
    assert_same_results(results(out), old)
    assert "epochs: 3" in (out / "config.yaml").read_text()
    reevaluated = cli("evaluate", out, "--json")
    assert reevaluated.returncode == 0, reevaluated.stderr
    metrics = json.loads(reevaluated.stdout)
    assert metrics["test"] == pytest.approx(old["splits"]["test"], abs=1e-6)

    # Killed between moving the old run aside and renaming the new one in.
    committing = cli("finetune", "--config", config, "--out", out, "--overwrite", kill_at="commit")
    assert committing.returncode == KILLED
    assert "training had finished" in committing.stderr  # It did not train again.
    assert not out.exists()

    rerun = cli("finetune", "--config", config, "--out", out, "--overwrite")
    assert rerun.returncode == 0, rerun.stderr
    assert_same_results(results(out), expected)
    assert leftovers(out) == []


def test_a_finished_run_is_never_silently_overwritten(node, capsys):
    config, _, out = node
    before = (out / "metrics.json").read_text()
    assert main(["finetune", "--config", str(config), "--out", str(out)]) == 2
    message = capsys.readouterr().err
    assert "is a finished run folder" in message and "--overwrite" in message
    assert (out / "metrics.json").read_text() == before
    assert leftovers(out) == []


def test_a_backup_of_another_config_is_not_continued(node, tmp_path, capsys):
    config, _, _ = node
    out = tmp_path / "run"
    killed = cli("finetune", "--config", config, "--out", out, kill_at="epoch:3")
    assert killed.returncode == KILLED
    other = ["finetune", "--config", str(config), "--out", str(out),
             "--set", "train.learning_rate=0.02"]  # fmt: skip
    assert main(other) == 2
    message = capsys.readouterr().err
    assert "unfinished run with another config" in message
    assert "train.learning_rate" in message and "--overwrite" in message
    assert main([*other, "--overwrite"]) == 0  # Discards the backup, starts afresh.
    assert "continuing" not in capsys.readouterr().err
    assert leftovers(out) == []


def test_a_second_writer_fails_at_once(node, tmp_path):
    from tfgraphtune.training.staging import FolderLock

    config, _, _ = node
    out = tmp_path / "run"
    lock = FolderLock(out, what="run folder")  # This process is writing OUT.
    try:
        start = time.monotonic()
        second = cli("finetune", "--config", config, "--out", out)
        assert second.returncode == 2
        assert f"is being written by process {__import__('os').getpid()}" in second.stderr
        assert "Traceback" not in second.stderr
        assert not out.exists() and leftovers(out) == [".run.lock"]
        assert time.monotonic() - start < 60  # Before any data or training.
    finally:
        lock.release()


def test_two_writers_at_once_one_run_wins_whole(node, tmp_path):
    config, expected, _ = node
    out = tmp_path / "run"
    argv = [sys.executable, "-m", "tfgraphtune.cli.main", "finetune", "--config", str(config),
            "--out", str(out)]  # fmt: skip
    writers = [
        subprocess.Popen(argv, cwd=REPO_ROOT, env=env(), stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outcomes = [(w.wait(timeout=300), w.stderr.read()) for w in writers]
    codes = sorted(code for code, _ in outcomes)
    assert codes == [0, 2], outcomes
    loser = next(err for code, err in outcomes if code == 2)
    # Overlapping: the lock; one after the other: the finished folder. Never both runs.
    assert "is being written by process" in loser or "is a finished run folder" in loser
    assert_same_results(results(out), expected)
    assert leftovers(out) == []


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    root = tmp_path_factory.mktemp("crash_graph")
    config = graph_config(root)
    out = root / "uninterrupted"
    done = cli("finetune", "--config", config, "--out", out)
    assert done.returncode == 0, done.stderr
    return config, results(out)


def test_graph_batches_continue_in_the_same_order(graph, tmp_path):
    config, expected = graph
    out = tmp_path / "run"
    # Mid-epoch: after the second of three reshuffled batches of epoch 4.
    killed = cli("finetune", "--config", config, "--out", out, kill_at="epoch:4:batch:1")
    assert killed.returncode == KILLED
    rerun = cli("finetune", "--config", config, "--out", out)
    assert rerun.returncode == 0, rerun.stderr
    assert "continuing an unfinished run at epoch 5" in rerun.stderr
    assert_same_results(results(out), expected)
