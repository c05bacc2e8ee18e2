"""Every task kind's run folder holds its pictures; pre-training logs like fine-tuning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import make_config
from PIL import Image

from tfgraphtune.pretrain.runner import pretrain
from tfgraphtune.training.train import train

# Task kind -> (data source, the pictures its run folder must hold).
KINDS = {
    "node_classification": ("node_tables", {"confusion_matrix"}),
    "node_regression": ("node_tables", {"predicted_vs_true"}),
    "graph_classification": ("graph_tables", {"confusion_matrix"}),
    "graph_regression": ("graph_tables", {"predicted_vs_true"}),
    "link_prediction": ("node_tables", {"roc_pr_curves"}),
}


def assert_picture(path):
    """A readable PNG that is not one flat colour."""
    with Image.open(path) as image:
        assert image.format == "PNG"
        pixels = np.asarray(image.convert("L"))
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert pixels.std() > 5, f"{path.name} is blank"


@pytest.mark.parametrize("task", list(KINDS))
def test_run_folder_has_curves_task_pictures_and_embeddings(task, sources, tmp_path):
    source, own = KINDS[task]
    data = dict(sources[source])
    if task == "node_regression":
        data["tables"] = {**data["tables"], "label": "target"}
    config = make_config(task, data, tmp_path / "run", train={"epochs": 3})
    run_dir = train(config).run_dir
    pictures = {p.stem: p for p in (run_dir / "plots").glob("*.png")}
    assert set(pictures) == {"training_curves", "embeddings", *own}
    for path in pictures.values():
        assert_picture(path)


def test_confusion_matrix_counts_match_the_test_predictions(sources, tmp_path):
    from tfgraphtune.reporting import plots

    labels = np.array([0, 0, 1, 2, 2, 2])
    outputs = np.eye(3)[[0, 1, 1, 2, 2, 0]]
    figure = plots.confusion_matrix(labels, outputs)
    # Row = true class, column = predicted: 0->{0,1}, 1->{1}, 2->{2,2,0}.
    texts = [t.get_text() for t in figure.axes[0].texts]
    assert texts == ["1", "1", "0", "0", "1", "0", "1", "0", "2"]
    assert "accuracy 0.667" in figure.axes[0].get_title()


def test_pretraining_writes_history_tensorboard_and_curves(sources, tmp_path):
    config = make_config(
        "node_classification",
        sources["node_tables"],
        tmp_path / "ckpt",
        pretrain={"method": "dgi", "epochs": 4},
        train={"tensorboard": True},
    )
    _, metadata = pretrain(config)
    folder = tmp_path / "ckpt"
    history = pd.read_csv(folder / "history.csv", index_col=0)
    assert len(history) == metadata["epochs_run"] == 4
    assert history["loss"].iloc[-1] == pytest.approx(metadata["final_loss"], rel=1e-6)
    assert list((folder / "logs" / "train").glob("events.out.tfevents.*"))
    assert_picture(folder / "plots" / "training_curves.png")
