"""The pieces of crash safety, in-process: the folder lock, cleaning after dead writers,
atomic no-follow writes, and which backup a rerun may continue."""

from __future__ import annotations

import os
import subprocess

import pytest

from tfgraphtune.training import backup
from tfgraphtune.training.staging import (
    FolderLock,
    FolderLockedError,
    OutputFolderError,
    StagedFolder,
    remove_stale,
    write_file_atomic,
)

pytestmark = pytest.mark.xdist_group("crash")


def dead_pid() -> int:
    """The pid of a process that has exited."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_the_lock_admits_one_writer_and_names_it(tmp_path):
    out = tmp_path / "run"
    first = FolderLock(out, what="run folder")
    assert (tmp_path / ".run.lock").read_text() == str(os.getpid())
    with pytest.raises(FolderLockedError, match=f"being written by process {os.getpid()}"):
        FolderLock(out, what="run folder")
    with pytest.raises(FolderLockedError):
        StagedFolder(out, what="run folder")  # Fails before creating anything.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".run.lock"]
    first.release()
    assert not (tmp_path / ".run.lock").exists()
    FolderLock(out, what="run folder").release()  # Free again.


def test_dead_writers_leftovers_are_cleaned_and_an_old_run_put_back(tmp_path):
    out = tmp_path / "run"
    pid = dead_pid()
    (tmp_path / f".run.tmp-{pid}-aaaa").mkdir()  # A dead writer's staging folder.
    (tmp_path / f".run.old-{pid}-bbbb").mkdir()  # Its old run, moved aside.
    (tmp_path / f".run.old-{pid}-bbbb" / "run.json").write_text("{}")
    alive = tmp_path / f".run.tmp-{os.getppid()}-cccc"  # A live writer's: kept.
    alive.mkdir()
    remove_stale(out)
    assert (out / "run.json").exists()  # The old run is back where it was.
    assert sorted(p.name for p in tmp_path.iterdir()) == [alive.name, "run"]


def test_a_writer_removes_an_old_leftover_when_the_run_is_there(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "run.json").write_text("new")
    (tmp_path / f".run.old-{dead_pid()}-x").mkdir()  # Older than the run in place.
    with pytest.raises(OutputFolderError, match="is a finished run folder"):
        StagedFolder(out, what="run folder", marker="run.json")  # Touches nothing.
    staged = StagedFolder(out, overwrite=True, what="run folder", marker="run.json")
    assert (out / "run.json").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".run.lock", staged.path.name, "run"]
    staged.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_atomic_writes_replace_a_symlink_instead_of_following_it(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep")
    link = tmp_path / "evaluation.json"
    link.symlink_to(victim)
    write_file_atomic(link, "{}")
    assert victim.read_text() == "keep"
    assert not link.is_symlink() and link.read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evaluation.json", "victim"]


def test_a_backup_continues_only_for_the_same_config(tmp_path):
    config = {"train": {"learning_rate": 0.01, "verbose": 0, "epochs": 5}, "data": {}}
    folder = tmp_path / ".run.backup"
    assert not backup.prepare_backup(folder, config, overwrite=False, writer=True, what="run")
    # Presentation-only keys may change; the rerun continues.
    quiet = {**config, "train": {**config["train"], "verbose": 2}}
    assert backup.prepare_backup(folder, quiet, overwrite=False, writer=True, what="run")
    other = {**config, "train": {**config["train"], "epochs": 6}}
    with pytest.raises(OutputFolderError, match="differs in train.epochs"):
        backup.prepare_backup(folder, other, overwrite=False, writer=True, what="run")
    assert not backup.prepare_backup(folder, other, overwrite=True, writer=True, what="run")
    assert backup.prepare_backup(folder, other, overwrite=False, writer=True, what="run")
