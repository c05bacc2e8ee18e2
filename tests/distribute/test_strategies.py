"""Every task kind under tf.distribute: no strategy, MirroredStrategy over two logical CPUs,
MultiWorkerMirroredStrategy with two worker processes on 127.0.0.1.

Each distribution trains in its own process (logical devices and TF_CONFIG are fixed when
TensorFlow starts). Replicas and workers must end with identical weights, and the metrics
must match the one-replica run: the inputs are sharded so the replicas' summed gradients
equal the one-replica gradient (full-batch node tasks weight each replica's share of the
nodes by the number of replicas; graph batches are cut into per-replica halves of the
same permutation; link prediction reconstructs the whole adjacency on every replica), and
dropout is off, so the runs differ only by floating-point summation order (all-reduce
adds the replicas' gradients in another order).

Tolerances, from measurements of these runs: weights within 1e-3 relative (measured
at most 8e-5; a gradient doubled or halved by a wrong loss scaling moves them by far more
within 5 epochs at learning rate 0.01), metrics within 0.01 absolute (measured: equal but
for one ROC-AUC of 0.735 vs 0.74, a near-tie between two of the 20 test nodes' scores
swapping order: half a pair of the 10 x 10).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.end_to_end.conftest import _graph_tables, _node_tables, make_config
from tests.helpers import local_worker_tf_configs

HERE = Path(__file__).resolve().parent
METRIC_TOLERANCE = 0.01
WEIGHT_TOLERANCE = 1e-3


def _configs(root: Path) -> dict:
    node, graphs = _node_tables(root), _graph_tables(root)
    common = {"dropout": 0.0, "head_dropout": 0.0}

    def config(task, data, **train):
        made = make_config(task, data, root / task, model=common, train={"epochs": 5, **train})
        return json.loads(json.dumps(made))  # Plain JSON for the child processes.

    with_target = {**node, "tables": {**node["tables"], "label": "target"}}
    graph_target = {**graphs, "tables": {**graphs["tables"], "label": "target"}}
    return {
        "node_classification": config("node_classification", node),
        "node_regression": config("node_regression", with_target),
        "graph_classification": config("graph_classification", graphs, batch_size=8),
        "graph_regression": config("graph_regression", graph_target, batch_size=8),
        "link_prediction": config("link_prediction", node, negatives_per_positive="all"),
    }


def _run(mode: str, configs: Path, out: Path, env=None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(HERE / "driver.py"), mode, str(configs), str(out)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen, out: Path) -> dict:
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-3000:]
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, list[dict]]:
    root = tmp_path_factory.mktemp("distribute")
    configs = root / "configs.json"
    configs.write_text(json.dumps(_configs(root)))
    single = _run("none", configs, root / "none.json")
    mirrored = _run("mirrored", configs, root / "mirrored.json")
    workers = [
        _run("multi_worker", configs, root / f"worker{index}.json", {"TF_CONFIG": tf_config})
        for index, tf_config in enumerate(local_worker_tf_configs(2))
    ]
    return {
        "none": [_finish(single, root / "none.json")],
        "mirrored": [_finish(mirrored, root / "mirrored.json")],
        "multi_worker": [_finish(w, root / f"worker{i}.json") for i, w in enumerate(workers)],
    }


TASKS = [
    "node_classification",
    "node_regression",
    "graph_classification",
    "graph_regression",
    "link_prediction",
]


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("mode", ["mirrored", "multi_worker"])
def test_distributed_training_matches_one_replica(runs, mode, task):
    baseline = runs["none"][0][task]
    assert baseline["replicas"] == 1
    reports = [report[task] for report in runs[mode]]
    for report in reports:
        assert report["replicas"] == 2
        assert report["replicas_agree"]
        assert report["weights"] == pytest.approx(baseline["weights"], rel=WEIGHT_TOLERANCE)
        for split, values in baseline["metrics"].items():
            for name, value in values.items():
                got = report["metrics"][split][name]
                assert got == pytest.approx(value, abs=METRIC_TOLERANCE), (split, name)
    if mode == "multi_worker":
        # Both workers end with the same weights.
        assert reports[0]["weights"] == pytest.approx(reports[1]["weights"], rel=1e-6)
