"""Writing GraphTensors to TFRecord files of tf.Examples, and reading them back."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import tensorflow as tf
import tensorflow_gnn as tfgnn
from google.protobuf.message import DecodeError

from tfgraphtune.data.errors import ValidationError
from tfgraphtune.data.schema import load_schema

SchemaLike = str | os.PathLike | tfgnn.GraphSchema
_COMPRESSIONS = (None, "GZIP", "auto")
# Records parsed per batch before `unbatch` when no batch_size is asked for.
_PARSE_BATCH = 64


def _check_compression(compression: str | None, *, allow_auto: bool) -> None:
    allowed = _COMPRESSIONS if allow_auto else _COMPRESSIONS[:2]
    if compression not in allowed:
        raise ValidationError(
            f"Received an invalid value for compression, expected one of {list(allowed)}. "
            f"Received: compression={compression!r}"
        )


def write_graphs(
    path: str | os.PathLike,
    graphs: Iterable[tfgnn.GraphTensor],
    schema: SchemaLike,
    *,
    compression: str | None = None,
) -> int:
    """Streams GraphTensors into a TFRecord file, one serialized tf.Example per graph.

    Graphs are written as they come, so `graphs` may be a generator larger than memory.

    Args:
      path: The output file.
      graphs: Scalar GraphTensors that match `schema`.
      schema: A GraphSchema, a ``.pbtxt`` path or a shipped schema name.
      compression: None or ``"GZIP"``.

    Returns:
      The number of graphs written.

    Raises:
      ValidationError: A graph does not match the schema, or is batched.

    Example:

    >>> write_graphs("train.tfrecord", [graph], "cora")  # doctest: +SKIP
    1
    """
    schema = load_schema(schema)
    _check_compression(compression, allow_auto=False)
    options = tf.io.TFRecordOptions(compression_type=compression or "")
    count = 0
    with tf.io.TFRecordWriter(str(path), options=options) as writer:
        for graph in graphs:
            if graph.rank != 0:
                raise ValidationError(
                    f"Graph {count} is batched (rank {graph.rank}); write_graphs takes one "
                    "graph at a time. Iterate over the batch or call "
                    "merge_batch_to_components().",
                    rows=[count],
                )
            try:
                tfgnn.check_compatible_with_schema_pb(graph, schema)
            except (ValueError, tfgnn.ValidationError) as err:
                raise ValidationError(
                    f"Graph {count} does not match the schema: {err}", rows=[count]
                ) from None
            writer.write(tfgnn.write_example(graph).SerializeToString())
            count += 1
    return count


def _short(message: str) -> str:
    """Strips TensorFlow's function-node and op decorations from an error message."""
    message = re.sub(r"\{\{[^}]*\}\}\s*", "", message.splitlines()[0])
    return re.sub(r"\s*\[Op:.*$", "", message).strip()


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(2) == b"\x1f\x8b"


def _expected_keys(spec: tfgnn.GraphTensorSpec) -> set[str]:
    """The tf.Example feature keys that `tfgnn.write_example` writes for `spec`."""
    keys = {f"context/{name}" for name in spec.context_spec.features_spec}
    for name, node_set in spec.node_sets_spec.items():
        keys.add(f"nodes/{name}.#size")
        keys.update(f"nodes/{name}.{feature}" for feature in node_set.features_spec)
    for name, edge_set in spec.edge_sets_spec.items():
        keys.update(f"edges/{name}.{key}" for key in ("#size", "#source", "#target"))
        keys.update(f"edges/{name}.{feature}" for feature in edge_set.features_spec)
    return keys


def _check_first_record(path: Path, spec: tfgnn.GraphTensorSpec, compression: str | None) -> None:
    """Parses the first record eagerly, so a mismatch fails here, not deep in tf.data."""
    try:
        first = next(iter(tf.data.TFRecordDataset(str(path), compression_type=compression)), None)
    except (tf.errors.DataLossError, tf.errors.InvalidArgumentError) as err:
        raise ValidationError(
            f"{str(path)!r} is not a readable TFRecord file (compression "
            f"{compression or 'none'}): {_short(err.message)}. Check the path and compression."
        ) from None
    if first is None:
        return
    # TF-GNN parses a missing set as an empty one, so compare the feature keys first.
    try:
        received = set(tf.train.Example.FromString(first.numpy()).features.feature)
    except DecodeError:
        raise ValidationError(
            f"The first record of {str(path)!r} is not a tf.Example; write the file with "
            "write_graphs.",
            rows=[0],
        ) from None
    expected = _expected_keys(spec)
    missing, extra = sorted(expected - received), sorted(received - expected)
    if missing or extra:
        raise ValidationError(
            f"The graphs in {str(path)!r} do not match the schema: the first record lacks "
            f"{missing} and has unexpected {extra}. Read the file with the schema it was "
            "written with (see write_graphs).",
            rows=[0],
        )
    try:
        tfgnn.parse_single_example(spec, first)
    except (tf.errors.InvalidArgumentError, ValueError) as err:
        message = _short(getattr(err, "message", str(err)))
        raise ValidationError(
            f"The graphs in {str(path)!r} do not match the schema: {message}. Read the file "
            "with the schema it was written with (see write_graphs).",
            rows=[0],
        ) from None


def read_graphs(
    path: str | os.PathLike,
    schema: SchemaLike,
    *,
    batch_size: int | None = None,
    compression: str | None = "auto",
) -> tf.data.Dataset:
    """Reads GraphTensors written by `write_graphs`.

    Records are parsed in batches; without `batch_size` the dataset is unbatched
    into scalar GraphTensors. The first record is parsed eagerly so that a file that
    does not match the schema fails here with a `ValidationError`.

    Args:
      path: The TFRecord file.
      schema: The GraphSchema the graphs were written with (proto, path or name).
      batch_size: If set, yield batched GraphTensors of this many graphs (the last
        batch may be smaller).
      compression: None, ``"GZIP"``, or ``"auto"`` to detect gzip from the file.

    Returns:
      A `tf.data.Dataset` of GraphTensors.

    Raises:
      ValidationError: The file is missing, unreadable, or does not match the schema.
    """
    schema = load_schema(schema)
    _check_compression(compression, allow_auto=True)
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
    ):
        raise ValidationError(
            "Received an invalid value for batch_size, expected a positive integer or None. "
            f"Received: batch_size={batch_size!r}"
        )
    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"TFRecord file {str(path)!r} does not exist; check the path.")
    if compression == "auto":
        compression = "GZIP" if _is_gzip(path) else None
    spec = tfgnn.create_graph_spec_from_schema_pb(schema)
    _check_first_record(path, spec, compression)
    dataset = tf.data.TFRecordDataset(str(path), compression_type=compression)
    dataset = dataset.batch(batch_size or _PARSE_BATCH)
    dataset = dataset.map(lambda serialized: tfgnn.parse_example(spec, serialized))
    return dataset if batch_size else dataset.unbatch()
