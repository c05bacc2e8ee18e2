"""Tests of GraphModel (readout over components) and graph_batches."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tests.models.graph_builders import make_graph
from tfgraphtune.models.backbone import Backbone
from tfgraphtune.models.tasks.graph_classification import GraphModel, graph_batches


@tf.keras.utils.register_keras_serializable(package="tfgraphtune_tests")
class NodeFeatures(tf.keras.layers.Layer):
    """A stand-in backbone returning the input features, so readouts can be checked by hand."""

    node_set = "n"

    def call(self, graph, training=None):
        return graph.node_sets["n"]["x"]


# Two components: A = nodes 0-1, B = nodes 2-4.
#   mean A = [2, 1]      sum A = [4, 2]   max A = [3, 2]
#   mean B = [1/3, 1]    sum B = [1, 3]   max B = [2, 4]
TWO_GRAPHS = make_graph(
    [[1, 2], [3, 0], [-1, 4], [2, 2], [0, -3]],
    [(0, 1), (1, 0), (2, 3), (3, 4)],
    node_sizes=[2, 3],
    edge_sizes=[2, 2],
)


@pytest.mark.parametrize(
    "readout, expected",
    [
        ("mean", [[2, 1], [1 / 3, 1]]),
        ("sum", [[4, 2], [1, 3]]),
        ("max", [[3, 2], [2, 4]]),
        (["sum", "max"], [[4, 2, 3, 2], [1, 3, 2, 4]]),
    ],
    ids=["mean", "sum", "max", "sum_and_max"],
)
def test_readout_pools_each_component(readout, expected):
    units = len(expected[0])
    model = GraphModel(NodeFeatures(), units, readout=readout, head="linear")
    model(TWO_GRAPHS)
    # An identity head exposes the pooled embeddings.
    model.head.output_layer.set_weights([np.eye(units, dtype=np.float32), np.zeros(units)])
    np.testing.assert_allclose(model(TWO_GRAPHS).numpy(), expected, rtol=1e-6)
    # graph_embeddings is the readout itself (what the serving export returns).
    np.testing.assert_allclose(model.graph_embeddings(TWO_GRAPHS).numpy(), expected, rtol=1e-6)


def _backbone() -> Backbone:
    return Backbone(
        node_set="n", feature="x", conv="gin", hidden_units=4, num_layers=2, dropout=0.0
    )


def test_outputs_one_row_per_graph():
    logits = GraphModel(_backbone(), 3, readout="sum")(TWO_GRAPHS)
    assert logits.shape == (2, 3)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"readout": "avg"},
            "Received an invalid value for readout, expected one of ['mean', 'sum', 'max'] or "
            "a non-empty list of distinct ones. Received: readout='avg'",
        ),
        ({"readout": []}, "Received: readout=[]"),
        ({"readout": ["sum", "sum"]}, "Received: readout=['sum', 'sum']"),
        ({"head": "gcn"}, "expected one of ['linear', 'mlp']. Received: head='gcn'"),
        ({"head_dropout": 1.0}, "Received: head_dropout=1.0"),
    ],
    ids=["unknown_readout", "empty_readout", "repeated_readout", "gcn_head", "dropout"],
)
def test_bad_options_rejected_in_init(kwargs, message):
    with pytest.raises(ValueError) as error:
        GraphModel(_backbone(), 2, **kwargs)
    assert message in str(error.value)


def test_config_round_trip(assert_config_round_trip):
    model = GraphModel(
        _backbone(), 3, readout=["sum", "max"], head="mlp", head_dropout=0.2, head_hidden_units=5
    )
    restored = assert_config_round_trip(model, lambda m: m(TWO_GRAPHS))
    assert isinstance(restored.backbone, Backbone)
    assert restored.readout == ["sum", "max"]


def _labelled_graphs(count: int):
    # Graph i has i + 1 nodes and label i, so labels identify graphs.
    return [make_graph([[float(i)]] * (i + 1), [(0, i)], labels=[i]) for i in range(count)]


def test_graph_batches_merge_graphs_into_components():
    graphs = _labelled_graphs(3)
    batches = list(graph_batches(graphs, [2, 0, 1], batch_size=2))
    assert len(batches) == 2
    graph, labels = batches[0]
    np.testing.assert_array_equal(labels.numpy(), [2, 0])
    np.testing.assert_array_equal(graph.node_sets["n"].sizes.numpy(), [3, 1])
    # Edge (0, 2) of graph 2 and edge (0, 0) of graph 0 at offsets 0 and 3.
    np.testing.assert_array_equal(graph.edge_sets["e"].adjacency.target.numpy(), [2, 3])
    assert "label" not in graph.context.features
    np.testing.assert_array_equal(batches[1][1].numpy(), [1])


def test_graph_batches_shuffle_is_seeded_and_reshuffles_per_epoch():
    graphs = _labelled_graphs(6)

    def epoch_orders(dataset):
        return [np.concatenate([y.numpy() for _, y in dataset]).tolist() for _ in range(2)]

    first = epoch_orders(graph_batches(graphs, range(6), batch_size=4, shuffle=True, seed=3))
    again = epoch_orders(graph_batches(graphs, range(6), batch_size=4, shuffle=True, seed=3))
    assert first == again
    assert first[0] != first[1]
    assert sorted(first[0]) == list(range(6))


@pytest.mark.parametrize(
    "indices, kwargs, message",
    [
        ([0, 7], {}, "indices must lie in [0, 3)"),
        ([], {}, "at least one index"),
        ([0], {"batch_size": 0}, "Received: batch_size=0"),
        ([0], {"label_feature": "y"}, "no context feature 'y'"),
    ],
    ids=["out_of_range", "empty", "batch_size", "label_feature"],
)
def test_graph_batches_rejects_bad_arguments(indices, kwargs, message):
    with pytest.raises(ValueError) as error:
        graph_batches(_labelled_graphs(3), indices, **kwargs)
    assert message in str(error.value)


def test_fit_decreases_loss():
    # Class = whether the graph has more than two nodes.
    graphs = [
        make_graph([[1.0]] * size, [(0, size - 1)], labels=[int(size > 2)]) for size in (1, 2, 3, 4)
    ]
    model = GraphModel(_backbone(), 2, readout="sum", head="linear")
    model.compile(
        tf.keras.optimizers.Adam(0.05),
        tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    history = model.fit(graph_batches(graphs, range(4), batch_size=4), epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
