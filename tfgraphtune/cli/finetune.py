"""``tfgraphtune finetune``: train a task (from scratch or a pre-trained backbone) from a config."""

from __future__ import annotations

import argparse
import json

from tfgraphtune.cli.main import add_config_arguments, config_overrides, print_summary

STRATEGY_NAMES = "full, linear_probe, top_k, gradual, discriminative, lora, adapter, l2sp"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "finetune",
        help="train a model for any task from a YAML config and write a run folder",
        description="Trains the config's task (node/graph classification or regression, "
        f"link prediction) from scratch, from a pre-trained backbone with a fine-tuning "
        f"strategy ({STRATEGY_NAMES}), or continuing a run. Flags override config keys; "
        "--set section.key=value overrides any key.",
    )
    add_config_arguments(
        parser,
        ["--dataset", "--task", "--epochs", "--seed", "--out", "--backbone", "--strategy",
         "--resume", "--distribution"],
        example="model.hidden_units=32",
    )  # fmt: skip
    parser.add_argument(
        "--overwrite", action="store_true", help="replace an existing run folder at --out"
    )
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tfgraphtune.training.config import load_config
    from tfgraphtune.training.train import train

    config = load_config(args.config, config_overrides(args))
    result = train(config, overwrite=args.overwrite)
    for note in result.metrics.get("notes", []):
        print(f"note: {note}")
    if args.json:
        print(json.dumps(result.metrics, indent=2, default=str))
    else:
        print_summary(result.metrics)
    print(f"run folder: {result.run_dir}")
    return 0
