"""Tests of LinkModel, split_edges and link_inputs on hand-built graphs."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tests.models.graph_builders import make_graph
from tfgraphtune.layers.propagation import precompute_gcn_normalization
from tfgraphtune.models.backbone import Backbone
from tfgraphtune.models.tasks.link_prediction import (
    LinkModel,
    full_reconstruction_loss,
    link_inputs,
    split_edges,
)
from tfgraphtune.training.losses import PairBinaryCrossentropy


@tf.keras.utils.register_keras_serializable(package="tfgraphtune_tests")
class NodeFeatures(tf.keras.layers.Layer):
    """A stand-in backbone returning the input features, so scores can be checked by hand."""

    node_set = "n"

    def call(self, graph, training=None):
        return graph.node_sets["n"]["x"]


def _undirected(pairs):
    return [edge for u, v in pairs for edge in ((u, v), (v, u))]


# A 6-node graph with 7 undirected edges (14 rows) and a self loop on node 5.
EDGES = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (0, 2), (1, 4)]
GRAPH = make_graph([[float(i), 1.0] for i in range(6)], _undirected(EDGES) + [(5, 5)])


def _backbone(**kwargs) -> Backbone:
    return Backbone(node_set="n", feature="x", hidden_units=[4, 3], dropout=0.0, **kwargs)


def test_dot_decoder_scores_inner_products():
    # z = [[1, 0], [0, 2], [1, 1]]: z0.z1 = 0, z1.z2 = 2, z0.z2 = 1, z2.z2 = 2.
    graph = make_graph([[1, 0], [0, 2], [1, 1]], [(0, 1), (1, 0)])
    model = LinkModel(NodeFeatures(), decoder="dot")
    logits = model((graph, tf.constant([[0, 1], [1, 2], [0, 2], [2, 2]])))
    np.testing.assert_allclose(logits.numpy(), [0.0, 2.0, 1.0, 2.0])


def test_mlp_decoder_is_symmetric_with_one_logit_per_pair():
    model = LinkModel(_backbone(), decoder="mlp", hidden_units=8)
    logits = model((GRAPH, tf.constant([[0, 1], [1, 0], [2, 5]])))
    assert logits.shape == (3,)
    assert logits[0].numpy() == pytest.approx(logits[1].numpy())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"decoder": "distmult"},
            "Received an invalid value for decoder, expected one of ['dot', 'mlp']. "
            "Received: decoder='distmult'",
        ),
        ({"hidden_units": 0}, "Received: hidden_units=0"),
        ({"dropout": -0.1}, "Received: dropout=-0.1"),
    ],
    ids=["decoder", "hidden_units", "dropout"],
)
def test_bad_options_rejected_in_init(kwargs, message):
    with pytest.raises(ValueError) as error:
        LinkModel(_backbone(), **kwargs)
    assert message in str(error.value)


def test_config_round_trip(assert_config_round_trip):
    model = LinkModel(_backbone(final_activation="linear"), decoder="mlp", hidden_units=5)
    restored = assert_config_round_trip(model, lambda m: m((GRAPH, tf.constant([[0, 1]]))))
    assert restored.backbone.get_config()["final_activation"] == "linear"


def test_backbone_final_activation_gives_linear_last_layer():
    # Same weights: the ReLU backbone's output is the linear one clipped at 0.
    relu_backbone = Backbone(node_set="n", feature="x", hidden_units=[8, 8], dropout=0.0)
    linear_backbone = Backbone(
        node_set="n", feature="x", hidden_units=[8, 8], dropout=0.0, final_activation="linear"
    )
    relu_backbone(GRAPH)
    linear_backbone(GRAPH)
    linear_backbone.set_weights(relu_backbone.get_weights())
    linear = linear_backbone(GRAPH).numpy()
    assert linear.min() < 0.0
    np.testing.assert_allclose(relu_backbone(GRAPH).numpy(), np.maximum(linear, 0.0), rtol=1e-6)
    assert relu_backbone.get_config()["final_activation"] is None


def _canonical(pairs) -> set:
    return {(min(u, v), max(u, v)) for u, v in np.asarray(pairs).tolist()}


def test_split_edges_holds_out_disjoint_edges_and_hides_them():
    # M = 7 undirected edges: floor(0.2 * 7) = 1 validation, floor(0.3 * 7) = 2 test.
    split = split_edges(GRAPH, "e", val_fraction=0.2, test_fraction=0.3, seed=0)
    assert split.symmetric
    val_pos = _canonical(split.val_pairs[split.val_labels == 1])
    test_pos = _canonical(split.test_pairs[split.test_labels == 1])
    train_pos = _canonical(split.train_pos)
    assert (len(val_pos), len(test_pos), len(train_pos)) == (1, 2, 4)
    assert not (val_pos & test_pos) and not (train_pos & (val_pos | test_pos))
    assert train_pos | val_pos | test_pos == _canonical(EDGES)
    assert all(u < v for u, v in split.train_pos.tolist())

    adjacency = split.train_graph.edge_sets["e"].adjacency
    kept = set(zip(adjacency.source.numpy().tolist(), adjacency.target.numpy().tolist()))
    # Both directions of every training edge, the self loop, and no held-out edge.
    assert kept == {e for u, v in train_pos for e in ((u, v), (v, u))} | {(5, 5)}
    assert int(split.train_graph.edge_sets["e"].sizes[0]) == len(kept)


def test_split_edges_negatives_are_distinct_non_edges():
    split = split_edges(GRAPH, "e", val_fraction=0.2, test_fraction=0.3, seed=0)
    negatives = np.concatenate(
        [split.val_pairs[split.val_labels == 0], split.test_pairs[split.test_labels == 0]]
    )
    assert len(negatives) == 3  # As many as the 1 + 2 held-out positives.
    assert np.all(negatives[:, 0] != negatives[:, 1])
    assert len(_canonical(negatives)) == 3
    assert not (_canonical(negatives) & _canonical(EDGES))


def test_split_edges_is_deterministic_with_seed():
    first = split_edges(GRAPH, "e", val_fraction=0.2, test_fraction=0.3, seed=4)
    again = split_edges(GRAPH, "e", val_fraction=0.2, test_fraction=0.3, seed=4)
    for name in ("train_pos", "val_pairs", "val_labels", "test_pairs", "test_labels"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))


def test_split_edges_directed_keeps_directions_and_components():
    # Two components, directed edges (no reverses): each edge is its own unit.
    graph = make_graph(
        [[1.0]] * 5,
        [(0, 1), (1, 2), (2, 0), (3, 4)],
        node_sizes=[3, 2],
        edge_sizes=[3, 1],
    )
    split = split_edges(graph, "e", val_fraction=0.0, test_fraction=0.5, seed=0)
    assert not split.symmetric
    assert len(split.train_pos) == 2 and int(split.test_labels.sum()) == 2
    adjacency = split.train_graph.edge_sets["e"].adjacency
    kept = set(zip(adjacency.source.numpy().tolist(), adjacency.target.numpy().tolist()))
    assert kept == set(map(tuple, split.train_pos.tolist()))
    sizes = split.train_graph.edge_sets["e"].sizes.numpy()
    assert sizes.sum() == 2
    # Each kept edge counts in the component of its nodes.
    assert sizes[1] == int((3, 4) in kept)


def test_split_edges_drops_cached_gcn_coefficients():
    split = split_edges(precompute_gcn_normalization(GRAPH), "e", seed=0)
    assert "_gcn_edge_norm" not in split.train_graph.edge_sets["e"].features
    assert "_gcn_self_norm" not in split.train_graph.node_sets["n"].features


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"val_fraction": 1.0}, "Received: val_fraction=1.0"),
        ({"test_fraction": -0.1}, "Received: test_fraction=-0.1"),
        ({"val_fraction": 0.5, "test_fraction": 0.5}, "must be below 1"),
    ],
    ids=["val", "test", "sum"],
)
def test_split_edges_rejects_bad_fractions(kwargs, message):
    with pytest.raises(ValueError) as error:
        split_edges(GRAPH, "e", **kwargs)
    assert message in str(error.value)


def test_split_edges_needs_non_edges_for_negatives():
    # A triangle has no non-edges to draw the one validation negative from.
    triangle = make_graph([[1.0]] * 3, _undirected([(0, 1), (1, 2), (0, 2)]))
    with pytest.raises(ValueError) as error:
        split_edges(triangle, "e", val_fraction=0.4, test_fraction=0.0)
    assert "too few non-edges (0) for 1 negative pairs" in str(error.value)


def test_split_edges_rejects_unknown_edge_set():
    with pytest.raises(ValueError) as error:
        split_edges(GRAPH, "cites")
    assert "edge set 'cites' is not in the graph; it has ['e']" in str(error.value)


def test_link_inputs_draws_fresh_negatives_every_epoch():
    split = split_edges(GRAPH, "e", val_fraction=0.2, test_fraction=0.3, seed=0)
    inputs = link_inputs(split, negatives_per_positive=2, seed=1)

    def one_epoch(dataset):
        ((graph, pairs), labels, weights) = next(iter(dataset))
        return pairs.numpy(), labels.numpy(), weights.numpy()

    pairs, labels, weights = one_epoch(inputs["train"])
    assert pairs.shape == (12, 2)  # 4 positives + 8 negatives.
    np.testing.assert_array_equal(labels, [1] * 4 + [0] * 8)
    # Each positive weighs as much as its 2 negatives together.
    np.testing.assert_array_equal(weights, [2] * 4 + [1] * 8)
    np.testing.assert_array_equal(pairs[:4], split.train_pos)
    assert np.all(pairs[4:, 0] != pairs[4:, 1]) and pairs.max() < 6
    assert not np.array_equal(one_epoch(inputs["train"])[0][4:], pairs[4:])
    # A fresh data set with the same seed repeats the first epoch.
    fresh = link_inputs(split, negatives_per_positive=2, seed=1)["train"]
    np.testing.assert_array_equal(one_epoch(fresh)[0], pairs)
    (_, test_pairs), test_labels = next(iter(inputs["test"]))
    np.testing.assert_array_equal(test_pairs.numpy(), split.test_pairs)
    np.testing.assert_array_equal(test_labels.numpy(), split.test_labels)


def test_link_inputs_rejects_bad_negatives():
    split = split_edges(GRAPH, "e", seed=0)
    with pytest.raises(ValueError, match="Received: negatives_per_positive=0"):
        link_inputs(split, negatives_per_positive=0)


def test_fit_decreases_loss():
    split = split_edges(GRAPH, "e", val_fraction=0.2, test_fraction=0.3, seed=0)
    model = LinkModel(_backbone(final_activation="linear"), decoder="dot")
    model.compile(
        tf.keras.optimizers.Adam(0.05),
        PairBinaryCrossentropy(),
        metrics=[
            tf.keras.metrics.AUC(curve="ROC", from_logits=True, name="auc"),
            tf.keras.metrics.AUC(curve="PR", from_logits=True, name="ap"),
        ],
    )
    # Training edges against every non-edge: fixed pairs, so the loss changes only by learning.
    non_edges = [
        (u, v) for u in range(5) for v in range(u + 1, 5) if (u, v) not in _canonical(EDGES)
    ]
    fixed = tf.data.Dataset.from_tensors(
        (
            (split.train_graph, np.concatenate([split.train_pos, non_edges])),
            np.r_[np.ones(len(split.train_pos)), np.zeros(len(non_edges))].astype(np.float32),
        )
    )
    before = model.evaluate(fixed, verbose=0, return_dict=True)["loss"]
    model.fit(fixed, epochs=10, verbose=0)
    assert model.evaluate(fixed, verbose=0, return_dict=True)["loss"] < before
    # The sampled training data feeds fit with the same model and metrics.
    history = model.fit(link_inputs(split, seed=0)["train"], epochs=2, verbose=0).history
    assert {"loss", "auc", "ap"} <= set(history) and np.isfinite(history["loss"]).all()


def test_full_reconstruction_labels_and_loss():
    split = split_edges(GRAPH, "e", val_fraction=0.2, test_fraction=0.3, seed=0)
    ((graph, pairs), adjacency) = next(
        iter(link_inputs(split, negatives_per_positive="all")["train"])
    )
    adjacency = adjacency.numpy()
    # Training edges in both directions plus self loops, nothing else.
    expected = np.eye(split.num_nodes, dtype=np.float32)
    for u, v in split.train_pos:
        expected[u, v] = expected[v, u] = 1
    np.testing.assert_array_equal(adjacency, expected)
    # Hand value: 2 nodes, A = I (2 positives of 4), logits 0 everywhere:
    # pos_weight = 2/2 = 1, norm = 4 / (2 * 2) = 1, loss = mean(log 2) = log 2.
    loss = full_reconstruction_loss(tf.eye(2), tf.zeros([2, 2]))
    np.testing.assert_allclose(float(loss), np.log(2.0), rtol=1e-6)


def test_fit_on_full_reconstruction_decreases_loss():
    split = split_edges(GRAPH, "e", val_fraction=0.2, test_fraction=0.3, seed=0)
    model = LinkModel(_backbone(final_activation="linear"), decoder="dot")
    model.compile(tf.keras.optimizers.Adam(0.05), PairBinaryCrossentropy())
    history = model.fit(
        link_inputs(split, negatives_per_positive="all")["train"].repeat(),
        steps_per_epoch=1,
        epochs=20,
        verbose=0,
    )
    assert history.history["loss"][-1] < history.history["loss"][0]
