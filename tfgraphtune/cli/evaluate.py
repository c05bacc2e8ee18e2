"""``tfgraphtune evaluate RUN_DIR``: re-evaluate a trained run from its folder."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tfgraphtune.cli.main import add_data_dir_argument, print_summary


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="re-evaluate a run folder",
        description="Restores the model of a run folder (its structure, weights and "
        "preprocessing) and re-computes its metrics on the run's data; writes "
        "RUN_DIR/evaluation.json. A `tfgraphtune run` folder is accepted too.",
    )
    parser.add_argument("run_dir", help="folder written by `tfgraphtune finetune` or `run`")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    add_data_dir_argument(parser)
    parser.set_defaults(handler=run)


def resolve_run_dir(path: str) -> Path:
    """A run folder, or the model folder inside a `tfgraphtune run` folder."""
    from tfgraphtune.training.pipeline import MODEL_DIR, STAGES_FILE

    folder = Path(path)
    if (folder / STAGES_FILE).exists() and (folder / MODEL_DIR).is_dir():
        return folder / MODEL_DIR
    return folder


def run(args: argparse.Namespace) -> int:
    from tfgraphtune.cli.paths import check_output_file
    from tfgraphtune.training.run_folder import read_run_config
    from tfgraphtune.training.staging import write_file_atomic
    from tfgraphtune.training.train import evaluate_run

    run_dir = resolve_run_dir(args.run_dir)
    read_run_config(run_dir)  # Not a run folder: say so before checking where to write.
    check_output_file(run_dir / "evaluation.json", what="the evaluation")
    metrics = evaluate_run(run_dir, data_dir=args.data_dir)
    # Replaces whatever is there (a planted symlink too); never writes through it.
    write_file_atomic(run_dir / "evaluation.json", json.dumps(metrics, indent=2))
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        print_summary(metrics)
    return 0
