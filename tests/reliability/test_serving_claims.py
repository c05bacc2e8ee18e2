"""A request that claims 1e9 edges (and sends 40) is refused at once, without memory.

The export's per-graph caps are set far above the claim here (2e9), so only the checks
that tie claimed counts to the tensors actually sent stand between the claim and an
allocation of ~23 bytes per claimed edge (what the export did before those checks came
first). The export is served by a TensorFlow-only process of its own (see
serving_process.py for how its memory is measured).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability.workspace import build_run
from tfgraphtune.serving.exporter import export_run
from tfgraphtune.serving.guards import ServingLimits

pytestmark = pytest.mark.xdist_group("reliability_serving")
HERE = Path(__file__).resolve().parent
HUGE = 2_000_000_000  # Per-graph caps above the claim: only the count checks can refuse it.


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("claims")
    run = build_run(root)
    result = export_run(run, root / "export", limits=ServingLimits(max_nodes=HUGE, max_edges=HUGE))
    readme = (root / "export" / "README.md").read_text()
    env = {**os.environ, "PYTHONPATH": str(HERE.parents[1]), "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(
        [sys.executable, str(HERE / "serving_process.py"), str(result.version_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    return {"report": json.loads(done.stdout.strip().splitlines()[-1]), "readme": readme}


@pytest.mark.parametrize(
    "name, message",
    [
        ("examples_claim_1e9_edges", "differs from its number of edges"),
        ("examples_claim_1e9_nodes", "wrong feature width"),
        ("examples_claim_1e9_edges_twice", "differs from its number of edges"),
        ("dense_claim_1e9_edges", "num_edges exceeds the padded number of edges"),
    ],
)
def test_huge_claim_is_refused_fast_and_without_memory(served, name, message):
    result = served["report"]["bad"][name]
    assert result["rejected"]
    assert message in result["message"]
    assert result["ms"] < 100, result
    assert result["extra_mb"] < 50, result


def test_next_good_request_gets_the_same_answer(served):
    assert served["report"]["good_same"]
    assert served["report"]["good_rows"] == 10


def test_readme_states_the_bound_on_a_request(served):
    readme = served["readme"]
    assert f"at most {HUGE} nodes and {HUGE} edges" in readme
    assert f"at most {32 * HUGE} node rows per request" in readme
    assert "claimed sizes cost nothing" in readme
