"""finetune/evaluate for graph classification (MUTAG) and link prediction (Cora), short runs."""

from __future__ import annotations

import json

import pytest

from tfgraphtune.cli.main import main


@pytest.fixture
def repo_root(request):
    return request.config.rootpath


@pytest.mark.parametrize(
    "config, epochs, expected_splits, metric",
    [
        ("mutag_gin.yaml", 15, ("train", "validation", "test"), "roc_auc"),
        ("cora_gae.yaml", 60, ("validation", "test"), "ap"),
    ],
    ids=["graph_classification", "link_prediction"],
)
def test_finetune_then_evaluate(
    repo_root, data_dir, tmp_path, capsys, config, epochs, expected_splits, metric
):
    run_dir = tmp_path / "run"
    argv = [
        "finetune",
        "--config",
        str(repo_root / "configs" / config),
        "--data-dir",
        str(data_dir),
        "--epochs",
        str(epochs),
        "--out",
        str(run_dir),
        "--set",
        "train.tensorboard=false",
    ]
    assert main(argv) == 0
    written = json.loads((run_dir / "metrics.json").read_text())
    for split in expected_splits:
        assert 0.5 < written[split][metric] <= 1.0
    capsys.readouterr()
    assert main(["evaluate", str(run_dir), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    for split in expected_splits:
        assert again[split] == pytest.approx(written[split])


def test_mutag_folds_partition_the_graphs(data_dir):
    from tfgraphtune.data.datasets.registry import load_dataset
    from tfgraphtune.tasks.graph_task import graph_splits
    from tfgraphtune.training.config import load_config

    dataset = load_dataset("mutag", data_dir)

    seen = []
    for fold in range(10):
        config = load_config(
            None,
            [
                "task=graph_classification",
                "data.dataset=mutag",
                f"data.data_dir={data_dir}",
                f"data.fold={fold}",
            ],
        )
        splits = graph_splits(dataset, config, stratify=True)
        assert not set(splits["test"]) & (set(splits["train"]) | set(splits["validation"]))
        assert len(splits["train"]) + len(splits["validation"]) + len(splits["test"]) == 188
        seen.extend(splits["test"].tolist())
    assert sorted(seen) == list(range(188))


def test_graph_task_on_a_one_graph_data_set_is_a_user_error(data_dir, capsys, tmp_path):
    argv = [
        "finetune",
        "--out",
        str(tmp_path / "run"),
        "--task",
        "graph_classification",
        "--dataset",
        "cora",
        "--data-dir",
        str(data_dir),
    ]
    assert main(argv) == 2
    assert "graph tasks need many graphs" in capsys.readouterr().err
