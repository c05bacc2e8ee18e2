"""``tfgraphtune pretrain``: self-supervised pre-training that writes a backbone checkpoint."""

from __future__ import annotations

import argparse
import json

from tfgraphtune.cli.main import add_config_arguments, config_overrides


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "pretrain",
        help="pre-train a backbone without labels (DGI, GraphMAE, GAE, ...) and write a checkpoint",
        description="The config's model section is the backbone, its pretrain section the "
        "objective; --set section.key=value overrides any key.",
    )
    add_config_arguments(
        parser,
        ["--dataset", "--method", "--pretrain-epochs", "--seed", "--out", "--distribution"],
        example="pretrain.mask_rate=0.75",
        renamed={"--pretrain-epochs": "--epochs"},
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing checkpoint at --out"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tfgraphtune.pretrain.runner import pretrain
    from tfgraphtune.training.config import load_config

    overrides = config_overrides(args)
    config = load_config(args.config, overrides)
    _, metadata = pretrain(config, overwrite=args.overwrite)
    print(json.dumps(metadata, indent=2, default=str))
    print(f"backbone checkpoint: {config['out']}")
    return 0
