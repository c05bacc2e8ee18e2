"""Pre-trained backbone checkpoints: weights + backbone config + GraphSchema + metadata.

Layout::

    PATH/backbone.json   Backbone.get_config()
    PATH/schema.pbtxt    the GraphSchema of the pre-training data
    PATH/pretrain.json   pre-training metadata (method, data set, epochs, loss, time, ...)
    PATH/weights/        TensorFlow checkpoint of the backbone's weights
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.data.errors import ValidationError
from tfgraphtune.data.schema import feature_shape, load_schema
from tfgraphtune.models.backbone import Backbone

WEIGHTS_PREFIX = "weights/backbone"
_FILES = ("backbone.json", "schema.pbtxt", "pretrain.json")
# Keys every backbone config has (what the fine-tuning data is checked against).
_REQUIRED_KEYS = ("node_set", "feature", "conv")


class SchemaMismatchError(ValidationError):
    """The fine-tuning data does not have the node set, edge set or feature a backbone needs."""


def check_schema_compatible(backbone_config: dict, pretrained: tfgnn.GraphSchema, schema) -> None:
    """Checks that `schema` offers what a backbone pre-trained on `pretrained` reads.

    Sub-checks: the node set exists; the input feature exists with the same dtype and
    per-node shape; the edge set exists and joins that node set to itself.

    Raises:
      SchemaMismatchError: Naming the node set, edge set or feature that does not match.
    """
    schema = load_schema(schema)
    node_set, feature = backbone_config["node_set"], backbone_config["feature"]
    if node_set not in schema.node_sets:
        raise SchemaMismatchError(
            f"the backbone reads node set '{node_set}', which the fine-tuning schema lacks "
            f"(it has {sorted(schema.node_sets)}); rename the node set or pre-train on this "
            "schema.",
            set_name=node_set,
        )
    features = schema.node_sets[node_set].features
    if feature not in features:
        raise SchemaMismatchError(
            f"the backbone reads feature '{feature}' of node set '{node_set}', which the "
            f"fine-tuning schema lacks (it has {sorted(features)}).",
            set_name=node_set,
            feature=feature,
        )
    expected = pretrained.node_sets[node_set].features[feature]
    received = features[feature]
    if feature_shape(expected) != feature_shape(received) or expected.dtype != received.dtype:
        raise SchemaMismatchError(
            f"feature '{feature}' of node set '{node_set}' has dtype "
            f"{tf.dtypes.as_dtype(received.dtype).name} and shape {list(feature_shape(received))} "
            f"in the fine-tuning schema, but the backbone was pre-trained on dtype "
            f"{tf.dtypes.as_dtype(expected.dtype).name} and shape "
            f"{list(feature_shape(expected))}; the first layer's kernel cannot be reused.",
            set_name=node_set,
            feature=feature,
        )
    edge_set = backbone_config.get("edge_set")
    if edge_set is not None:
        if edge_set not in schema.edge_sets:
            raise SchemaMismatchError(
                f"the backbone convolves over edge set '{edge_set}', which the fine-tuning "
                f"schema lacks (it has {sorted(schema.edge_sets)}).",
                set_name=edge_set,
            )
        ends = (schema.edge_sets[edge_set].source, schema.edge_sets[edge_set].target)
        if ends != (node_set, node_set):
            raise SchemaMismatchError(
                f"edge set '{edge_set}' goes from '{ends[0]}' to '{ends[1]}' in the fine-tuning "
                f"schema; the backbone needs it within node set '{node_set}'.",
                set_name=edge_set,
            )


def example_graph(schema: tfgnn.GraphSchema) -> tfgnn.GraphTensor:
    """A small random GraphTensor of `schema`, enough to build a backbone's weights."""
    spec = tfgnn.create_graph_spec_from_schema_pb(schema)
    return tfgnn.random_graph_tensor(spec, sample_dict=None)


