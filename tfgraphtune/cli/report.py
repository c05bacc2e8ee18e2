"""``tfgraphtune report RUN_DIR [RUN_DIR...] --out PAGE.html``: runs side by side."""

from __future__ import annotations

import argparse

from tfgraphtune.cli.errors import UserError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "report",
        help="one self-contained HTML page comparing run folders (metrics and pictures)",
        description="Writes one HTML file with the metrics and the pictures (training "
        "curves, confusion matrix, ROC/PR, predicted vs true, embeddings) of each folder, "
        "side by side; pictures are inlined, so the file opens anywhere. Accepts run "
        "folders, `tfgraphtune run` folders (pre-training shown too) and pre-trained "
        "checkpoints.",
    )
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="folders to compare")
    parser.add_argument("--out", required=True, help="the HTML file to write")
    parser.add_argument("--title", default="tfgraphtune report", help="the page's title")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tfgraphtune.reporting.html_report import ReportError, write_report

    try:
        out, runs = write_report(args.run_dirs, args.out, title=args.title)
    except ReportError as err:
        raise UserError(str(err)) from None
    pictures = sum(len(r.pictures) for r in runs)
    print(f"report: {out} ({len(runs)} columns, {pictures} pictures)")
    return 0
