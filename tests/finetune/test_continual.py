"""Continual fine-tuning: a fine-tuned run resumes on a grown graph from its checkpoint."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.data.datasets.dataset import NodeDataset
from tfgraphtune.finetune.report import before_after, strategy_table, to_markdown
from tfgraphtune.training.config import load_config
from tfgraphtune.training.train import train


def node_dataset(num_nodes: int) -> NodeDataset:
    """A path over `num_nodes` nodes; class = node id parity, feature = one-hot parity."""
    ids = np.arange(num_nodes)
    labels = ids % 2
    features = np.eye(2, dtype=np.float32)[labels]
    source = np.concatenate([ids[:-1], ids[1:]])
    target = np.concatenate([ids[1:], ids[:-1]])
    graph = tfgnn.GraphTensor.from_pieces(
        node_sets={
            "n": tfgnn.NodeSet.from_fields(sizes=[num_nodes], features={"x": features, "y": labels})
        },
        edge_sets={
            "e": tfgnn.EdgeSet.from_fields(
                sizes=[len(source)],
                adjacency=tfgnn.Adjacency.from_indices(("n", source), ("n", target)),
            )
        },
    )
    return NodeDataset(
        name="tiny",
        graph=graph,
        schema=tfgnn.create_schema_pb_from_graph_spec(graph.spec),
        node_set="n",
        edge_set="e",
        feature="x",
        label="y",
        num_classes=2,
        splits={"train": ids[:2], "validation": ids[:2], "test": ids},
    )


def config_for(out, **finetune):
    config = load_config(
        None,
        [
            "model.hidden_units=4",
            "model.head=linear",
            "model.dropout=0.0",
            "model.sparse_inputs=false",
            "train.epochs=1",
            "train.early_stopping=null",
            "train.tensorboard=false",
            "train.learning_rate=0.1",
            f"out={out}",
        ],
    )
    config["finetune"].update(finetune)
    return config


def weights_of(run_dir):
    reader = tf.train.load_checkpoint(str(run_dir / "weights" / "model"))
    return {
        name: reader.get_tensor(name)
        for name in reader.get_variable_to_shape_map()
        if name.startswith(("backbone", "head")) and "OPTIMIZER_SLOT" not in name
    }


def test_resume_on_new_nodes_starts_from_the_checkpoint(tmp_path):
    small, grown = node_dataset(4), node_dataset(6)  # Two new nodes, edges and labels.
    first = train(config_for(tmp_path / "run1"), dataset=small).metrics
    assert first["strategy"] == "full"
    # A (near) zero learning rate shows where training starts: at run1's weights.
    frozen = config_for(tmp_path / "run2", resume=str(tmp_path / "run1"))
    frozen["train"]["learning_rate"] = 1e-12
    train(frozen, dataset=grown)
    start, resumed = weights_of(tmp_path / "run1"), weights_of(tmp_path / "run2")
    assert start and start.keys() == resumed.keys()
    for name in start:
        np.testing.assert_allclose(resumed[name], start[name], atol=1e-6, err_msg=name)
    metrics = train(
        config_for(tmp_path / "run3", resume=str(tmp_path / "run1")), dataset=grown
    ).metrics
    assert not all(np.allclose(start[n], weights_of(tmp_path / "run3")[n]) for n in start)
    assert metrics["test"]["accuracy"] >= 0.0


def test_before_after_report_side_by_side():
    accuracies = {
        "scratch": [0.6, 0.7],
        "linear_probe": [0.7, 0.7],
        "full": [0.75, 0.75],
        "lora": [0.74, 0.76],
    }
    table = strategy_table(
        accuracies, {"scratch": 1.0, "linear_probe": 0.01, "full": 1.0, "lora": 0.03}
    )
    assert table.loc["full", "vs_scratch_points"] == pytest.approx(10.0)
    assert list(before_after(accuracies).index) == ["scratch", "linear_probe", "full"]
    markdown = to_markdown(before_after(accuracies))
    assert markdown.splitlines()[2].startswith("| scratch | 0.6500 | 0.0500 | 2 | 0.0000 |")
    with pytest.raises(KeyError, match="linear_probe"):
        before_after({"scratch": [0.5], "full": [0.6]})
