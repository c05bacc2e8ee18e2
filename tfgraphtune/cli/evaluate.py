"""``tfgraphtune evaluate RUN_DIR``: re-evaluate a trained run from its folder."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tfgraphtune.cli.errors import UserError


def register(subparsers) -> None:
    parser = subparsers.add_parser("evaluate", help="re-evaluate a run folder")
    parser.add_argument("run_dir", help="folder written by `tfgraphtune finetune`")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tfgraphtune.training.runner import evaluate

    try:
        metrics = evaluate(args.run_dir)
    except (FileNotFoundError, ValueError) as err:
        raise UserError(str(err)) from None
    (Path(args.run_dir) / "evaluation.json").write_text(json.dumps(metrics, indent=2))
    print(json.dumps(metrics, indent=2))
    return 0
