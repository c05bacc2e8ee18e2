"""``tfgraphtune finetune``: train a task head (and backbone) from a YAML config."""

from __future__ import annotations

import argparse
import json

from tfgraphtune.cli.errors import UserError
from tfgraphtune.cli.main import add_data_dir_argument


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "finetune",
        help="train a model for a task from a YAML config and write a run folder",
        description="Flags override config keys; --set section.key=value overrides any key.",
    )
    parser.add_argument("--config", help="YAML config file (default: built-in defaults)")
    parser.add_argument("--dataset", help="overrides data.dataset")
    parser.add_argument("--task", help="overrides task")
    parser.add_argument("--epochs", type=int, help="overrides train.epochs")
    parser.add_argument("--seed", type=int, help="overrides train.seed")
    parser.add_argument("--out", help="run folder to write (overrides out)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any config key, e.g. --set model.hidden_units=32 (repeatable)",
    )
    add_data_dir_argument(parser)
    parser.set_defaults(handler=run)


def collect_overrides(args: argparse.Namespace) -> list[str]:
    """Turns the shortcut flags into ``key=value`` overrides, before the --set ones."""
    pairs = [
        ("data.dataset", args.dataset),
        ("task", args.task),
        ("train.epochs", args.epochs),
        ("train.seed", args.seed),
        ("out", args.out),
        ("data.data_dir", args.data_dir),
    ]
    return [f"{key}={value}" for key, value in pairs if value is not None] + list(args.overrides)


def run(args: argparse.Namespace) -> int:
    from tfgraphtune.training.config import ConfigError, load_config
    from tfgraphtune.training.runner import train

    try:
        config = load_config(args.config, collect_overrides(args))
        metrics = train(config)
    except (ConfigError, ValueError) as err:
        raise UserError(str(err)) from None
    print(json.dumps(metrics, indent=2))
    print(f"run folder: {config['out']}")
    return 0
