"""The CLI's error boundary sorts failures: user mistakes exit 2, bugs print a traceback."""

from __future__ import annotations

import argparse
import errno

import pytest

from tfgraphtune.cli import boundary
from tfgraphtune.cli.errors import UserError
from tfgraphtune.training.config import ConfigError


def _run(error: BaseException, capsys) -> tuple[int, str]:
    def handler(args):
        raise error

    code = boundary.run_command(argparse.Namespace(command="finetune", handler=handler))
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    "error, expected",
    [
        (UserError("choose another --out"), "tfgraphtune finetune: error: choose another --out"),
        (ConfigError("config key 'train.epochs' ..."), "'train.epochs'"),
        (PermissionError(errno.EACCES, "Permission denied", "/data/x.csv"), "'/data/x.csv'"),
        (IsADirectoryError(errno.EISDIR, "Is a directory", "/runs/r"), "Is a directory"),
        (FileNotFoundError("checkpoint: backbone.json is missing"), "backbone.json is missing"),
    ],
)
def test_user_errors_exit_2_with_one_short_message(capsys, error, expected):
    code, err = _run(error, capsys)
    assert code == 2
    assert expected in err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1


def test_a_bug_prints_its_traceback_and_asks_for_a_report(capsys):
    code, err = _run(KeyError("node_set"), capsys)
    assert code == 1
    assert "Traceback" in err and "KeyError: 'node_set'" in err
    assert (
        err.strip().splitlines()[-1].startswith("tfgraphtune finetune: internal error (KeyError)")
    )
    assert "please report it" in err


def test_an_os_error_without_a_path_is_a_bug(capsys):
    code, err = _run(OSError("socket closed"), capsys)
    assert code == 1 and "Traceback" in err


def test_interrupt_exits_130_quietly(capsys):
    code, err = _run(KeyboardInterrupt(), capsys)
    assert code == 130
    assert err.strip() == "tfgraphtune finetune: interrupted"


def test_long_messages_are_cut(capsys):
    code, err = _run(UserError("x" * 50_000), capsys)
    assert code == 2
    assert len(err) < boundary.MAX_MESSAGE_CHARS + 200
    assert "more characters" in err
