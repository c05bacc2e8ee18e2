"""Run configuration: defaults, YAML files and ``section.key=value`` overrides."""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

# Mappings whose keys the user names (node/edge set names, conv options): merged as values.
FREE_FORM_KEYS = ("conv_options", "nodes", "edges")
STAGES = ("pretrain", "finetune", "evaluate", "export")

DEFAULTS: dict[str, Any] = {
    "task": "node_classification",
    "data": {
        "dataset": "cora",  # a known data set name, "tables" or "tfrecord" (see below)
        "data_dir": None,
        "tables": {  # the user's own node/edge tables (dataset: tables)
            "schema": None,
            "nodes": {},  # node set -> CSV/Parquet path
            "edges": {},  # edge set -> CSV/Parquet path with source/target columns
            "node_set": None,
            "feature": "feat",
            "label": "label",  # node tasks: node column; graph tasks: graph table column
            "splits": None,  # node tasks: CSV/Parquet with columns id, split
            "cleaning": [],  # e.g. [drop_self_loops, drop_dangling_edges, make_undirected]
            "id_column": "id",
            "graphs": None,  # graph tasks: CSV/Parquet with graph, label[, split] columns
            "graph_column": "graph",  # graph tasks: the node table's graph id column
        },
        "tfrecord": {  # graphs written by tfgraphtune.data.write_graphs (dataset: tfrecord)
            "path": None,
            "schema": None,
            "node_set": None,
            "feature": "feat",
            "label": "label",  # node tasks: node feature; graph tasks: context feature
            "split_feature": "split",  # node tasks: node feature 0/1/2 = train/val/test
        },
        "interactions": {  # recommendation: user-item interactions (dataset: interactions)
            "path": None,  # CSV/Parquet table user,item[,rating,timestamp] (format: table)
            "movielens_dir": None,  # folder with u.data[, u.item, u.user] (format: movielens)
            "format": "table",  # table | movielens
            "user_column": "user",
            "item_column": "item",
            "rating_threshold": None,  # keep events rated >= this (implicit feedback)
            "split": "random",  # random (per-user ratio) | time (last per user) | fixed
            "test_ratio": 0.2,  # split: random
            "test_per_user": 1,  # split: time
            "train_path": None,  # split: fixed (interaction tables)
            "test_path": None,  # split: fixed
        },
        "normalize_features": "row_sum",  # row_sum | standardize | null
        # Neighbour sampling for node tasks and link prediction (null fanouts: full batch).
        "sampling": {
            "fanouts": None,  # neighbours sampled per hop, e.g. [10, 10]
            "batch_size": 512,  # seed nodes (link prediction: seed edges) per global step
            # node tasks: a `tfgraphtune sample` folder (TF-GNN's Beam sampler) to train on
            "samples": None,
        },
        "folds": 10,  # graph_classification: k-fold cross-validation
        "fold": 0,  # graph_classification: which fold is the test fold
        "validation_fraction": 0.1,  # graph_classification: of the training folds
        "val_fraction": 0.05,  # link_prediction
        "test_fraction": 0.1,  # link_prediction
    },
    "model": {
        "conv": "gcn",
        "hidden_units": 16,
        "num_layers": 1,
        "activation": "relu",
        "final_activation": None,  # None: `activation` after the last layer too; linear
        "dropout": 0.5,
        "input_dropout": None,
        "sparse_inputs": True,
        "residual": False,
        "normalization": None,
        "l2": 2.5e-4,
        "conv_options": {},
        "head": None,  # null: the task's default (node tasks gcn, graph tasks mlp)
        "head_dropout": 0.5,
        "head_hidden_units": 64,
        "readout": "sum",  # graph tasks
        "decoder": "dot",  # link_prediction
        "recommender": "lightgcn",  # recommendation: lightgcn | mf | gcn | sage
        "embedding_dim": 64,  # recommendation
        "side_features": False,  # recommendation (gcn/sage): user/item side features
    },
    "train": {
        "optimizer": "adam",
        "learning_rate": 0.01,
        "weight_decay": 0.0,
        "schedule": "constant",  # constant | cosine | exponential | step
        "warmup_steps": 0,
        "decay_epochs": None,  # exponential/step: epochs per decay period (null: all epochs)
        "decay_rate": 0.5,  # exponential/step: factor per period
        "epochs": 200,
        "batch_size": 32,
        "label_smoothing": 0.0,
        "negatives_per_positive": 1,  # link_prediction: an integer, or "all" (GAE's loss)
        "early_stopping": {"monitor": "val_loss", "patience": 10, "mode": "auto"},
        "seed": 0,
        "verbose": 0,
        "tensorboard": True,
        # tf.distribute: auto | none | one_device | mirrored | multi_worker | parameter_server
        "distribution": "auto",
        "devices": None,  # mirrored: device names, e.g. ["/gpu:0", "/gpu:1"]
        "mixed_precision": "auto",  # auto (on with a GPU) | true | false
        # recommendation: SimGCL's contrastive loss as an auxiliary loss (0: off)
        "contrastive_weight": 0.0,
        "bpr_weight": 1.0,  # recommendation: 0 with contrastive_weight > 0 pre-trains
        "contrastive_eps": 0.1,
        "contrastive_temperature": 0.2,
        "ks": [10, 20],  # recommendation: cut-offs of Recall/NDCG/...@K
        # Crash-safe backups (Keras BackupAndRestore) in .OUT.backup: auto (every 5 s of
        # training and after the last epoch) | N (every N epochs) | null (off)
        "backup_interval": "auto",
    },
    "pretrain": {
        "method": "dgi",  # dgi | graphmae | gae | attr_mask | graph_contrastive
        "epochs": 300,
        "learning_rate": 0.001,
        "schedule": "constant",  # constant | cosine (to zero over pretrain.epochs)
        "weight_decay": 0.0,  # coupled L2 on every variable (PyTorch Adam's weight_decay)
        "patience": None,  # stop when the loss has not improved for this many epochs (best kept)
        "mask_rate": 0.5,  # graphmae, attr_mask
        "replace_rate": 0.05,  # graphmae
        "sce_alpha": 3.0,  # graphmae
        "mask_token": "learned",  # graphmae: learned | zeros
        "negatives_per_edge": 1,  # gae
        "augmentations": ["node_drop", "edge_perturb"],  # graph_contrastive
        "augment_rate": 0.2,  # graph_contrastive
        "temperature": 0.5,  # graph_contrastive
    },
    "finetune": {
        "backbone": None,  # a pre-trained checkpoint folder (tfgraphtune pretrain --out)
        "strategy": "full",
        "top_k": 1,
        "unfreeze_every": 10,
        "layer_decay": 0.5,
        "lora_rank": 8,
        "lora_alpha": 16.0,
        "lora_init": "pissa",  # pissa | gaussian (see tfgraphtune/layers/lora_gcn_conv.py)
        "adapter_units": 32,
        "l2sp_alpha": 0.01,
        "resume": None,  # a fine-tuned run folder to continue from (continual fine-tuning)
    },
    "out": "runs/latest",
    # `tfgraphtune export` and the export stage of `tfgraphtune run`.
    "export": {
        "quantize": "float32",  # float32 | float16 | int8
        "max_nodes": 100_000,  # per request graph
        "max_edges": 1_000_000,
        # Per request (or server-side batch): padded node rows, edges; null: 32 x per graph.
        "max_request_nodes": None,
        "max_request_edges": None,
        "model_name": None,  # null: the export folder's name
    },
    # `tfgraphtune run`: the stages to run, in order (each skipped when up to date).
    "run": {"stages": ["finetune", "evaluate", "export"]},
    # Hyperparameter search (`tfgraphtune tune`); see tfgraphtune/tuning/search_space.py.
    "tune": {
        "tuner": "random",  # random | hyperband | bayesian
        "max_trials": 10,
        "objective": None,  # {name: val_accuracy, direction: max}; null: the task's default
        "space": None,  # {config.key: {type: ..., ...}}; null: the task's default space
        "seed": 0,
        "max_epochs": None,  # hyperband: epochs of the longest trial; null: train.epochs
        "factor": 3,  # hyperband
        "hyperband_iterations": 1,  # hyperband
        "num_initial_points": None,  # bayesian: random trials before the Gaussian process
        "max_retries_per_trial": 0,
        "max_consecutive_failed_trials": 3,
    },
}


