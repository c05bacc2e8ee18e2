"""Bad inputs across every command: exit code 2, no traceback, a short message naming it.

The table is `tests/reliability/cases.py`. Cases marked ``subprocess`` run as real
``python -m tfgraphtune.cli.main`` processes (in threads, side by side); the others call
``main(argv)`` in this process, which runs the same parser, handlers and error boundary
without paying a TensorFlow import per case. ``TFGRAPHTUNE_BAD_INPUTS=subprocess`` runs
every case as a process (slower; what docs/reliability.md was checked with).

``TFGRAPHTUNE_RELIABILITY_DOC=PATH`` writes the table of cases and the messages they got
to PATH (how docs/reliability.md is made).
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.reliability import workspace
from tests.reliability.cases import CASES
from tests.reliability.runner import REPO_ROOT, Outcome, run_in_process, run_subprocess

pytestmark = pytest.mark.xdist_group("reliability_bad_inputs")
ALL_SUBPROCESS = os.environ.get("TFGRAPHTUNE_BAD_INPUTS") == "subprocess"
MAX_MESSAGE_CHARS = 2000  # "A few lines": never a dump of data.
PROCESSES = 2


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory, data_dir) -> dict[str, Outcome]:
    root = tmp_path_factory.mktemp("bad_inputs")
    ws = workspace.build(root / "ws", data_dir)
    as_process = [case for case in CASES if case.subprocess or ALL_SUBPROCESS]
    results = {}
    with ThreadPoolExecutor(max_workers=PROCESSES) as pool:
        futures = {case.id: pool.submit(run_subprocess, case, ws, root / case.id)
                   for case in as_process}  # fmt: skip
        # Meanwhile, the other cases here (stderr is redirected around each call).
        for case in CASES:
            if case.id not in futures:
                results[case.id] = run_in_process(case, ws, root / case.id)
        results.update({name: future.result() for name, future in futures.items()})
    doc = os.environ.get("TFGRAPHTUNE_RELIABILITY_DOC")
    if doc:
        Path(doc).write_text(doc_table(results, ws, root))
    return results


def test_enough_cases_in_every_area():
    commands = {case.command for case in CASES}
    for needed in ("validate", "finetune", "pretrain", "tune", "evaluate", "export", "run",
                   "datasets describe"):  # fmt: skip
        assert needed in commands
    assert len(CASES) >= 60
    assert len({case.id for case in CASES}) == len(CASES)
    assert sum(case.subprocess for case in CASES) >= 10


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_a_clear_error(outcomes, case):
    outcome = outcomes[case.id]
    assert outcome.code == 2, outcome.stderr
    assert "Traceback" not in outcome.stderr, outcome.stderr
    assert len(outcome.stderr) < MAX_MESSAGE_CHARS, outcome.stderr
    for text in outcome.expect:
        assert text in outcome.stderr, f"{text!r} not in {outcome.stderr!r}"


def test_docs_list_every_case():
    doc = (REPO_ROOT / "docs" / "reliability.md").read_text()
    missing = [case.id for case in CASES if f"`{case.id}`" not in doc]
    assert not missing


def doc_table(results: dict[str, Outcome], ws, root: Path) -> str:
    """The Markdown table of docs/reliability.md: case, command, input, message."""
    lines = ["| case | command | bad input | message (exit code 2) |", "|---|---|---|---|"]
    for case in CASES:
        outcome = results[case.id]
        err_lines = outcome.stderr.strip().splitlines()
        start = next((i for i, line in enumerate(err_lines) if ": error: " in line), 0)
        message = " ".join(line.strip() for line in err_lines[start:])
        message = re.sub(r"^tfgraphtune [a-z]+: error: ", "", message)
        for path, name in ((str(root / case.id), "CASE"), (str(ws.root), "WS")):
            message = message.replace(path, name)
        message = message.replace("|", "\\|")
        if len(message) > 260:
            message = message[:257] + "..."
        how = " (process)" if outcome.subprocess else ""
        lines.append(f"| `{case.id}`{how} | {case.command} | {case.what} | {message} |")
    return "\n".join(lines) + "\n"
