"""Where a run's backbone comes from: built from scratch, a pre-trained checkpoint, or a run.

`backbone_source` decides it from the config alone (reading only small JSON files), so the
settings can be checked and the data prepared for the backbone that will really be used,
before anything is built.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from tfgraphtune.data.errors import ValidationError
from tfgraphtune.models.backbone import Backbone

# The ``model`` keys that make a backbone's structure.
STRUCTURE_KEYS = (
    "conv",
    "hidden_units",
    "num_layers",
    "activation",
    "final_activation",
    "sparse_inputs",
    "residual",
    "normalization",
    "conv_options",
)
# The ``model`` keys a fine-tuning config may set on a pre-trained backbone: they
# regularize training and do not change the weights' shapes.
REGULARIZATION_KEYS = ("dropout", "input_dropout", "l2")
SCRATCH, PRETRAINED, RESUME = "scratch", "pretrained", "resume"


@dataclasses.dataclass(frozen=True)
class BackboneSource:
    """The origin of a run's backbone.

    Attributes:
      kind: ``"scratch"``, ``"pretrained"`` (``finetune.backbone``) or ``"resume"``
        (``finetune.resume``: the whole model of a fine-tuned run continues).
      path: The checkpoint or run folder, or None.
      config: The backbone's config (`Backbone.get_config` keys) without the set names.
      notes: What of the config's ``model`` section the source replaced, in words.
    """

    kind: str
    path: str | None
    config: dict[str, Any]
    notes: tuple[str, ...] = ()


def backbone_options(model_section: dict[str, Any]) -> dict[str, Any]:
    """The `Backbone` keyword arguments of a config's ``model`` section."""
    return {key: model_section[key] for key in (*STRUCTURE_KEYS, *REGULARIZATION_KEYS)}


def _read_backbone_json(path: Path, what: str) -> dict[str, Any]:
    try:
        values = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValidationError(
            f"{path.parent} is not a {what}: {path.name} is missing; pass the folder "
            f"`tfgraphtune {'pretrain' if 'checkpoint' in what else 'finetune'}` wrote."
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValidationError(f"{path} is unreadable or not valid JSON ({err}).") from None
    if not isinstance(values, dict):
        raise ValidationError(f"{path} does not hold a backbone config.")
    return values


def _check_backbone_keys(backbone, path: Path, fix: str) -> None:
    """A backbone config names at least its node set, feature and convolution."""
    missing = [k for k in ("node_set", "feature", "conv") if not isinstance(backbone, dict)
               or k not in backbone]  # fmt: skip
    if missing:
        raise ValidationError(
            f"{path} does not hold a backbone config (no {missing}); it is damaged: {fix}."
        )


def backbone_source(config: dict[str, Any]) -> BackboneSource:
    """Where the config's backbone comes from, with its structure.

    Raises:
      ValidationError: ``finetune.backbone`` / ``finetune.resume`` do not name a
        readable checkpoint / run folder.
    """
    finetune, model = config["finetune"], config["model"]
    if finetune["resume"]:
        path = Path(finetune["resume"])
        saved = _read_backbone_json(path / "model.json", "run folder")
        inner = saved.get("config")
        inner = inner.get("backbone") if isinstance(inner, dict) else None
        backbone = inner.get("config", inner) if isinstance(inner, dict) else None
        from tfgraphtune.tasks import get_task

        if not get_task(config["task"]).uses_backbone and backbone is None:
            backbone = {}  # A recommender's model has no Backbone to describe.
        else:
            _check_backbone_keys(backbone, path / "model.json", "train it again")
        return BackboneSource(RESUME, str(path), backbone, _replaced(model, backbone, path))
    if finetune["backbone"]:
        path = Path(finetune["backbone"])
        backbone = _read_backbone_json(path / "backbone.json", "pre-trained backbone checkpoint")
        _check_backbone_keys(backbone, path / "backbone.json", "pre-train it again")
        return BackboneSource(PRETRAINED, str(path), backbone, _replaced(model, backbone, path))
    return BackboneSource(SCRATCH, None, backbone_options(model))


def _replaced(model: dict[str, Any], backbone: dict[str, Any], path: Path) -> tuple[str, ...]:
    """Notes on structure keys whose config value differs from the source's."""
    from tfgraphtune.training.config import DEFAULTS

    notes = []
    for key in STRUCTURE_KEYS:
        if key in backbone and model[key] != backbone[key] and model[key] != DEFAULTS["model"][key]:
            notes.append(
                f"model.{key}={model[key]!r} from the config is replaced by {backbone[key]!r} "
                f"of {path} (a pre-trained structure cannot change)"
            )
    return tuple(notes)


def uses_gcn(source: BackboneSource, head: str | None) -> bool:
    """Whether any layer is a GCN convolution (so cached GCN coefficients help)."""
    return source.config.get("conv") == "gcn" or head == "gcn"


def make_backbone(source: BackboneSource, config: dict[str, Any], data) -> Backbone:
    """A built backbone for `data` (scratch or pre-trained; not for resume).

    Raises:
      SchemaMismatchError: The data lacks what a pre-trained backbone reads.
    """
    if source.kind == PRETRAINED:
        regularization = {key: config["model"][key] for key in REGULARIZATION_KEYS}
        return Backbone.from_pretrained(source.path, schema=data.schema, **regularization)
    return Backbone(
        node_set=data.node_set,
        feature=data.feature,
        edge_set=data.edge_set,
        **source.config,
    )
