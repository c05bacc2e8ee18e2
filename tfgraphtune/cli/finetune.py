"""``tfgraphtune finetune``: train a task (from scratch or a pre-trained backbone) from a config."""

from __future__ import annotations

import argparse
import json

from tfgraphtune.cli.main import (
    add_data_dir_argument,
    add_override_argument,
    config_overrides,
    print_summary,
)

STRATEGY_NAMES = "full, linear_probe, top_k, gradual, discriminative, lora, adapter, l2sp"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "finetune",
        help="train a model for any task from a YAML config and write a run folder",
        description="Trains the config's task (node/graph classification or regression, "
        "link prediction) from scratch, from a pre-trained backbone with a fine-tuning "
        "strategy, or continuing a run. Flags override config keys; --set section.key=value "
        "overrides any key.",
    )
    parser.add_argument("--config", help="YAML config file (default: built-in defaults)")
    parser.add_argument("--dataset", help="overrides data.dataset")
    parser.add_argument("--task", help="overrides task")
    parser.add_argument("--epochs", type=int, help="overrides train.epochs")
    parser.add_argument("--seed", type=int, help="overrides train.seed")
    parser.add_argument("--out", help="run folder to write (overrides out)")
    parser.add_argument(
        "--backbone", help="pre-trained backbone checkpoint (tfgraphtune pretrain --out)"
    )
    parser.add_argument(
        "--strategy", help=f"fine-tuning strategy (overrides finetune.strategy): {STRATEGY_NAMES}"
    )
    parser.add_argument(
        "--resume",
        help="continue a fine-tuned run folder on the config's (new) data (finetune.resume)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing run folder at --out"
    )
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    add_override_argument(parser, "model.hidden_units=32")
    add_data_dir_argument(parser)
    parser.set_defaults(handler=run)


def collect_overrides(args: argparse.Namespace) -> list[str]:
    """Turns the shortcut flags into ``key=value`` overrides, before the --set ones."""
    return config_overrides(
        args,
        {
            "data.dataset": args.dataset,
            "task": args.task,
            "train.epochs": args.epochs,
            "train.seed": args.seed,
            "out": args.out,
            "data.data_dir": args.data_dir,
            "finetune.backbone": getattr(args, "backbone", None),
            "finetune.strategy": getattr(args, "strategy", None),
            "finetune.resume": getattr(args, "resume", None),
        },
    )


def run(args: argparse.Namespace) -> int:
    from tfgraphtune.training.config import load_config
    from tfgraphtune.training.train import train

    config = load_config(args.config, collect_overrides(args))
    result = train(config, overwrite=args.overwrite)
    for note in result.metrics.get("notes", []):
        print(f"note: {note}")
    if args.json:
        print(json.dumps(result.metrics, indent=2, default=str))
    else:
        print_summary(result.metrics)
    print(f"run folder: {result.run_dir}")
    return 0
