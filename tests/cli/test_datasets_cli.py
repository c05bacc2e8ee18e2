"""``tfgraphtune datasets``: the counts a user reads, and clean errors."""

from __future__ import annotations

import subprocess
import sys

from tfgraphtune.cli.main import main


def test_describe_cora(data_dir, capsys):
    assert main(["datasets", "describe", "cora", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    for expected in ("2708", "10556", "1433", "classes: 7", "140/500/1000"):
        assert expected in out


def test_describe_mutag_json(data_dir, capsys):
    assert main(["datasets", "describe", "mutag", "--json", "--data-dir", str(data_dir)]) == 0
    assert '"graphs": 188' in capsys.readouterr().out


def test_unknown_dataset_exits_2_without_traceback(data_dir):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tfgraphtune.cli.main",
            "datasets",
            "describe",
            "nope",
            "--data-dir",
            str(data_dir),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "unknown data set 'nope'" in result.stderr
    assert "Traceback" not in result.stderr