class _Loader(yaml.SafeLoader):
    """YAML 1.1's SafeLoader, except that ``1e-3`` is a float (YAML 1.1 wants ``1.0e-3``)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def _load_yaml(text_or_stream):
    return yaml.load(text_or_stream, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)


class ConfigError(ValueError):
    """A config file or override names an unknown key or an invalid value."""


def _merge(base: dict, update: Mapping, path: str) -> dict:
    merged = copy.deepcopy(base)
    for key, value in update.items():
        where = f"{path}{key}"
        if key not in base:
            raise ConfigError(f"unknown config key {where!r}; known keys here: {sorted(base)}.")
        if isinstance(base[key], dict) and key not in FREE_FORM_KEYS:
            if value is None:
                merged[key] = None
                continue
            if not isinstance(value, Mapping):
                raise ConfigError(f"config key {where!r} must be a mapping, got {value!r}.")
            merged[key] = _merge(base[key], value, f"{where}.")
        else:
            merged[key] = value
    return merged


def parse_override(text: str) -> tuple[list[str], Any]:
    """Parses ``section.key=value`` (value in YAML syntax) into ``(path, value)``.

    Raises:
      ConfigError: No ``=`` or an empty key.
    """
    if "=" not in text:
        raise ConfigError(f"override {text!r} must look like section.key=value.")
    key, raw = text.split("=", 1)
    path = [part for part in key.strip().split(".") if part]
    if not path:
        raise ConfigError(f"override {text!r} has an empty key.")
    return path, _load_yaml(raw) if raw.strip() else None


def apply_overrides(config: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `config` with ``{"section.key": value}`` pairs set, every key checked.

    Raises:
      ConfigError: A key the config does not have.
    """
    merged = copy.deepcopy(dict(config))
    for dotted, value in overrides.items():
        nested: Any = value
        for key in reversed([part for part in dotted.split(".") if part]):
            nested = {key: nested}
        merged = _merge(merged, nested, "")
    return merged


