"""Neighbour sampling: the sampled subgraphs by hand on a star, then sampled training on
Cora through the one train path (node classification and link prediction)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import path_graph
from tfgraphtune.distribute.sampling import NeighborSampler
from tfgraphtune.tasks.node_task import rooted_example
from tfgraphtune.training.config import load_config
from tfgraphtune.training.train import train

# A star whose leaves 1..4 send to the hub 0, and 5 -> 1: messages flow towards 0.
SOURCE, TARGET = [1, 2, 3, 4, 5], [0, 0, 0, 0, 1]
FEATURES = np.arange(6, dtype=np.float32)[:, None] * 10.0  # feature = 10 x node id


def _sampler(fanouts, seed=0):
    graph = path_graph(FEATURES, SOURCE, TARGET)
    return NeighborSampler(
        graph, node_set="n", edge_set="e", fanouts=fanouts, features=["x"], seed=seed
    )


def _sample(sampler, seeds):
    sample = sampler.sampling_function()
    return sample(tf.constant(seeds, tf.int64))


def test_full_fanout_gives_the_two_hop_in_neighbourhood_with_edges_towards_the_root():
    graph, roots = _sample(_sampler([10, 10]), [0])
    nodes = graph.node_sets["n"]["x"].numpy()[:, 0]
    assert roots.numpy().tolist() == [0]
    assert nodes[0] == 0.0  # The seed is its component's first node.
    assert sorted(nodes.tolist()) == [0.0, 10.0, 20.0, 30.0, 40.0, 50.0]
    adjacency = graph.edge_sets["e"].adjacency
    edges = {
        (nodes[s] / 10, nodes[t] / 10)
        for s, t in zip(adjacency.source.numpy(), adjacency.target.numpy())
    }
    assert edges == {(1, 0), (2, 0), (3, 0), (4, 0), (5, 1)}


def test_fanout_bounds_each_hop_and_components_stay_apart():
    graph, roots = _sample(_sampler([2]), [0, 1, 5])
    sizes = graph.node_sets["n"].sizes.numpy()
    # Hub 0: itself + 2 of its 4 senders; node 1: itself + node 5; node 5: no senders.
    assert sizes.tolist() == [3, 2, 1]
    assert roots.numpy().tolist() == [0, 3, 5]
    x = graph.node_sets["n"]["x"].numpy()[:, 0]
    assert x[[0, 3, 5]].tolist() == [0.0, 10.0, 50.0]
    assert len(set(x[1:3].tolist())) == 2 and set(x[1:3].tolist()) <= {10.0, 20.0, 30.0, 40.0}
    adjacency = graph.edge_sets["e"].adjacency
    targets, sources = adjacency.target.numpy(), adjacency.source.numpy()
    assert sorted(targets.tolist()) == [0, 0, 3]
    assert sorted(sources.tolist()) == [1, 2, 4]


def test_rooted_example_weights_only_the_roots_to_a_mean():
    graph, roots = _sample(_sampler([10]), [0, 1])
    graph = graph.replace_features(
        node_sets={"n": {"x": graph.node_sets["n"]["x"], "y": graph.node_sets["n"]["x"][:, 0]}}
    )
    example, labels, weights = rooted_example(graph, roots, "y")
    assert "y" not in example.node_sets["n"].features
    rows = int(graph.node_sets["n"].total_size)  # 5 + 2
    assert rows == 7
    # Keras averages weighted losses over all rows: roots weigh rows / roots each.
    expected = np.zeros(rows, np.float32)
    expected[[0, 5]] = rows / 2
    np.testing.assert_allclose(weights.numpy(), expected)
    assert labels.numpy()[[0, 5]].tolist() == [0.0, 10.0]


def test_invalid_fanouts_are_rejected():
    with pytest.raises(ValueError, match="fanouts"):
        _sampler([0])


@pytest.mark.slow
def test_sampled_cora_node_classification_reaches_gcn_accuracy(tmp_path):
    """Kipf & Welling's GCN trained on sampled 2-hop subgraphs ([10, 10], 64 seeds a batch):
    measured 0.818 test accuracy (full batch: 0.821 +- 0.004 over 10 seeds)."""
    config = load_config(
        "configs/cora_gcn.yaml",
        [
            "data.sampling.fanouts=[10, 10]",
            "data.sampling.batch_size=64",
            f"out={tmp_path / 'run'}",
        ],
    )
    result = train(config)
    assert result.metrics["test"]["accuracy"] >= 0.80


def test_sampled_link_run_survives_evaluate(tmp_path):
    """A model trained on sampled subgraphs is an ordinary run: its folder re-evaluates
    to the training run's metrics (full-graph inference in both). Link prediction's
    >= 0.88 test AUC on Cora is `benchmarks/link_prediction.py --fanouts 10,10`."""
    from tests.end_to_end.conftest import _node_tables, make_config
    from tfgraphtune.training.train import evaluate_run

    config = make_config("link_prediction", _node_tables(tmp_path), tmp_path / "run")
    config["data"]["sampling"] = {"fanouts": [4, 4], "batch_size": 16, "samples": None}
    config["train"].update(epochs=3, negatives_per_positive=1)
    result = train(config)
    again = evaluate_run(tmp_path / "run")
    for split, metrics in again.items():
        for name, value in metrics.items():
            assert value == pytest.approx(result.metrics[split][name], abs=1e-6)


@pytest.mark.slow
@pytest.mark.xdist_group("beam")
def test_beam_sampler_writes_exact_neighbourhoods_and_training_reads_them(tmp_path):
    """`tfgraphtune sample` (TF-GNN's Beam sampler, DirectRunner) on 60 synthetic nodes with
    fanouts above every degree: each sample is exactly its root's 2-hop in-neighbourhood,
    and `finetune` trains from the samples (``data.sampling.samples``)."""
    import yaml

    from tests.end_to_end.conftest import _node_tables, make_config
    from tfgraphtune.cli.main import main
    from tfgraphtune.distribute.beam_sampling import SPLITS, sampled_batches
    from tfgraphtune.training.train import check_run_config, prepare_data

    config = make_config("node_classification", _node_tables(tmp_path), tmp_path / "run")
    config["data"]["sampling"]["fanouts"] = [50, 50]
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    samples = tmp_path / "samples"
    assert main(["sample", "--config", str(config_path), "--out", str(samples)]) == 0

    task, source = check_run_config(config)
    data = prepare_data(config, task, source)
    adjacency = data.inputs.edge_sets[data.edge_set].adjacency
    senders = {}
    for s, t in zip(adjacency.source.numpy(), adjacency.target.numpy()):
        senders.setdefault(int(t), set()).add(int(s))
    x = data.inputs.node_sets[data.node_set][data.feature].numpy()
    train_ids = data.splits["train"]
    graph, roots = next(iter(
        sampled_batches(samples, "train", batch_size=len(train_ids), shuffle=False, seed=0)
    ))  # fmt: skip
    sampled_x = graph.node_sets[data.node_set][data.feature].numpy()
    sizes = graph.node_sets[data.node_set].sizes.numpy()
    starts = roots.numpy()
    found_roots = []
    for start, size in zip(starts, sizes):
        root = int(np.flatnonzero((x == sampled_x[start]).all(axis=1))[0])
        found_roots.append(root)
        hop1 = senders.get(root, set())
        expected = {root} | hop1 | set().union(*(senders.get(n, set()) for n in hop1))
        component = sampled_x[start : start + size]
        rows = {int(np.flatnonzero((x == row).all(axis=1))[0]) for row in component}
        assert rows == expected
    assert sorted(found_roots) == sorted(train_ids.tolist())
    assert SPLITS[0] == "train"

    config["data"]["sampling"] = {"fanouts": None, "samples": str(samples), "batch_size": 8}
    config["train"]["epochs"] = 5
    config_path.write_text(yaml.safe_dump(config))
    assert main(["finetune", "--config", str(config_path)]) == 0
    import pandas as pd

    history = pd.read_csv(tmp_path / "run" / "history.csv")
    assert len(history) == config["train"]["epochs"]
    assert history["loss"].iloc[-1] < history["loss"].iloc[0]  # It learns from the samples.
