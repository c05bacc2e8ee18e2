"""``tfgraphtune validate``: exit codes, summary and error messages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tfgraphtune.cli import main as cli_main

REPO_ROOT = Path(__file__).resolve().parents[2]

SCHEMA = """
node_sets {
  key: "paper"
  value {
    features { key: "feat" value { dtype: DT_FLOAT shape { dim { size: 2 } } } }
    features { key: "label" value { dtype: DT_INT64 } }
  }
}
edge_sets { key: "cites" value { source: "paper" target: "paper" } }
"""


@pytest.fixture(autouse=True)
def _only_validate(monkeypatch):
    # Register just this subcommand so these tests do not depend on the others.
    monkeypatch.setattr(cli_main, "_SUBCOMMANDS", ("validate",))


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    """Papers p0, p1, p2 (feat.0, feat.1, label); edges p0->p1, p1->p1 (loop), p2->p9 (dangling)."""
    paths = {"schema": tmp_path / "tiny.pbtxt", "nodes": tmp_path / "papers.csv"}
    paths["schema"].write_text(SCHEMA)
    pd.DataFrame(
        {
            "id": ["p0", "p1", "p2"],
            "feat.0": [1.0, 0.0, 2.0],
            "feat.1": [0.0, 1.0, 2.0],
            "label": [0, 1, 1],
        }
    ).to_csv(paths["nodes"], index=False)
    for name, pairs in {
        "edges": [("p0", "p1")],
        "dirty": [("p0", "p1"), ("p1", "p1"), ("p2", "p9")],
    }.items():
        paths[name] = tmp_path / f"{name}.parquet"
        pd.DataFrame(pairs, columns=["source", "target"]).to_parquet(paths[name], index=False)
    return paths


def _argv(files, edges="edges", *extra) -> list[str]:
    return [
        "validate",
        "--schema",
        str(files["schema"]),
        "--nodes",
        f"paper={files['nodes']}",
        "--edges",
        f"cites={files[edges]}",
        *extra,
    ]


def test_valid_data_exits_0_with_summary(files, capsys):
    assert cli_main.main(_argv(files)) == 0
    out = capsys.readouterr().out
    assert "node set paper: 3 rows; features: feat[2] float32, label[] int64" in out
    assert "edge set cites: 1 rows; features: -" in out


def test_cleaning_report_is_printed(files, capsys):
    argv = _argv(
        files, "dirty", "--clean", "drop-self-loops", "drop-dangling-edges", "make-undirected"
    )
    assert cli_main.main(argv) == 0
    out = capsys.readouterr().out
    # Loop p1->p1 and dangling p2->p9 go; p0->p1 gains its reverse: 2 edges.
    assert "edge set cites: 2 rows" in out
    assert "total: 2 removed, 1 added, 0 changed" in out
    assert "DropDanglingEdges()" in out


def test_invalid_data_exits_2_with_message(files, capsys):
    assert cli_main.main(_argv(files, "dirty")) == 2
    err = capsys.readouterr().err
    assert err.startswith("tfgraphtune validate: error: Edge set 'cites' has 1 dangling edges")
    assert "--clean drop-dangling-edges" in err
    assert "Traceback" not in err


def test_missing_table_file_exits_2(files, capsys):
    argv = _argv(files)
    argv[argv.index("--nodes") + 1] = "paper=absent.csv"
    assert cli_main.main(argv) == 2
    assert "Table file 'absent.csv' does not exist" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (["--nodes", "papers.csv"], "expected SET=PATH"),
        (["--clean", "drop-everything"], "invalid choice: 'drop-everything'"),
    ],
    ids=["nodes-without-set", "unknown-step"],
)
def test_bad_arguments_exit_2(files, capsys, bad, message):
    with pytest.raises(SystemExit) as info:
        cli_main.main([*_argv(files), *bad])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def _run(args: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=120
    )


def test_subprocess_error_has_no_traceback(files):
    # Same entry point as the console script, with only this subcommand registered.
    code = (
        "import sys; from tfgraphtune.cli import main as m; "
        "m._SUBCOMMANDS = ('validate',); sys.exit(m.main(sys.argv[1:]))"
    )
    result = _run(["-c", code, *_argv(files, "dirty")])
    assert result.returncode == 2
    assert "dangling edges" in result.stderr
    assert "Traceback" not in result.stderr


def test_python_m_entry_point_error_has_no_traceback(files):
    result = _run(["-m", "tfgraphtune.cli.main", *_argv(files, "dirty")])
    assert result.returncode == 2
    assert "dangling edges" in result.stderr
    assert "Traceback" not in result.stderr
