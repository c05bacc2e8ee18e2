"""Shipped GraphSchemas load and pass TF-GNN's own validation."""

from __future__ import annotations

import pytest
import tensorflow_gnn as tfgnn

from tfgraphtune.data import ValidationError, load_schema
from tfgraphtune.data.schema import builtin_schema_names, feature_shape

SHIPPED = ["citeseer", "cora", "mutag", "pubmed", "user_item"]


def test_builtin_schema_names_lists_every_shipped_schema():
    assert builtin_schema_names() == SHIPPED


@pytest.mark.parametrize("name", SHIPPED, ids=SHIPPED)
def test_shipped_schema_passes_tfgnn_validate_schema(name):
    schema = load_schema(name)
    tfgnn.validate_schema(schema)
    assert len(schema.node_sets) >= 1


@pytest.mark.parametrize(
    ("name", "set_name", "feature", "shape"),
    [
        ("cora", "paper", "feat", (1433,)),
        ("cora", "paper", "label", ()),
        ("mutag", "atom", "feat", (7,)),
        ("user_item", "item", "feat", (8,)),
    ],
    ids=["cora-feat", "cora-label", "mutag-feat", "user_item-feat"],
)
def test_feature_shape(name, set_name, feature, shape):
    schema = load_schema(name)
    assert feature_shape(schema.node_sets[set_name].features[feature]) == shape


def test_load_schema_from_path_and_proto(tmp_path, tiny_schema):
    path = tmp_path / "tiny.pbtxt"
    from google.protobuf import text_format

    path.write_text(text_format.MessageToString(tiny_schema))
    assert load_schema(path) == tiny_schema
    assert load_schema(tiny_schema) is tiny_schema


def test_load_schema_missing_file_names_path_and_choices():
    with pytest.raises(ValidationError, match=r"nope\.pbtxt.*does not exist.*cora"):
        load_schema("nope.pbtxt")
