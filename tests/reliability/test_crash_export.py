"""Exports and evaluations under crashes and concurrency: a killed export leaves no
version and its staging folder is cleaned; an export whose number was taken takes the
next; version folders are readable by other users; evaluate never writes through a
symlink planted in a run folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.end_to_end.conftest import _node_tables, make_config
from tests.reliability.crash_helpers import KILLED, REPO_ROOT, cli, env
from tfgraphtune.cli.main import main
from tfgraphtune.serving import exporter
from tfgraphtune.training import test_hooks
from tfgraphtune.training.train import train

pytestmark = pytest.mark.xdist_group("crash")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("crash_export")
    config = make_config("node_classification", _node_tables(root), root / "run",
                         train={"epochs": 2})  # fmt: skip
    train(config)
    return root / "run"


def _versions(base: Path) -> list[str]:
    return sorted(p.name for p in base.iterdir() if p.name.isdigit())


def _temps(base: Path) -> list[str]:
    return sorted(p.name for p in base.iterdir() if p.name.startswith(".tmp-"))


def test_killed_export_leaves_no_version_and_the_next_export_cleans_up(run_dir, tmp_path):
    base = tmp_path / "export"
    killed = cli("export", run_dir, "--out", base, kill_at="export")
    assert killed.returncode == KILLED
    assert _versions(base) == []  # A server sees no half version.
    assert len(_temps(base)) == 1  # The dead export's staging folder.
    result = exporter.export_run(run_dir, base)
    assert result.version == 1
    assert _temps(base) == []


def test_an_export_whose_number_was_taken_takes_the_next(run_dir, tmp_path, monkeypatch):
    base = tmp_path / "export"
    real_kill_point = test_hooks.kill_point

    def another_export_finishes_first(name):
        if name == "export" and not (base / "1").exists():
            (base / "1").mkdir()
            (base / "1" / "saved_model.pb").write_bytes(b"the other export's model")
        real_kill_point(name)

    monkeypatch.setattr(test_hooks, "kill_point", another_export_finishes_first)
    result = exporter.export_run(run_dir, base)
    assert result.version == 2
    assert (base / "1" / "saved_model.pb").read_bytes() == b"the other export's model"
    info = json.loads((base / "2" / "assets.extra" / exporter.METADATA_FILE).read_text())
    assert info["version"] == 2
    assert _temps(base) == []
    # A version asked for by number is never overwritten: the export fails instead.
    shutil.rmtree(base / "2")
    (base / "1").rename(base / "keep")
    with pytest.raises(FileExistsError, match="version 1 appeared"):
        exporter.export_run(run_dir, base, version=1)
    assert _temps(base) == []


def test_two_exports_at_once_get_two_versions(run_dir, tmp_path):
    base = tmp_path / "export"
    argv = [sys.executable, "-m", "tfgraphtune.cli.main", "export", str(run_dir), "--out",
            str(base), "--json"]  # fmt: skip
    processes = [
        subprocess.Popen(
            argv,
            cwd=REPO_ROOT,
            env=env(),
            stdout=subprocess.PIPE,
            text=True,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    versions = sorted(json.loads(out.split("\nserve it")[0])["version"] for out, _ in outputs)
    assert versions == [1, 2]
    assert _versions(base) == ["1", "2"] and _temps(base) == []
    for version in ("1", "2"):
        assert (base / version / "saved_model.pb").exists()


def test_version_folders_are_readable_by_other_users(run_dir, tmp_path):
    previous = os.umask(0o022)
    try:
        result = exporter.export_run(run_dir, tmp_path / "export")
    finally:
        os.umask(previous)
    for folder, _, files in os.walk(result.version_dir):
        assert os.stat(folder).st_mode & 0o777 == 0o755, folder
        for name in files:
            assert os.stat(Path(folder) / name).st_mode & 0o044 == 0o044, name


def test_evaluate_never_writes_through_a_planted_symlink(run_dir, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    victim = tmp_path / "victim.txt"
    victim.write_text("not yours")
    (run / "evaluation.json").symlink_to(victim)
    dangling = tmp_path / "elsewhere" / "created.json"
    assert main(["evaluate", str(run)]) == 0
    assert victim.read_text() == "not yours"
    assert not (run / "evaluation.json").is_symlink()
    assert "test" in json.loads((run / "evaluation.json").read_text())
    # A dangling link: nothing is created where it points.
    (run / "evaluation.json").unlink()
    dangling.parent.mkdir()
    (run / "evaluation.json").symlink_to(dangling)
    assert main(["evaluate", str(run)]) == 0
    assert not dangling.exists()