def load_config(
    path: str | os.PathLike | None = None, overrides: Sequence[str] = ()
) -> dict[str, Any]:
    """Defaults, then the YAML file, then each override, with every key checked.

    Args:
      path: YAML file, or None for the defaults alone.
      overrides: ``section.key=value`` strings applied in order.

    Returns:
      The complete config dict.

    Raises:
      ConfigError: Unreadable file, unknown keys, or an unknown task.
    """
    user: dict = {}
    if path is not None:
        try:
            with open(path) as stream:
                user = _load_yaml(stream) or {}
        except OSError as err:
            raise ConfigError(f"cannot read config file {str(path)!r}: {err.strerror}.") from None
        except UnicodeDecodeError:
            raise ConfigError(
                f"config file {str(path)!r} is not text (a binary file?); pass a YAML config."
            ) from None
        except yaml.YAMLError as err:
            raise ConfigError(f"config file {str(path)!r} is not valid YAML: {err}") from None
        if not isinstance(user, Mapping):
            raise ConfigError(f"config file {str(path)!r} must hold a mapping at the top.")
    config = _merge(DEFAULTS, user, "")
    for text in overrides:
        keys, value = parse_override(text)
        nested: Any = value
        for key in reversed(keys):
            nested = {key: nested}
        config = _merge(config, nested, "")
    check_config(config, source=str(path) if path is not None else None)
    return config


def check_config(config: Mapping[str, Any], *, source: str | None = None) -> None:
    """Checks the type and range of every value (see `config_schema`).

    Raises:
      ConfigError: Every problem found, one per line, each naming its key.
    """
    from tfgraphtune.training.config_schema import config_problems

    problems = config_problems(config)
    if problems:
        where = f" in {source}" if source else ""
        raise ConfigError(
            f"invalid config{where} ({len(problems)} problem{'s' if len(problems) > 1 else ''}):"
            "\n  " + "\n  ".join(problems)
        )


def dump_config(config: Mapping[str, Any]) -> str:
    """The config as YAML text (keys in their defined order)."""
    return yaml.safe_dump(dict(config), sort_keys=False)


def load_config_text(text: str) -> dict[str, Any]:
    """Parses config YAML text as written by `dump_config` (no merging or checks)."""
    return _load_yaml(text)