def save_pretrained(
    backbone: Backbone, path, *, schema, metadata: dict[str, Any] | None = None
) -> Path:
    """Writes a pre-trained backbone checkpoint folder; returns its path.

    Args:
      backbone: A built `Backbone`.
      path: Folder to write (created; existing files are replaced).
      schema: GraphSchema (or shipped name / ``.pbtxt`` path) of the pre-training data.
      metadata: JSON-serializable facts about pre-training (method, epochs, loss, ...).
    """
    if not backbone.built:
        raise ValueError("the backbone has no weights yet; call it on a graph first.")
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / "backbone.json").write_text(json.dumps(backbone.get_config(), indent=2))
    tfgnn.write_schema(load_schema(schema), str(path / "schema.pbtxt"))
    meta = {"saved_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), **(metadata or {})}
    (path / "pretrain.json").write_text(json.dumps(meta, indent=2, default=str))
    tf.train.Checkpoint(backbone=backbone).write(str(path / WEIGHTS_PREFIX))
    return path


def read_pretrained(path) -> tuple[dict, tfgnn.GraphSchema, dict]:
    """``(backbone config, schema, metadata)`` of a checkpoint folder.

    Raises:
      FileNotFoundError: Not a checkpoint folder (naming the missing file).
    """
    path = Path(path)
    for name in _FILES:
        if not (path / name).exists():
            raise FileNotFoundError(
                f"{path} is not a pre-trained backbone checkpoint: {name} is missing; pass "
                "the folder that `tfgraphtune pretrain` wrote (its --out)."
            )
    config = _read_json(path / "backbone.json")
    missing = [key for key in _REQUIRED_KEYS if not isinstance(config, dict) or key not in config]
    if missing:
        raise ValidationError(
            f"{path / 'backbone.json'} does not hold a backbone config (no {missing}); the "
            "checkpoint is damaged: pre-train it again."
        )
    try:
        schema = load_schema(path / "schema.pbtxt")
    except ValidationError as err:
        raise ValidationError(f"{err} The checkpoint is damaged: pre-train it again.") from None
    return config, schema, _read_json(path / "pretrain.json")


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValidationError(
            f"{path} is unreadable or not valid JSON ({err}); the checkpoint is damaged: "
            "pre-train it again."
        ) from None


def _relative_name(variable: tf.Variable, layer: tf.keras.layers.Layer) -> str:
    """``.../gcn_0/kernel:0`` -> ``kernel`` for layer ``gcn_0`` (``down/kernel`` in adapters)."""
    name = variable.name.split(":")[0]
    marker = f"{layer.name}/"
    return name[name.rfind(marker) + len(marker) :] if marker in name else name.split("/")[-1]


def _copy_layer_weights(source: tf.keras.layers.Layer, target: tf.keras.layers.Layer) -> int:
    """Copies every variable of `source` into the same-named one of `target`."""
    by_name = {_relative_name(v, target): v for v in target.weights}
    for variable in source.weights:
        name = _relative_name(variable, source)
        if name not in by_name or by_name[name].shape != variable.shape:
            raise ValueError(
                f"cannot copy pre-trained weight {name!r} {variable.shape} of layer "
                f"{source.name!r} into {target.name!r}: the overrides changed its shape."
            )
        by_name[name].assign(variable)
    return len(source.weights)


def transfer_weights(source: Backbone, target: Backbone) -> int:
    """Copies a backbone's weights layer by layer into one with extra (LoRA/adapter) weights.

    Returns:
      The number of variables copied.
    """
    copied = 0
    for group in ("conv_layers", "norm_layers", "activation_layers", "adapter_layers"):
        sources, targets = getattr(source, group), getattr(target, group)
        if group == "adapter_layers" and not sources:
            continue  # New adapters keep their identity initialisation.
        if len(sources) != len(targets):
            raise ValueError(
                f"{group}: the pre-trained backbone has {len(sources)}, the new one {len(targets)}."
            )
        for src, dst in zip(sources, targets):
            copied += _copy_layer_weights(src, dst)
    return copied


def load_pretrained(path, *, schema=None, **overrides) -> Backbone:
    """A built `Backbone` holding a checkpoint's weights (see `Backbone.from_pretrained`).

    Raises:
      FileNotFoundError: `path` is not a checkpoint folder.
      SchemaMismatchError: `schema` lacks or changes what the backbone reads.
    """
    config, pretrained_schema, _ = read_pretrained(path)
    if schema is not None:
        check_schema_compatible(config, pretrained_schema, schema)
    graph = example_graph(pretrained_schema)
    try:
        saved = Backbone.from_config(config)
        saved(graph, training=False)
    except (TypeError, ValueError, KeyError) as err:
        raise ValidationError(
            f"{Path(path) / 'backbone.json'} does not describe a backbone ({err}); the "
            "checkpoint is damaged: pre-train it again."
        ) from None
    prefix = Path(path) / WEIGHTS_PREFIX
    try:
        status = tf.train.Checkpoint(backbone=saved).read(str(prefix))
        status.assert_existing_objects_matched().expect_partial()
    except (tf.errors.OpError, AssertionError, ValueError, IndexError) as err:
        # A truncated data file fails in the reader with IndexError ("Read less bytes").
        message = str(err).strip().splitlines()[0][:300] if str(err).strip() else type(err).__name__
        raise ValidationError(
            f"cannot restore the weights in {prefix.parent}: {message}. The checkpoint is "
            "missing, truncated or from another backbone; pre-train it again."
        ) from None
    if not overrides:
        return saved
    backbone = Backbone.from_config({**config, **overrides})
    backbone(graph, training=False)
    transfer_weights(saved, backbone)
    if backbone.lora_rank and not saved.lora_rank:
        # New LoRA factors on pre-trained kernels: PiSSA starts them from the kernels' SVD.
        for layer in backbone.conv_layers:
            layer.initialize_from_kernel()
    return backbone
