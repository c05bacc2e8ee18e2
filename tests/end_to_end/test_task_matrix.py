"""Every task kind x every way to get a backbone x every data source, through every command.

Each cell trains a few epochs through the one training path, then checks the joins:
``evaluate`` of the run folder reproduces the training run's metrics exactly, and a
TensorFlow-only process loading the export answers what the Keras model answers on the
same raw request (max abs difference <= 1e-5). Cells that cannot apply: node regression on
a known data set (none of the known sets has node targets; the tables column covers it).
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.end_to_end.conftest import make_config
from tfgraphtune.layers.adapter import Adapter
from tfgraphtune.layers.lora_gcn_conv import LoRAGCNConv
from tfgraphtune.serving.exporter import dense_inputs, export_run
from tfgraphtune.training.run_folder import load_run
from tfgraphtune.training.train import evaluate_run, train

# (task, data source): known data sets and the user's tables.
COMBOS = [
    ("node_classification", "cora"),
    ("node_classification", "node_tables"),
    ("node_regression", "node_tables"),
    ("graph_classification", "mutag"),
    ("graph_classification", "graph_tables"),
    ("graph_regression", "freesolv"),
    ("graph_regression", "graph_tables"),
    ("link_prediction", "cora"),
    ("link_prediction", "node_tables"),
]
LABELS = {
    ("node_regression", "node_tables"): "target",
    ("graph_regression", "graph_tables"): "target",
}
STRATEGIES = [
    "full",
    "linear_probe",
    "top_k",
    "gradual",
    "discriminative",
    "lora",
    "adapter",
    "l2sp",
]
VARIANTS = ["scratch", *(f"pretrained-{name}" for name in STRATEGIES)]
FINETUNE = {"top_k": 1, "unfreeze_every": 1, "lora_rank": 2, "adapter_units": 4}
TOLERANCE = 1e-5


def _config(task, source, variant, sources, checkpoints, out):
    data = {**sources[source]}
    if (task, source) in LABELS:
        data["tables"] = {**data["tables"], "label": LABELS[(task, source)]}
    finetune = dict(FINETUNE)
    if variant != "scratch":
        finetune.update(backbone=str(checkpoints[source]), strategy=variant.split("-", 1)[1])
    return make_config(task, data, out, finetune=finetune)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(
    "task, source",
    # One test process takes all cells of a row: its data and checkpoint are made once.
    [pytest.param(t, s, marks=pytest.mark.xdist_group(f"{t}-{s}")) for t, s in COMBOS],
    ids=[f"{t}-{s}" for t, s in COMBOS],
)
def test_train_evaluate_export_serve(
    task, source, variant, sources, checkpoints, tensorflow_only, tmp_path
):
    config = _config(task, source, variant, sources, checkpoints, tmp_path / "run")
    result = train(config)
    metrics = result.metrics

    # evaluate needs only the run folder (and the data): the same numbers, exactly.
    evaluated = evaluate_run(tmp_path / "run")
    assert evaluated == {split: metrics[split] for split in evaluated}
    assert set(evaluated) >= {"validation", "test"}

    # The run folder restores the structure that was trained.
    run = load_run(tmp_path / "run")
    assert metrics["backbone_source"] == ("scratch" if variant == "scratch" else "pretrained")
    layers = [type(layer) for layer in run.model.backbone._flatten_layers()]
    assert (LoRAGCNConv in layers) == variant.endswith("lora")
    assert (Adapter in layers) == variant.endswith("adapter")

    # A TensorFlow-only process serves what Keras computes, from raw request data.
    version = export_run(tmp_path / "run", tmp_path / "export").version_dir
    request = run.warmup_graph
    served = tensorflow_only.run(version, "predict_dense", dense_inputs([request]))
    expected = run.serving_outputs(*request)
    assert set(expected) <= set(served)
    for name, value in expected.items():
        # Node tasks answer [batch, nodes, ...] padded; graph tasks a row per graph.
        answer = served[name][0, : len(request[0])] if run.task.rows == "nodes" else served[name]
        assert answer.shape == value.shape, name
        assert np.max(np.abs(answer - value), initial=0.0) <= TOLERANCE, name
    if run.task.scores_pairs:
        pairs = np.array([[0, 1], [1, 2], [0, 5]], np.int64)
        inputs = {**dense_inputs([request]), "pairs": pairs[None], "num_pairs": np.array([3])}
        scored = tensorflow_only.run(version, "score_pairs_dense", inputs)
        for name, value in run.serving_outputs(*request, pairs=pairs).items():
            assert np.max(np.abs(scored[name][0] - value)) <= TOLERANCE, name
