"""``tfgraphtune finetune``: train a task (from scratch or a pre-trained backbone) from a config."""

from __future__ import annotations

import argparse
import json
import sys

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
    parser.add_argument(
        "--teacher",
        help="overrides finetune.distill.teacher (a trained node classification run folder "
        "to distill from)",
    )
    parser.add_argument(
        "--student",
        choices=("gnn", "mlp"),
        help="overrides finetune.distill.student (mlp: a graph-free MLP on node features)",
    )
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tfgraphtune.training.config import load_config
    from tfgraphtune.training.train import train

    distill = [
        f"finetune.distill.{key}={value}"
        for key, value in (("teacher", args.teacher), ("student", args.student))
        if value is not None
    ]
    # The shortcuts come before --set, which wins (as for every other shortcut flag).
    overrides = config_overrides(args)
    config = load_config(args.config, distill + overrides)
    result = train(config, overwrite=args.overwrite)
    if args.json:  # stdout holds only the JSON; the rest goes to stderr.
        print(json.dumps(result.metrics, indent=2, default=str))
    else:
        for note in result.metrics.get("notes", []):
            print(f"note: {note}")
        print_summary(result.metrics)
    print(f"run folder: {result.run_dir}", file=sys.stderr if args.json else sys.stdout)
    return 0
