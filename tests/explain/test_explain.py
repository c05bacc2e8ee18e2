"""Explanations on a graph whose label is planted in one feature of one neighbour."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.explain.planted import PLANTED_FEATURE, write_planted
from tfgraphtune.cli.main import main
from tfgraphtune.explain import explain_run

EXPLAINED = range(4)  # Centers 0 (label 1), 1 (label 0), 2, 3.


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("planted")
    facts = write_planted(folder)
    assert main(["finetune", "--config", str(facts["config"])]) == 0
    metrics = json.loads((folder / "run" / "metrics.json").read_text())
    assert metrics["validation"]["accuracy"] == 1.0  # The model found the planted signal.
    return {**facts, "run": folder / "run"}


@pytest.mark.parametrize("method", ["ig", "gnnexplainer"])
def test_planted_feature_and_edge_rank_first(planted, method):
    for node in EXPLAINED:
        explanation = explain_run(planted["run"], node=node, method=method)
        assert explanation.output == planted["labels"][node]
        assert explanation.top_features(1)[0][0] == PLANTED_FEATURE
        _, source, target, _ = explanation.top_edges(1)[0]
        assert (source, target) == (planted["informative"][node], node)


def test_ig_completeness(planted):
    # Tolerance: 1% of |f(x) - f(baseline)|; the trapezoid rule over 128 steps of a
    # piecewise-linear (ReLU) model measured errors of 0.01-0.2% here.
    for node in EXPLAINED:
        e = explain_run(planted["run"], node=node, method="ig", steps=128)
        d = e.details
        difference = d["score"] - d["baseline_score"]
        assert d["score"] == pytest.approx(float(e.prediction[e.output]), rel=1e-5)
        total = e.feature_importance.sum() + e.edge_importance.sum()
        assert total == pytest.approx(difference, rel=0.01)
        assert d["completeness_error"] <= 0.01 * abs(difference)


def test_ig_only_edges_that_reach_the_node(planted):
    e = explain_run(planted["run"], node=0, method="ig")
    # One GCN layer: only the three in-edges of node 0 can matter.
    assert set(np.flatnonzero(e.edge_importance)) <= set(np.flatnonzero(e.target == 0))
    assert len(e.top_edges(10)) == 3


def test_cli_table_json_and_picture(planted, tmp_path, capsys):
    out = tmp_path / "explained"
    code = main(["explain", str(planted["run"]), "--node", "1", "--json", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    result = json.loads(printed[: printed.rindex("}") + 1])
    assert result["top_features"][0]["feature"] == PLANTED_FEATURE
    assert result["top_edges"][0]["source"] == planted["informative"][1]
    assert result["top_edges"][0]["target"] == 1
    assert json.loads((out / "explanation.json").read_text()) == result
    png = (out / "explanation.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert main(["explain", str(planted["run"]), "--node", "0", "--method", "gnnexplainer"]) == 0
    table = capsys.readouterr().out
    assert "rank   feature          mask" in table
    assert (planted["run"] / "explanations" / "node-0-gnnexplainer" / "explanation.png").exists()


def test_cli_user_mistakes_exit_2(planted, capsys):
    assert main(["explain", str(planted["run"]), "--node", "240"]) == 2
    assert "node 240 is not in the run's graph" in capsys.readouterr().err
    assert main(["explain", str(planted["run"]), "--node", "-1"]) == 2
    assert main(["explain", str(planted["run"]), "--graph", "0"]) == 2
    assert "pass --node ID" in capsys.readouterr().err
    assert main(["explain", str(planted["run"]), "--node", "0", "--steps", "0"]) == 2
    with pytest.raises(SystemExit) as exit_info:  # Neither --node nor --graph: argparse.
        main(["explain", str(planted["run"])])
    assert exit_info.value.code == 2


def test_graph_task_explained(tmp_path, data_dir, capsys):
    out = tmp_path / "mutag"
    code = main([
        "finetune", "--config", "configs/mutag_gin.yaml", "--epochs", "2", "--out", str(out),
        "--data-dir", str(data_dir), "--set", "model.hidden_units=16",
    ])  # fmt: skip
    assert code == 0
    assert main(["explain", str(out), "--graph", "5", "--json"]) == 0
    printed = capsys.readouterr().out
    result = json.loads(
        printed[printed.index("{", printed.index("run folder")) : printed.rindex("}") + 1]
    )
    assert result["kind"] == "graph" and result["index"] == 5
    assert (
        result["details"]["completeness_error"]
        <= 0.01 * abs(result["details"]["score"] - result["details"]["baseline_score"]) + 1e-4
    )
    assert len(result["top_edges"]) == 10
    assert main(["explain", str(out), "--graph", "188"]) == 2
    assert "graph 188 is not in" in capsys.readouterr().err
