"""The type and range of every config key, checked whole when a config is loaded.

Every value is checked before any data is read, and every problem is reported at once,
each naming its key, what it must be and what was received::

    config key 'model.dropout' must be a rate in [0, 1); received 1.5
    config key 'train.learning_rate' must be a number > 0; received 'abc'

Names that only a task can check (its heads, the metrics it logs) are checked by the task
(`tfgraphtune.tasks.Task.check_config`) right after this, still before any data is read.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

# Keras activation names a config may use (tf_keras's `activations.get` names) plus PReLU.
ACTIVATIONS = (
    "relu",
    "elu",
    "selu",
    "gelu",
    "tanh",
    "sigmoid",
    "softplus",
    "softsign",
    "swish",
    "silu",
    "mish",
    "linear",
    "leaky_relu",
    "relu6",
    "hard_sigmoid",
    "exponential",
    "prelu",
)

Check = Callable[[Any], bool]


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return _is_int(value) or (isinstance(value, float) and math.isfinite(value))


def _int(minimum: int | None = None) -> tuple[Check, str]:
    text = "an integer" if minimum is None else f"an integer >= {minimum}"
    return (lambda v: _is_int(v) and (minimum is None or v >= minimum)), text


def _number(low: float | None = None, high: float | None = None, *, open_low=False,
            open_high=False) -> tuple[Check, str]:  # fmt: skip
    def check(value) -> bool:
        if not _is_number(value):
            return False
        if low is not None and (value < low or (open_low and value == low)):
            return False
        return not (high is not None and (value > high or (open_high and value == high)))

    if low is not None and high is not None:
        text = f"a number in {'(' if open_low else '['}{low}, {high}{')' if open_high else ']'}"
    elif low is not None:
        text = f"a number {'>' if open_low else '>='} {low}"
    else:
        text = "a number"
    return check, text


def _choice(*values) -> tuple[Check, str]:
    return (lambda v: v in values), f"one of {list(values)}"


def _optional(rule: tuple[Check, str]) -> tuple[Check, str]:
    check, text = rule
    return (lambda v: v is None or check(v)), f"null or {text}"


def _string() -> tuple[Check, str]:
    return (lambda v: isinstance(v, str) and bool(v)), "a non-empty string"


def _bool() -> tuple[Check, str]:
    return (lambda v: isinstance(v, bool)), "true or false"


def _list_of(rule: tuple[Check, str], *, non_empty=False) -> tuple[Check, str]:
    check, text = rule

    def list_check(value) -> bool:
        return isinstance(value, list) and (bool(value) or not non_empty) and all(map(check, value))

    return list_check, f"a {'non-empty ' if non_empty else ''}list of {text}"


def _either(*rules: tuple[Check, str]) -> tuple[Check, str]:
    return (
        lambda v: any(check(v) for check, _ in rules),
        " or ".join(text for _, text in rules),
    )


def _mapping_of_paths() -> tuple[Check, str]:
    return (
        lambda v: (
            isinstance(v, Mapping)
            and all(isinstance(k, str) and isinstance(p, str) and p for k, p in v.items())
        ),
        "a mapping of set name -> file path",
    )


def _mapping() -> tuple[Check, str]:
    return (lambda v: isinstance(v, Mapping)), "a mapping"


RATE = (_number(0.0, 1.0, open_high=True)[0], "a rate in [0, 1)")
FRACTION = (_number(0.0, 1.0, open_high=True)[0], "a fraction in [0, 1)")
POSITIVE = _number(0.0, open_low=True)
NON_NEGATIVE = _number(0.0)
ACTIVATION = _choice(*ACTIVATIONS)


def _rules() -> dict[str, tuple[Check, str]]:
    # Imported here: the names live next to the code that uses them.
    from tfgraphtune.data.datasets.from_tables import CLEANING_STEPS
    from tfgraphtune.data.preprocessing import FEATURE_NORMALIZATIONS
    from tfgraphtune.distribute.strategy import DISTRIBUTIONS
    from tfgraphtune.finetune.strategies import STRATEGIES
    from tfgraphtune.layers.lora_gcn_conv import LORA_INITS
    from tfgraphtune.models.backbone import CONVOLUTIONS, NORMALIZATIONS
    from tfgraphtune.models.tasks.graph_classification import READOUTS
    from tfgraphtune.models.tasks.heads import HEAD_KINDS
    from tfgraphtune.models.tasks.link_prediction import DECODERS
    from tfgraphtune.pretrain.augment import AUGMENTATIONS
    from tfgraphtune.pretrain.runner import METHODS
    from tfgraphtune.recommend.recommender_model import RECOMMENDERS
    from tfgraphtune.tasks import task_names
    from tfgraphtune.training.config import STAGES
    from tfgraphtune.training.optimizers import OPTIMIZERS, SCHEDULES

    return {
        "task": _choice(*task_names()),
        "data.dataset": _string(),
        "data.data_dir": _optional(_string()),
        "data.tables.schema": _optional(_string()),
        "data.tables.nodes": _mapping_of_paths(),
        "data.tables.edges": _mapping_of_paths(),
        "data.tables.node_set": _optional(_string()),
        "data.tables.feature": _string(),
        "data.tables.label": _optional(_string()),
        "data.tables.splits": _optional(_string()),
        "data.tables.cleaning": _list_of(_choice(*CLEANING_STEPS)),
        "data.tables.id_column": _string(),
        "data.tables.graphs": _optional(_string()),
        "data.tables.graph_column": _string(),
        "data.tfrecord.path": _optional(_string()),
        "data.tfrecord.schema": _optional(_string()),
        "data.tfrecord.node_set": _optional(_string()),
        "data.tfrecord.feature": _string(),
        "data.tfrecord.label": _optional(_string()),
        "data.tfrecord.split_feature": _optional(_string()),
        "data.interactions": _mapping(),
        "data.interactions.path": _optional(_string()),
        "data.interactions.movielens_dir": _optional(_string()),
        "data.interactions.format": _choice("table", "movielens"),
        "data.interactions.user_column": _string(),
        "data.interactions.item_column": _string(),
        "data.interactions.rating_threshold": _optional(_number()),
        "data.interactions.split": _choice("random", "time", "fixed"),
        "data.interactions.test_ratio": _number(0.0, 1.0, open_low=True, open_high=True),
        "data.interactions.test_per_user": _int(1),
        "data.interactions.train_path": _optional(_string()),
        "data.interactions.test_path": _optional(_string()),
        "data.normalize_features": _optional(_choice(*FEATURE_NORMALIZATIONS)),
        "data.sampling": _mapping(),
        "data.sampling.fanouts": _optional(_list_of(_int(1), non_empty=True)),
        "data.sampling.batch_size": _int(1),
        "data.sampling.samples": _optional(_string()),
        "data.folds": _int(2),
        "data.fold": _int(0),
        "data.validation_fraction": _number(0.0, 1.0, open_low=True, open_high=True),
        "data.val_fraction": FRACTION,
        "data.test_fraction": FRACTION,
        "model.conv": _choice(*CONVOLUTIONS),
        "model.hidden_units": _either(_int(1), _list_of(_int(1), non_empty=True)),
        "model.num_layers": _int(1),
        "model.activation": ACTIVATION,
        "model.final_activation": _either(_optional(ACTIVATION), _bool()),
        "model.dropout": RATE,
        "model.input_dropout": _optional(RATE),
        "model.sparse_inputs": _bool(),
        "model.residual": _bool(),
        "model.normalization": _choice(*NORMALIZATIONS),
        "model.l2": NON_NEGATIVE,
        "model.conv_options": _mapping(),
        "model.head": _optional(_choice(*HEAD_KINDS)),
        "model.head_dropout": RATE,
        "model.head_hidden_units": _int(1),
        "model.readout": _either(_choice(*READOUTS), _list_of(_choice(*READOUTS), non_empty=True)),
        "model.decoder": _choice(*DECODERS),
        "model.recommender": _choice(*RECOMMENDERS),
        "model.embedding_dim": _int(1),
        "model.side_features": _bool(),
        "train.optimizer": _choice(*OPTIMIZERS),
        "train.learning_rate": POSITIVE,
        "train.weight_decay": NON_NEGATIVE,
        "train.schedule": _choice(*SCHEDULES),
        "train.warmup_steps": _int(0),
        "train.decay_epochs": _optional(_int(1)),
        "train.decay_rate": _number(0.0, 1.0, open_low=True),
        "train.epochs": _int(1),
        "train.batch_size": _int(1),
        "train.label_smoothing": RATE,
        "train.negatives_per_positive": _either(_int(1), _choice("all")),
        "train.early_stopping": _optional(_mapping()),
        "train.early_stopping.monitor": _string(),
        "train.early_stopping.patience": _optional(_int(1)),
        "train.early_stopping.mode": _choice("auto", "min", "max"),
        "train.seed": _int(0),
        "train.verbose": _choice(0, 1, 2),
        "train.tensorboard": _bool(),
        "train.distribution": _choice(*DISTRIBUTIONS),
        "train.devices": _optional(_list_of(_string(), non_empty=True)),
        "train.mixed_precision": _either(_choice("auto"), _bool()),
        "train.contrastive_weight": NON_NEGATIVE,
        "train.bpr_weight": NON_NEGATIVE,
        "train.contrastive_eps": POSITIVE,
        "train.contrastive_temperature": POSITIVE,
        "train.ks": _list_of(_int(1), non_empty=True),
        "train.backup_interval": _either(_choice("auto"), _optional(_int(1))),
        "pretrain.method": _choice(*METHODS),
        "pretrain.epochs": _int(1),
        "pretrain.learning_rate": POSITIVE,
        "pretrain.schedule": _choice("constant", "cosine"),
        "pretrain.weight_decay": NON_NEGATIVE,
        "pretrain.patience": _optional(_int(1)),
        "pretrain.mask_rate": _number(0.0, 1.0, open_low=True, open_high=True),
        "pretrain.replace_rate": RATE,
        "pretrain.sce_alpha": POSITIVE,
        "pretrain.mask_token": _choice("learned", "zeros"),
        "pretrain.negatives_per_edge": _int(1),
        "pretrain.augmentations": _list_of(_choice(*AUGMENTATIONS), non_empty=True),
        "pretrain.augment_rate": RATE,
        "pretrain.temperature": POSITIVE,
        "finetune.backbone": _optional(_string()),
        "finetune.strategy": _choice(*STRATEGIES),
        "finetune.top_k": _int(0),
        "finetune.unfreeze_every": _int(1),
        "finetune.layer_decay": _number(0.0, 1.0, open_low=True),
        "finetune.lora_rank": _int(1),
        "finetune.lora_alpha": POSITIVE,
        "finetune.lora_init": _choice(*LORA_INITS),
        "finetune.adapter_units": _int(1),
        "finetune.l2sp_alpha": NON_NEGATIVE,
        "finetune.resume": _optional(_string()),
        "out": _string(),
        "export.quantize": _choice("float32", "float16", "int8"),
        "export.max_nodes": _int(1),
        "export.max_edges": _int(1),
        "export.max_request_nodes": _optional(_int(1)),
        "export.max_request_edges": _optional(_int(1)),
        "export.model_name": _optional(_string()),
        "run.stages": _list_of(_choice(*STAGES), non_empty=True),
        "tune.tuner": _choice("random", "hyperband", "bayesian"),
        "tune.max_trials": _int(1),
        "tune.objective": _optional(_mapping()),
        "tune.space": _optional(_mapping()),
        "tune.seed": _int(0),
        "tune.max_epochs": _optional(_int(1)),
        "tune.factor": _int(2),
        "tune.hyperband_iterations": _int(1),
        "tune.num_initial_points": _optional(_int(1)),
        "tune.max_retries_per_trial": _int(0),
        "tune.max_consecutive_failed_trials": _int(1),
    }


_MISSING = object()


def _lookup(config: Mapping[str, Any], dotted: str):
    value: Any = config
    for part in dotted.split("."):
        if not isinstance(value, Mapping):
            return _MISSING
        value = value.get(part, _MISSING)
        if value is _MISSING:
            return _MISSING
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def config_problems(config: Mapping[str, Any]) -> list[str]:
    """One line per key whose value has the wrong type or range (empty when all are fine)."""
    problems = []
    for key, (check, expected) in _rules().items():
        value = _lookup(config, key)
        if value is _MISSING:
            continue  # A parent that is null (e.g. train.early_stopping: null).
        if not check(value):
            problems.append(f"config key {key!r} must be {expected}; received {_short(value)}")
    fold, folds = _lookup(config, "data.fold"), _lookup(config, "data.folds")
    if _is_int(fold) and _is_int(folds) and fold >= folds:
        problems.append(
            f"config key 'data.fold' must be below data.folds ({folds}); received {fold}"
        )
    val, test = _lookup(config, "data.val_fraction"), _lookup(config, "data.test_fraction")
    if _is_number(val) and _is_number(test) and val + test >= 1:
        problems.append(
            "config keys 'data.val_fraction' + 'data.test_fraction' must sum below 1 to leave "
            f"training edges; received {val} + {test}"
        )
    return problems
