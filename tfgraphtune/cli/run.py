"""``tfgraphtune run --config FILE``: pre-train, fine-tune, evaluate and export in one command."""

from __future__ import annotations

import argparse

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
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tfgraphtune.cli.paths import check_output_folder
    from tfgraphtune.training.config import load_config
    from tfgraphtune.training.pipeline import run_pipeline

    config = load_config(args.config, config_overrides(args))
    check_output_folder(config["out"], what="pipeline folder")
    results = run_pipeline(config, force=args.force, log=lambda line: print(line, flush=True))
    metrics = (results.get("evaluate") or results.get("finetune") or {}).get("metrics")
    if metrics:
        print_summary(metrics)
    if "export" in results:
        print(f"export: {results['export']['version_dir']}")
    print(f"pipeline folder: {config['out']}")
    return 0
