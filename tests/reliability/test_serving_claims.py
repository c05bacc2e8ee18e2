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

import numpy as np
import pytest
import tensorflow as tf

from tests.reliability.serving_process import example_record
from tests.reliability.workspace import WIDTH, build_run
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
    return {
        "report": json.loads(done.stdout.strip().splitlines()[-1]),
        "readme": readme,
        "run": run,
    }


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


@pytest.fixture(scope="module")
def small_limits_export(served, tmp_path_factory):
    """The same run exported through the CLI with small per-graph and per-request limits."""
    from tfgraphtune.cli.main import main

    out = tmp_path_factory.mktemp("limits") / "export"
    limits = ["--max-nodes", "20", "--max-edges", "100", "--max-request-nodes", "30"]
    argv = ["export", str(served["run"]), "--out", str(out), *limits, "--max-request-edges", "150"]
    assert main(argv) == 0
    return tf.saved_model.load(str(out / "1")).signatures["serving_default"]


def _examples(*graphs) -> tf.Tensor:
    """tf.Examples of graphs ``(num_nodes, num_edges)`` (ring edges, random features)."""
    rng = np.random.default_rng(0)
    records = []
    for nodes, edges in graphs:
        source = np.arange(edges) % nodes
        features = rng.random((nodes, WIDTH)).astype(np.float32)
        records.append(
            example_record("item", "feat", "link", features, source, (source + 1) % nodes)
        )
    return tf.constant(records)


@pytest.mark.parametrize(
    "graphs, message",
    [
        ([(15, 40), (15, 40)], None),  # 2 x 15 = 30 node rows, 80 edges: at the limits.
        ([(20, 40), (10, 40)], "request too large: graphs x nodes of the largest graph"),
        ([(10, 60), (10, 60), (10, 60)], "request too large: more edges in total"),
        ([(21, 10)], "graph too large: node set"),
    ],
)
def test_request_wide_limits_bound_a_batch(small_limits_export, graphs, message):
    if message is None:
        assert small_limits_export(examples=_examples(*graphs))["num_nodes"].numpy().tolist() == [
            15,
            15,
        ]
        return
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        small_limits_export(examples=_examples(*graphs))
