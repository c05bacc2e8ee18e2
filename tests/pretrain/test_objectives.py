"""Each objective trains with plain model.fit on a one-element data set of a tiny graph."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import path_graph
from tfgraphtune.models.backbone import Backbone
from tfgraphtune.pretrain.attr_mask import AttributeMasking
from tfgraphtune.pretrain.base import graph_data
from tfgraphtune.pretrain.dgi import DeepGraphInfomax
from tfgraphtune.pretrain.gae import GraphAutoEncoder
from tfgraphtune.pretrain.graph_contrastive import GraphContrastive, nt_xent
from tfgraphtune.pretrain.graph_data import batched_graphs
from tfgraphtune.pretrain.graphmae import GraphMAE, scaled_cosine_error
from tfgraphtune.pretrain.probe import (
    PROBE_PROTOCOLS,
    linear_probe_accuracy,
    select_by_validation,
)

# Path 0-1-2-3 (both directions), one-hot features of 3 "atom types".
GRAPH = path_graph(
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]],
    [0, 1, 1, 2, 2, 3],
    [1, 0, 2, 1, 3, 2],
)


def backbone(**options):
    return Backbone(node_set="n", feature="x", hidden_units=[4, 4], dropout=0.0, **options)


GRAPH_LEVEL = ("attr_mask", "graph_contrastive")
OBJECTIVES = {
    "dgi": lambda: DeepGraphInfomax(backbone(activation="prelu")),
    "graphmae": lambda: GraphMAE(backbone(activation="prelu"), alpha=2.0),
    "graphmae_zero_token": lambda: GraphMAE(backbone(), mask_token="zeros"),
    "graphmae_gat": lambda: GraphMAE(
        Backbone(
            node_set="n",
            feature="x",
            conv="gat",
            hidden_units=[2, 2],
            dropout=0.2,
            conv_options={"num_heads": 2, "attention_dropout": 0.1},
        ),
        decoder="gat",
    ),
    "graphmae_gatv2": lambda: GraphMAE(backbone(conv="gatv2"), decoder="gatv2"),
    "gae": lambda: GraphAutoEncoder(backbone(final_activation=False)),
    "attr_mask": lambda: AttributeMasking(backbone(), mask_rate=0.5),
    "graph_contrastive": lambda: GraphContrastive(
        backbone(), augmentations=("feature_mask", "edge_perturb"), projection_units=4
    ),
}


def batches_of_two():
    """GRAPH and a 3-node path, merged into one GraphTensor of two components per batch
    (varying sizes: the shapes are dynamic, as with any real data set of graphs)."""
    small = path_graph([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]], [0, 1], [1, 2])
    return batched_graphs([GRAPH, small], 2)


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
def test_fit_trains_the_backbone(name):
    model = OBJECTIVES[name]()
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01), run_eagerly=True)
    data = batches_of_two() if name in GRAPH_LEVEL else graph_data(GRAPH)
    model.fit(data, steps_per_epoch=1, epochs=1, verbose=0)  # Builds every weight.
    before = [v.numpy().copy() for v in model.backbone.trainable_weights]
    # Six steps: a GAT's attention_target gets gradient only through LeakyReLU (softmax
    # is shift-invariant per target), tiny on this 4-node path for some masks.
    history = model.fit(data, steps_per_epoch=6, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    moved = [
        not np.allclose(b, v.numpy()) for b, v in zip(before, model.backbone.trainable_weights)
    ]
    assert all(moved)
    assert model(GRAPH).shape == (4, 4)


def test_dgi_loss_at_chance_is_log_two():
    # A zero discriminator scores every node 0: both BCE terms are log 2.
    model = DeepGraphInfomax(backbone())
    model.discriminator.assign(tf.zeros_like(model.discriminator))
    np.testing.assert_allclose(float(model.pretrain_loss(GRAPH)), np.log(2.0), rtol=1e-6)


def test_scaled_cosine_error_by_hand():
    # Rows: identical (cos 1 -> 0), orthogonal (cos 0 -> 1), opposite (cos -1 -> 2^2 = 4).
    x = tf.constant([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    z = tf.constant([[2.0, 0.0], [0.0, 3.0], [-1.0, 0.0]])
    np.testing.assert_allclose(
        float(scaled_cosine_error(x, z, alpha=2.0)), (0 + 1 + 4) / 3, rtol=1e-6
    )


def test_graphmae_masks_the_configured_share():
    model = GraphMAE(backbone(), mask_rate=0.5, replace_rate=0.0)
    model._ensure_decoder(3)
    model.mask_token.assign([[7.0, 7.0, 7.0]])
    masked, mask = model.mask_nodes(GRAPH.node_sets["n"]["x"])
    assert int(tf.reduce_sum(tf.cast(mask, tf.int32))) == 2  # 4 nodes * 0.5.
    np.testing.assert_array_equal(masked.numpy()[mask.numpy()], 7.0)


def test_nt_xent_prefers_matching_views():
    views = tf.constant([[1.0, 0.0], [0.0, 1.0]])
    assert float(nt_xent(views, views, 0.1)) < float(nt_xent(views, views[::-1], 0.1))


def test_linear_probe_separable_embeddings():
    embeddings = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]], np.float32)
    labels = np.array([0, 0, 1, 1])
    accuracy = linear_probe_accuracy(embeddings, labels, [0, 2], [1, 3], runs=3, epochs=50)
    np.testing.assert_array_equal(accuracy, 1.0)


def test_select_by_validation_takes_the_last_best_epoch():
    validation = [[0.5, 0.2], [0.7, 0.2], [0.7, 0.1]]
    test = [[0.1, 0.3], [0.2, 0.4], [0.3, 0.5]]
    # Run 0: best 0.7 at epochs 1 and 2 -> epoch 2 -> 0.3; run 1: 0.2 at 0 and 1 -> 0.4.
    np.testing.assert_array_equal(select_by_validation(validation, test), [0.3, 0.4])


@pytest.mark.parametrize("protocol", sorted(PROBE_PROTOCOLS))
def test_linear_probe_protocols_fit_separable_embeddings(protocol):
    embeddings = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]], np.float32)
    labels = np.array([0, 0, 1, 1])
    accuracy = linear_probe_accuracy(
        embeddings,
        labels,
        [0, 2],
        [1, 3],
        validation_ids=[1, 3],
        runs=2,
        **PROBE_PROTOCOLS[protocol],
    )
    np.testing.assert_array_equal(accuracy, 1.0)


def test_linear_probe_needs_validation_ids_to_select_on_them():
    with pytest.raises(ValueError, match="needs validation_ids"):
        linear_probe_accuracy(np.eye(2), [0, 1], [0], [1], select_on="validation")


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: GraphMAE(backbone(), mask_rate=1.0), "mask_rate"),
        (lambda: GraphAutoEncoder(backbone(), negatives_per_edge=0), "negatives_per_edge"),
        (
            lambda: GraphContrastive(backbone(), augmentations=("crop", "node_drop")),
            "augmentations",
        ),
        (lambda: AttributeMasking(backbone(), target="words"), "target"),
    ],
)
def test_invalid_options_name_the_option(make, message):
    with pytest.raises(ValueError, match=f"invalid value for {message}"):
        make()


class _ZeroObjective(DeepGraphInfomax):
    """DGI whose objective is 0: only the weight decay moves the variables."""

    def pretrain_loss(self, graph, training=None):
        return 0.0 * tf.reduce_sum(self.backbone(graph, training=training))


def test_weight_decay_shrinks_every_variable_like_torch_adam_weight_decay():
    # Plain SGD at lr 1 on 0.5 * wd * ||w||^2: one step gives w <- (1 - wd) w, for every
    # variable (PReLU slopes and the discriminator too), as PyTorch's coupled weight decay.
    model = _ZeroObjective(backbone(activation="prelu"), weight_decay=0.25)
    model.compile(optimizer=tf.keras.optimizers.SGD(1.0), run_eagerly=True)
    model(GRAPH)
    model.pretrain_loss(GRAPH)
    before = [v.numpy().copy() for v in model.trainable_variables]
    history = model.fit(graph_data(GRAPH), steps_per_epoch=1, epochs=1, verbose=0)
    for old, variable in zip(before, model.trainable_variables):
        np.testing.assert_allclose(variable.numpy(), 0.75 * old, rtol=1e-6, atol=1e-7)
    assert history.history["loss"] == [0.0]  # The reported loss is the objective alone.


def test_negative_weight_decay_is_refused():
    with pytest.raises(ValueError, match="weight_decay=-1"):
        DeepGraphInfomax(backbone(), weight_decay=-1)
