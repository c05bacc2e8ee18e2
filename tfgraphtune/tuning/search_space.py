"""Search spaces declared in the config's ``tune.space``, mapped onto config keys.

Each entry names a config key (``section.key``) and how to sample it; a trial's config is
the base config with the sampled values set::

    tune:
      space:
        model.hidden_units: {type: choice, values: [16, 32, 64]}
        model.num_layers: {type: int, min: 1, max: 3}
        model.dropout: {type: float, min: 0.1, max: 0.7, step: 0.1}
        model.normalization: {type: choice, values: [null, batch, layer]}
        train.learning_rate: {type: float, min: 1.0e-3, max: 3.0e-2, sampling: log}
        train.weight_decay: {type: choice, values: [0.0, 1.0e-4], when: {train.optimizer: adamw}}

Types: ``choice`` (``values``; any YAML values, ``null`` and lists included), ``int`` and
``float`` (``min``, ``max``, optional ``step``, ``sampling``: linear | log | reverse_log),
``bool``, ``fixed`` (``value``). Every type takes an optional ``default`` and an optional
``when: {other.key: value or [values]}``: the entry is sampled only while the other
(declared earlier) entry has one of those values, and the base config's value is kept
otherwise (KerasTuner conditional scopes).

With a pre-trained backbone (``finetune.backbone``) the default space searches the
fine-tuning strategy instead of the architecture: ``finetune.strategy`` (full |
linear_probe | top_k | discriminative | lora | adapter), and each strategy's knob only
while it is chosen: ``finetune.top_k``, ``finetune.layer_decay``, ``finetune.lora_rank``,
``finetune.adapter_units``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from tfgraphtune.training.config import ConfigError, apply_overrides

TYPES = ("choice", "int", "float", "bool", "fixed")
SAMPLINGS = ("linear", "log", "reverse_log")
_KEYS = {
    "choice": {"values"},
    "int": {"min", "max", "step", "sampling"},
    "float": {"min", "max", "step", "sampling"},
    "bool": set(),
    "fixed": {"value"},
}
_COMMON_KEYS = {"type", "default", "when"}

# Default spaces per task: only keys the config has are used (see `default_space`).
_ARCHITECTURE = {
    "model.conv": {"type": "choice", "values": ["gcn", "sage"]},
    "model.num_layers": {"type": "int", "min": 1, "max": 2},
    "model.hidden_units": {"type": "choice", "values": [16, 32, 64]},
    "model.dropout": {"type": "float", "min": 0.1, "max": 0.7, "step": 0.1},
    "model.normalization": {"type": "choice", "values": [None, "layer"]},
}
_OPTIMIZATION = {
    "train.optimizer": {"type": "choice", "values": ["adam", "adamw"]},
    "train.learning_rate": {"type": "float", "min": 1e-3, "max": 5e-2, "sampling": "log"},
    "train.weight_decay": {"type": "choice", "values": [0.0, 1e-4, 1e-3]},
}
_NODE_HEADS = {
    "model.head": {"type": "choice", "values": ["gcn", "linear", "mlp"]},
    "model.head_dropout": {"type": "float", "min": 0.1, "max": 0.7, "step": 0.1},
}
_GRAPH_HEADS = {
    "model.readout": {"type": "choice", "values": ["sum", "mean", "max"]},
    "model.head_hidden_units": {"type": "choice", "values": [32, 64, 128]},
    "model.head_dropout": {"type": "float", "min": 0.0, "max": 0.5, "step": 0.1},
}
_HEADS = {
    "node_classification": _NODE_HEADS,
    "node_regression": _NODE_HEADS,
    "graph_classification": _GRAPH_HEADS,
    "graph_regression": _GRAPH_HEADS,
    "link_prediction": {
        "model.decoder": {"type": "choice", "values": ["dot", "mlp"]},
    },
}
_STRATEGIES = {
    "finetune.strategy": {
        "type": "choice",
        "values": ["full", "linear_probe", "top_k", "discriminative", "lora", "adapter"],
    },
    "finetune.top_k": {
        "type": "int",
        "min": 1,
        "max": 2,
        "when": {"finetune.strategy": "top_k"},
    },
    "finetune.layer_decay": {
        "type": "float",
        "min": 0.3,
        "max": 1.0,
        "step": 0.1,
        "when": {"finetune.strategy": "discriminative"},
    },
    "finetune.lora_rank": {
        "type": "choice",
        "values": [4, 8, 16],
        "when": {"finetune.strategy": "lora"},
    },
    "finetune.adapter_units": {
        "type": "choice",
        "values": [16, 32, 64],
        "when": {"finetune.strategy": "adapter"},
    },
}


@dataclass(frozen=True)
class Param:
    """One searched config key.

    Attributes:
      key: The config key, ``section.key``; also the KerasTuner hyperparameter name.
      type: One of `TYPES`.
      options: The type's options (values, min, max, step, sampling, value).
      default: The default value, or None for KerasTuner's.
      when: ``[(parent key, [values])]`` conditions, outermost first.
    """

    key: str
    type: str
    options: dict = field(default_factory=dict)
    default: Any = None
    when: tuple = ()

    def encoded_values(self) -> list:
        """Choice values as KerasTuner accepts them (one primitive type, no None)."""
        values = self.options["values"]
        if _needs_encoding(values):
            return [_encode(value) for value in values]
        return list(values)

    def decode(self, value: Any) -> Any:
        if self.type == "choice" and _needs_encoding(self.options["values"]):
            return yaml.safe_load(value)
        if self.type == "float" and self.options.get("step") is not None:
            return round(float(value), 10)  # 0.30000000000000004 -> 0.3
        return value


def _needs_encoding(values: list) -> bool:
    kinds = {type(value) for value in values}
    return len(kinds) != 1 or not kinds <= {int, float, str, bool}


def _encode(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def _lookup(config: Mapping, key: str) -> Any:
    node: Any = config
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise ConfigError(f"tune.space names {key!r}, which is not a config key.")
        node = node[part]
    return node


def _invalid(key: str, message: str) -> ConfigError:
    return ConfigError(f"tune.space entry {key!r}: {message}")


def parse_space(space: Mapping[str, Any], config: Mapping[str, Any]) -> list[Param]:
    """Checks a ``tune.space`` mapping against a config; returns the params in order.

    Args:
      space: ``{config key: spec}`` as described in the module docstring.
      config: The base config: every key must exist in it.

    Raises:
      ConfigError: Unknown config keys, types or options, bad ranges, or a ``when`` that
        names a key not declared before it.
    """
    if not isinstance(space, Mapping):
        raise ConfigError(f"tune.space must be a mapping of config keys, got {space!r}.")
    params: list[Param] = []
    for key, spec in space.items():
        if key.startswith("tune.") or key == "out":
            raise _invalid(key, "the search settings and output folder cannot be searched.")
        _lookup(config, key)
        if not isinstance(spec, Mapping) or "type" not in spec:
            raise _invalid(key, f"expected a mapping with a 'type' (one of {list(TYPES)}).")
        kind = spec["type"]
        if kind not in TYPES:
            raise _invalid(key, f"expected type one of {list(TYPES)}. Received: type={kind!r}")
        unknown = set(spec) - _KEYS[kind] - _COMMON_KEYS
        if unknown:
            raise _invalid(
                key,
                f"unknown options {sorted(unknown)} for type {kind!r}; "
                f"known: {sorted(_KEYS[kind] | _COMMON_KEYS)}.",
            )
        options = {name: spec[name] for name in _KEYS[kind] if name in spec}
        _check_options(key, kind, options)
        when = []
        for parent, values in (spec.get("when") or {}).items():
            declared = {param.key: param for param in params}
            if parent not in declared:
                raise _invalid(key, f"'when' names {parent!r}, which is not declared before it.")
            values = values if isinstance(values, list) else [values]
            parent_param = declared[parent]
            if parent_param.type == "choice" and _needs_encoding(parent_param.options["values"]):
                values = [_encode(value) for value in values]
            when.append((parent, values))
        params.append(Param(key, kind, options, spec.get("default"), tuple(when)))
    return params


def _check_options(key: str, kind: str, options: dict) -> None:
    if kind == "choice":
        values = options.get("values")
        if not isinstance(values, list) or not values:
            raise _invalid(key, f"expected a non-empty list of values. Received: {values!r}")
        if len({_encode(value) for value in values}) != len(values):
            raise _invalid(key, f"values must be distinct. Received: {values!r}")
    elif kind in ("int", "float"):
        number = int if kind == "int" else (int, float)
        low, high = options.get("min"), options.get("max")
        for name, value in (("min", low), ("max", high)):
            if not isinstance(value, number) or isinstance(value, bool):
                raise _invalid(key, f"expected a number for {name}. Received: {name}={value!r}")
        if low > high:
            raise _invalid(key, f"expected min <= max. Received: min={low!r}, max={high!r}")
        sampling = options.get("sampling", "linear")
        if sampling not in SAMPLINGS:
            raise _invalid(
                key, f"expected sampling one of {list(SAMPLINGS)}. Received: {sampling!r}"
            )
        if sampling != "linear" and low <= 0:
            raise _invalid(key, f"{sampling} sampling needs min > 0. Received: min={low!r}")
        step = options.get("step")
        if step is not None and (not isinstance(step, number) or step <= 0):
            raise _invalid(key, f"expected step > 0. Received: step={step!r}")
    elif kind == "fixed" and "value" not in options:
        raise _invalid(key, "type 'fixed' needs a value.")


def default_space(config: Mapping[str, Any]) -> dict[str, dict]:
    """The task's default ``tune.space``: architecture, optimizer, head, strategy knobs.

    Architecture keys are left out when a pre-trained backbone is given (``finetune.backbone``
    set), which fixes them; the strategy knobs are added only then. Keys the config does
    not have (another task's, or the ``finetune`` section before it exists) are skipped.
    """
    finetune = config.get("finetune") or {}
    pretrained = isinstance(finetune, Mapping) and finetune.get("backbone")
    space = {} if pretrained else dict(_ARCHITECTURE)
    space.update(_OPTIMIZATION)
    space.update(_HEADS.get(config["task"], {}))
    if pretrained:
        space.update(_STRATEGIES)
    result = {}
    for key, spec in space.items():
        try:
            _lookup(config, key)
        except ConfigError:
            continue
        when = {p: v for p, v in spec.get("when", {}).items() if p in result}
        if "when" in spec and not when:
            continue
        result[key] = {**spec, **({"when": when} if when else {})}
    return result


def space_from_config(config: Mapping[str, Any]) -> list[Param]:
    """The parsed ``tune.space`` of a config, or the task's default space when it is null."""
    space = config["tune"]["space"]
    return parse_space(default_space(config) if space is None else space, config)


def objective_from_config(config: Mapping[str, Any]) -> tuple[str, str]:
    """``(metric name, direction)`` from ``tune.objective``, else the task's default.

    Raises:
      ConfigError: A malformed objective.
    """
    objective = config["tune"]["objective"]
    if objective is None:
        from tfgraphtune.tasks import get_task

        return get_task(config["task"]).default_objective
    if isinstance(objective, str):
        objective = {"name": objective}
    if not isinstance(objective, Mapping) or not isinstance(objective.get("name"), str):
        raise ConfigError(
            "tune.objective must be {name: METRIC, direction: min|max}, e.g. "
            f"{{name: val_accuracy, direction: max}}. Received: {objective!r}"
        )
    name = objective["name"]
    direction = objective.get("direction")
    if direction is None:
        direction = "min" if name.endswith("loss") or name.endswith("error") else "max"
    if direction not in ("min", "max"):
        raise ConfigError(f"tune.objective direction must be min or max. Received: {direction!r}")
    return name, direction


def declare(hp, params: list[Param]) -> dict[str, Any]:
    """Declares `params` on a KerasTuner ``HyperParameters``; returns the active values.

    Returns:
      ``{config key: value}`` for every param whose ``when`` conditions hold.
    """
    # A param whose condition was just met has no value yet: give it its default.
    hp.ensure_active_values()
    values: dict[str, Any] = {}
    for param in params:
        scopes = [hp.conditional_scope(parent, parents) for parent, parents in param.when]
        for scope in scopes:
            scope.__enter__()
        try:
            value = _declare_one(hp, param)
        finally:
            for scope in reversed(scopes):
                scope.__exit__(None, None, None)
        if value is not None and all(
            hp.values.get(parent) in parents for parent, parents in param.when
        ):
            values[param.key] = param.decode(value)
    return values


def _declare_one(hp, param: Param):
    options = param.options
    if param.type == "choice":
        default = (
            None
            if param.default is None
            else param.encoded_values()[
                [_encode(v) for v in param.options["values"]].index(_encode(param.default))
            ]
        )
        return hp.Choice(param.key, param.encoded_values(), default=default)
    if param.type == "int":
        return hp.Int(
            param.key,
            options["min"],
            options["max"],
            step=options.get("step"),
            sampling=options.get("sampling", "linear"),
            default=param.default,
        )
    if param.type == "float":
        return hp.Float(
            param.key,
            float(options["min"]),
            float(options["max"]),
            step=options.get("step"),
            sampling=options.get("sampling", "linear"),
            default=param.default,
        )
    if param.type == "bool":
        return hp.Boolean(param.key, default=bool(param.default))
    return hp.Fixed(param.key, options["value"])


def trial_config(config: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """The base config with a trial's sampled ``{config key: value}`` set."""
    return apply_overrides(config, {key: _plain(value) for key, value in values.items()})


def _plain(value: Any) -> Any:
    # numpy scalars from KerasTuner would not dump to YAML.
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        value = value.item()
    return value
