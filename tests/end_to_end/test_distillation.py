"""A distilled student's run folder works like any run: evaluate, export, TF-only serving.

The MLP student's export also answers single nodes from their features alone
(``predict_features``), with what the Keras model computes on the whole graph.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.end_to_end.conftest import make_config
from tfgraphtune.models.mlp_backbone import MLPBackbone
from tfgraphtune.serving.exporter import dense_inputs, export_run
from tfgraphtune.training.run_folder import load_run
from tfgraphtune.training.train import evaluate_run, train

pytestmark = pytest.mark.xdist_group("node_classification-node_tables")
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def teacher(sources, tmp_path_factory):
    out = tmp_path_factory.mktemp("teacher") / "run"
    config = make_config("node_classification", sources["node_tables"], out)
    config["train"]["epochs"] = 20
    train(config)
    return out


@pytest.mark.parametrize("student", ["mlp", "gnn"])
def test_student_evaluates_exports_and_serves(student, teacher, sources, tensorflow_only, tmp_path):
    distill = {"teacher": str(teacher), "student": student, "temperature": 2.0, "alpha": 0.7}
    config = make_config(
        "node_classification",
        sources["node_tables"],
        tmp_path / "run",
        finetune={"distill": distill},
    )
    config["model"].update(head="linear", hidden_units=4)
    config["train"]["epochs"] = 5
    metrics = train(config).metrics
    assert metrics["distillation"] == distill
    assert evaluate_run(tmp_path / "run") == {
        s: metrics[s] for s in ("train", "validation", "test")
    }

    run = load_run(tmp_path / "run")
    assert isinstance(run.model.backbone, MLPBackbone) == (student == "mlp")
    version = export_run(tmp_path / "run", tmp_path / "export").version_dir
    request = run.warmup_graph
    expected = run.serving_outputs(*request)
    served = tensorflow_only.run(version, "predict_dense", dense_inputs([request]))
    assert np.max(np.abs(served["logits"][0, : len(request[0])] - expected["logits"])) <= TOLERANCE
    if student == "mlp":
        # One node, no edges: the same answer as inside the whole request graph.
        for node in (0, 5):
            one = tensorflow_only.run(
                version, "predict_features", {"node_features": request[0][node : node + 1]}
            )
            assert one["logits"].shape == (1, expected["logits"].shape[1])
            assert np.max(np.abs(one["logits"][0] - expected["logits"][node])) <= TOLERANCE
            assert one["class_ids"][0] == expected["class_ids"][node]
    else:
        with pytest.raises(AssertionError, match="predict_features"):
            tensorflow_only.run(version, "predict_features", {"node_features": request[0][:1]})
