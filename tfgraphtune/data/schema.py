"""Reading GraphSchema files and the schemas that ship with tfgraphtune."""

from __future__ import annotations

import os
from pathlib import Path

import tensorflow_gnn as tfgnn
from google.protobuf import text_format

from tfgraphtune.data.errors import ValidationError

_BUILTIN_DIR = Path(__file__).resolve().parent.parent / "schemas"


def builtin_schema_names() -> list[str]:
    """Returns the names of the GraphSchemas shipped in ``schemas/`` (without ``.pbtxt``)."""
    return sorted(p.stem for p in _BUILTIN_DIR.glob("*.pbtxt"))


def load_schema(path_or_name: str | os.PathLike | tfgnn.GraphSchema) -> tfgnn.GraphSchema:
    """Reads and validates a GraphSchema.

    Args:
      path_or_name: A ``.pbtxt`` file path, the name of a shipped schema (for example
        ``"cora"``; see `builtin_schema_names`), or a GraphSchema proto (returned as is
        after validation).

    Returns:
      The parsed `tfgnn.GraphSchema`.

    Raises:
      ValidationError: The file is missing, does not parse, or fails
        `tfgnn.validate_schema`.
    """
    if isinstance(path_or_name, tfgnn.GraphSchema):
        schema = path_or_name
        source = "the given GraphSchema"
    else:
        path = Path(path_or_name)
        if not path.exists() and path.suffix == "" and (_BUILTIN_DIR / f"{path}.pbtxt").exists():
            path = _BUILTIN_DIR / f"{path}.pbtxt"
        if not path.exists():
            raise ValidationError(
                f"GraphSchema file {str(path_or_name)!r} does not exist; pass a .pbtxt path or one "
                f"of the shipped schema names {builtin_schema_names()}."
            )
        source = str(path)
        if path.is_dir():
            raise ValidationError(
                f"GraphSchema path {source!r} is a folder; pass the .pbtxt file inside it."
            )
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            raise ValidationError(
                f"GraphSchema file {source} is not text (a binary file?); pass a GraphSchema "
                "text proto (.pbtxt)."
            ) from None
        except OSError as err:
            raise ValidationError(
                f"cannot read GraphSchema file {source}: {err.strerror or err}."
            ) from None
        try:
            schema = text_format.Parse(text, tfgnn.GraphSchema())
        except text_format.ParseError as err:
            where = f" (line {err.GetLine()})" if err.GetLine() else ""
            raise ValidationError(
                f"GraphSchema file {source} is not a valid GraphSchema text proto{where}: {err}"
            ) from None
    try:
        tfgnn.validate_schema(schema)
    except (ValueError, tfgnn.ValidationError) as err:
        raise ValidationError(f"GraphSchema {source} is invalid: {err}") from None
    if not schema.node_sets:
        raise ValidationError(f"GraphSchema {source} has no node sets; declare at least one.")
    return schema


def feature_shape(feature: tfgnn.proto.graph_schema_pb2.Feature) -> tuple[int | None, ...]:
    """Returns a feature's per-item shape from the schema (``()`` for scalars)."""
    return tuple(d.size if d.size > 0 else None for d in feature.shape.dim)
