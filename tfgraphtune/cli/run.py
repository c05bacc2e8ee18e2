"""``tfgraphtune run --config FILE``: pre-train, fine-tune, evaluate and export in one command."""

from __future__ import annotations

import argparse
import json
import sys

from tfgraphtune.cli.main import add_config_arguments, config_overrides, print_summary


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "run",
        help="the whole workflow in one folder: pretrain, finetune, evaluate, export",
        description="Runs the config's run.stages (pretrain, finetune, evaluate, export) into "
        "one folder (OUT/pretrain, OUT/model, OUT/evaluation.json, OUT/export/<version>). "
        "A stage whose output exists and whose inputs are unchanged is skipped, so rerunning "
        "the command after a change redoes only what the change affects.",
    )
    add_config_arguments(
        parser,
        ["--out", "--epochs", "--seed", "--dataset", "--distribution"],
        example="finetune.strategy=adapter",
    )
    parser.add_argument("--force", action="store_true", help="re-run every stage")
    parser.add_argument("--json", action="store_true", help="print every stage's result as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tfgraphtune.cli.paths import check_output_folder
    from tfgraphtune.training.config import load_config
    from tfgraphtune.training.pipeline import run_pipeline

    config = load_config(args.config, config_overrides(args))
    check_output_folder(config["out"], what="pipeline folder")
    # Under --json stdout holds only the JSON; the stage lines go to stderr.
    out = sys.stderr if args.json else sys.stdout
    results = run_pipeline(
        config, force=args.force, log=lambda line: print(line, file=out, flush=True)
    )
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    else:
        print_stages(results)
        metrics = (results.get("evaluate") or results.get("finetune") or {}).get("metrics")
        if metrics:
            print_summary(metrics)
        if "export" in results:
            print(f"export: {results['export']['version_dir']}")
    print(f"pipeline folder: {config['out']}", file=out)
    return 0


def print_stages(results: dict) -> None:
    """One line per stage: ran or skipped, and its headline number."""
    print("stages:")
    for stage, result in results.items():
        detail = ""
        if stage == "pretrain" and result.get("final_loss") is not None:
            detail = f"final loss {result['final_loss']:.4g}, {result.get('epochs_run')} epochs"
        elif stage == "export":
            detail = str(result.get("version_dir", ""))
        print(f"  {stage.ljust(9)} {result.get('status', '')}{'  ' + detail if detail else ''}")
