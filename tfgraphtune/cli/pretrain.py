"""``tfgraphtune pretrain``: self-supervised pre-training that writes a backbone checkpoint."""

from __future__ import annotations

import argparse
import json

from tfgraphtune.cli.main import add_data_dir_argument, add_override_argument, config_overrides


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "pretrain",
        help="pre-train a backbone without labels (DGI, GraphMAE, GAE, ...) and write a checkpoint",
        description="The config's model section is the backbone, its pretrain section the "
        "objective; --set section.key=value overrides any key.",
    )
    parser.add_argument("--config", help="YAML config file (default: built-in defaults)")
    parser.add_argument("--dataset", help="overrides data.dataset")
    parser.add_argument("--method", help="overrides pretrain.method")
    parser.add_argument("--epochs", type=int, help="overrides pretrain.epochs")
    parser.add_argument("--seed", type=int, help="overrides train.seed")
    parser.add_argument("--out", help="checkpoint folder to write (overrides out)")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing checkpoint at --out"
    )
    add_override_argument(parser, "pretrain.mask_rate=0.75")
    add_data_dir_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tfgraphtune.pretrain.runner import pretrain
    from tfgraphtune.training.config import load_config

    overrides = config_overrides(
        args,
        {
            "data.dataset": args.dataset,
            "pretrain.method": args.method,
            "pretrain.epochs": args.epochs,
            "train.seed": args.seed,
            "out": args.out,
            "data.data_dir": args.data_dir,
        },
    )
    config = load_config(args.config, overrides)
    _, metadata = pretrain(config, overwrite=args.overwrite)
    print(json.dumps(metadata, indent=2, default=str))
    print(f"backbone checkpoint: {config['out']}")
    return 0
