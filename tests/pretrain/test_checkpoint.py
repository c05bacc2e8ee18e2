"""Pre-trained checkpoints: round trip, overrides onto LoRA/adapters, schema compatibility."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_gnn as tfgnn

from tests.helpers import assert_config_round_trip, path_graph
from tfgraphtune.finetune.lora import merge_lora
from tfgraphtune.layers.adapter import Adapter
from tfgraphtune.layers.lora_gcn_conv import LoRAGCNConv
from tfgraphtune.models.backbone import Backbone
from tfgraphtune.models.checkpoint import SchemaMismatchError, check_schema_compatible

GRAPH = path_graph([[1.0, 0.0], [0.0, 2.0], [3.0, 1.0]], [0, 1, 1, 2], [1, 0, 2, 1])
GRAPH_3 = path_graph(np.eye(3), [0, 1], [1, 2])


def schema_of(graph) -> tfgnn.GraphSchema:
    return tfgnn.create_schema_pb_from_graph_spec(graph.spec)


@pytest.fixture
def checkpoint(tmp_path):
    backbone = Backbone(
        node_set="n", feature="x", hidden_units=[4, 3], activation="prelu", dropout=0.0
    )
    backbone(GRAPH)
    for variable in backbone.weights:  # Non-trivial values everywhere (PReLU slopes too).
        variable.assign(tf.random.normal(variable.shape))
    backbone.save_pretrained(tmp_path / "ckpt", schema=schema_of(GRAPH), metadata={"method": "dgi"})
    return tmp_path / "ckpt", backbone(GRAPH, training=False).numpy()


def test_round_trip_gives_the_same_function(checkpoint):
    path, expected = checkpoint
    assert sorted(p.name for p in path.iterdir()) == [
        "backbone.json",
        "pretrain.json",
        "schema.pbtxt",
        "weights",
    ]
    assert json.loads((path / "pretrain.json").read_text())["method"] == "dgi"
    loaded = Backbone.from_pretrained(path, schema=schema_of(GRAPH))
    np.testing.assert_allclose(loaded(GRAPH, training=False), expected, rtol=1e-6)


@pytest.mark.parametrize(
    "overrides",
    [
        {"lora_rank": 2},
        {"lora_rank": 2, "lora_init": "gaussian"},
        {"adapter_units": 2},
        {"dropout": 0.5},
    ],
)
def test_overrides_start_at_the_pretrained_function(checkpoint, overrides):
    path, expected = checkpoint
    loaded = Backbone.from_pretrained(path, **overrides)
    np.testing.assert_allclose(loaded(GRAPH, training=False), expected, rtol=1e-5, atol=1e-6)
    if "lora_rank" in overrides:
        assert all(isinstance(conv, LoRAGCNConv) for conv in loaded.conv_layers)
    if "adapter_units" in overrides:
        assert len(loaded.adapter_layers) == 2 and isinstance(loaded.adapter_layers[0], Adapter)


def test_pissa_moves_the_top_singular_part_into_the_factors(checkpoint):
    path, _ = checkpoint
    pretrained = Backbone.from_pretrained(path)
    loaded = Backbone.from_pretrained(path, lora_rank=2)
    for plain, lora in zip(pretrained.conv_layers, loaded.conv_layers):
        kernel = plain.kernel.numpy()
        singular = np.linalg.svd(kernel, compute_uv=False)
        # A^T A = B B^T = diag(S_r / scale): the factors hold the top-2 singular values.
        a, b = lora.lora_a.numpy(), lora.lora_b.numpy()
        np.testing.assert_allclose(a.T @ a, np.diag(singular[:2] / lora.scale), atol=1e-5)
        np.testing.assert_allclose(b @ b.T, np.diag(singular[:2] / lora.scale), atol=1e-5)
        np.testing.assert_allclose(lora.merged_kernel(), kernel, rtol=1e-5, atol=1e-6)
        # The frozen residual keeps only the remaining singular values.
        residual = np.linalg.svd(lora.kernel.numpy(), compute_uv=False)
        np.testing.assert_allclose(residual[: len(singular) - 2], singular[2:], atol=1e-5)


def test_pissa_on_a_diagonal_kernel():
    # W = diag(3, 2, 1), rank 1, scale alpha/r = 2: A B = e1 e1^T * 3/2, residual diag(0, 2, 1).
    layer = LoRAGCNConv(3, rank=1, alpha=2.0)
    layer(GRAPH_3.node_sets["n"]["x"], graph=GRAPH_3)
    layer.kernel.assign(np.diag([3.0, 2.0, 1.0]))
    layer.initialize_from_kernel()
    np.testing.assert_allclose(np.abs(layer.lora_a.numpy()[:, 0]), [1.5**0.5, 0, 0], atol=1e-6)
    np.testing.assert_allclose(layer.lora_a.numpy() @ layer.lora_b.numpy(), np.diag([1.5, 0, 0]))
    np.testing.assert_allclose(layer.kernel.numpy(), np.diag([0.0, 2.0, 1.0]), atol=1e-6)


def test_gaussian_init_keeps_b_zero_and_the_kernel():
    layer = LoRAGCNConv(3, rank=1, init="gaussian")
    layer(GRAPH_3.node_sets["n"]["x"], graph=GRAPH_3)
    kernel = layer.kernel.numpy().copy()
    layer.initialize_from_kernel()
    np.testing.assert_array_equal(layer.kernel.numpy(), kernel)
    np.testing.assert_array_equal(layer.lora_b.numpy(), np.zeros((1, 3)))


def test_invalid_lora_options_are_named():
    with pytest.raises(ValueError, match="init=.*'svd'"):
        LoRAGCNConv(3, rank=1, init="svd")
    with pytest.raises(ValueError, match="lora_init"):
        Backbone(node_set="n", feature="x", lora_rank=2, lora_init="svd")
    layer = LoRAGCNConv(3, rank=4)
    layer(GRAPH_3.node_sets["n"]["x"], graph=GRAPH_3)
    with pytest.raises(ValueError, match="rank=4 exceeds.*smaller lora_rank"):
        layer.initialize_from_kernel()


def test_merge_lora_keeps_the_function(checkpoint):
    path, _ = checkpoint
    loaded = Backbone.from_pretrained(path, lora_rank=2)
    for conv in loaded.conv_layers:
        conv.lora_b.assign(tf.random.normal(conv.lora_b.shape))  # A trained update.
    merged = merge_lora(loaded, GRAPH)
    assert merged.lora_rank == 0 and type(merged.conv_layers[0]).__name__ == "GCNConv"
    np.testing.assert_allclose(
        merged(GRAPH, training=False), loaded(GRAPH, training=False), rtol=1e-5, atol=1e-6
    )


def test_lora_and_adapter_config_round_trip():
    assert_config_round_trip(LoRAGCNConv(3, rank=2, alpha=4.0, init="gaussian"))
    assert_config_round_trip(Adapter(2, activation="gelu"))
    assert_config_round_trip(
        Backbone(
            node_set="n",
            feature="x",
            hidden_units=3,
            activation="prelu",
            lora_rank=2,
            adapter_units=2,
            final_activation=False,
        )
    )


def _schema_with(feature_dim=2, node_set="n", edge_set="e", feature="x"):
    graph = path_graph(np.zeros((3, feature_dim)), [0], [1])
    schema = schema_of(graph)
    if node_set != "n":
        schema.node_sets[node_set].CopyFrom(schema.node_sets["n"])
        del schema.node_sets["n"]
        schema.edge_sets["e"].source = schema.edge_sets["e"].target = node_set
    if edge_set != "e":
        schema.edge_sets[edge_set].CopyFrom(schema.edge_sets["e"])
        del schema.edge_sets["e"]
    if feature != "x":
        features = schema.node_sets[node_set].features
        features[feature].CopyFrom(features["x"])
        del features["x"]
    return schema


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"feature_dim": 5}, r"feature 'x' of node set 'n' has dtype float32 and shape \[5\]"),
        ({"node_set": "paper"}, "node set 'n', which the fine-tuning schema lacks"),
        ({"feature": "feat"}, "feature 'x' of node set 'n', which the fine-tuning schema lacks"),
        ({"edge_set": "cites"}, "edge set 'e', which the fine-tuning schema lacks"),
    ],
)
def test_incompatible_schema_names_the_mismatch(checkpoint, changes, message):
    path, _ = checkpoint
    config = {"node_set": "n", "feature": "x", "edge_set": "e"}
    with pytest.raises(SchemaMismatchError, match=message):
        check_schema_compatible(config, _schema_with(), _schema_with(**changes))
    if "feature_dim" in changes:
        with pytest.raises(
            SchemaMismatchError, match="shape \\[5\\].*pre-trained on .*shape \\[2\\]"
        ):
            Backbone.from_pretrained(path, schema=_schema_with(**changes))


def test_not_a_checkpoint_says_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="backbone.json is missing"):
        Backbone.from_pretrained(tmp_path)
