"""Backbone: shapes per conv kind, option checks, config round trip."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import assert_config_round_trip, path_graph
from tfgraphtune.models.backbone import Backbone
from tfgraphtune.models.tasks.node_classification import NodeModel, split_weights

GRAPH = path_graph([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0], [0.0, 0.0]], [0, 1, 1, 2], [1, 0, 2, 1])


@pytest.mark.parametrize("conv", ["gcn", "sage", "gin", "gatv2"])
def test_each_conv_kind_gives_embeddings(conv):
    backbone = Backbone(node_set="n", feature="x", conv=conv, hidden_units=[8, 5])
    out = backbone(GRAPH, training=False)
    assert out.shape == (4, 5)
    assert backbone.output_units == 5


def test_sparse_inputs_train_and_infer():
    backbone = Backbone(node_set="n", feature="x", hidden_units=3, sparse_inputs=True)
    assert backbone(GRAPH, training=True).shape == (4, 3)
    assert backbone(GRAPH, training=False).shape == (4, 3)


def test_residual_and_normalization():
    backbone = Backbone(
        node_set="n",
        feature="x",
        hidden_units=4,
        num_layers=3,
        residual=True,
        normalization="layer",
        dropout=0.0,
    )
    assert backbone(GRAPH).shape == (4, 4)


def test_l2_adds_one_penalty_per_kernel():
    backbone = Backbone(node_set="n", feature="x", hidden_units=[4, 4], l2=0.1)
    backbone(GRAPH)
    assert len(backbone.losses) == 2
    expected = sum(0.1 * float(tf.reduce_sum(c.kernel**2)) for c in backbone.conv_layers)
    np.testing.assert_allclose(float(tf.add_n(backbone.losses)), expected, rtol=1e-5)


def test_config_round_trip():
    assert_config_round_trip(
        Backbone(
            node_set="n",
            feature="x",
            conv="gatv2",
            hidden_units=[8, 4],
            dropout=0.2,
            input_dropout=0.6,
            normalization="batch",
            l2=1e-4,
            conv_options={"num_heads": 2},
            name="bb",
        )
    )


def test_node_model_config_round_trip_keeps_layer_types():
    model = NodeModel(
        Backbone(node_set="n", feature="x", hidden_units=4), 3, head="gcn", head_dropout=0.5
    )
    model(GRAPH)
    clone = NodeModel.from_config(model.get_config())
    clone(GRAPH)
    assert [type(layer) for layer in clone.backbone.conv_layers] == [
        type(layer) for layer in model.backbone.conv_layers
    ]
    assert clone.get_config() == model.get_config()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"conv": "cheb"}, "conv, expected one of"),
        ({"hidden_units": 0}, "Received: hidden_units=0"),
        ({"hidden_units": []}, "hidden_units"),
        ({"num_layers": 0}, "Received: num_layers=0"),
        ({"dropout": 1.0}, "Received: dropout=1.0"),
        ({"normalization": "group"}, "Received: normalization='group'"),
        ({"l2": -1.0}, "Received: l2=-1.0"),
    ],
    ids=["conv", "units", "empty_units", "layers", "dropout", "norm", "l2"],
)
def test_bad_options_rejected_in_init(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Backbone(node_set="n", feature="x", **kwargs)


def test_split_weights_make_weighted_mean_the_split_mean():
    # 4 nodes, split {1, 3}: weights 4/2 = 2 on those rows, 0 elsewhere.
    np.testing.assert_array_equal(split_weights(4, np.array([1, 3])), [0, 2, 0, 2])
