"""``tfgraphtune explain RUN_DIR --node ID | --graph INDEX``: why the model predicted that."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tfgraphtune.cli.main import add_data_dir_argument


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="the features and edges that mattered most for one prediction",
        description="Explains one prediction of a run folder's model: the input features "
        "and the edges that mattered most, by integrated gradients over node features and "
        "edge weights (--method ig) or a GNNExplainer-style learned soft mask (--method "
        "gnnexplainer). Prints two tables and writes explanation.json and explanation.png "
        "(the neighbourhood, important edges drawn heavier) to --out.",
    )
    parser.add_argument("run_dir", help="folder written by `tfgraphtune finetune` or `run`")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--node", type=int, help="node id (row of the node set), node tasks")
    which.add_argument("--graph", type=int, help="graph index in the data set, graph tasks")
    parser.add_argument(
        "--method",
        choices=("ig", "gnnexplainer"),
        default="ig",
        help="ig: integrated gradients (default); gnnexplainer: learned soft masks",
    )
    parser.add_argument(
        "--output", type=int, default=None, help="class to explain (default: the predicted one)"
    )
    parser.add_argument("--top", type=int, default=10, help="rows per table (default 10)")
    parser.add_argument(
        "--steps", type=int, default=128, help="integrated gradients' trapezoid steps"
    )
    parser.add_argument("--epochs", type=int, default=200, help="GNNExplainer's Adam steps")
    parser.add_argument(
        "--out",
        default=None,
        help="folder for the JSON and PNG (default RUN_DIR/explanations/KIND-ID-METHOD)",
    )
    parser.add_argument("--json", action="store_true", help="print the explanation as JSON")
    add_data_dir_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tfgraphtune.cli.errors import UserError
    from tfgraphtune.cli.evaluate import resolve_run_dir
    from tfgraphtune.explain import explain_run

    for name in ("top", "steps", "epochs"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name} must be an integer >= 1; received {getattr(args, name)}")
    run_dir = resolve_run_dir(args.run_dir)
    explanation = explain_run(
        run_dir,
        node=args.node,
        graph=args.graph,
        method=args.method,
        output=args.output,
        steps=args.steps,
        epochs=args.epochs,
        data_dir=args.data_dir,
    )
    kind, index = ("node", args.node) if args.node is not None else ("graph", args.graph)
    out = Path(args.out) if args.out else run_dir / "explanations" / f"{kind}-{index}-{args.method}"
    paths = explanation.save(out, k=args.top)
    if args.json:
        print(json.dumps(explanation.to_json(args.top), indent=2))
    else:
        print(explanation.table(args.top))
    print(f"explanation: {paths['json']}\npicture: {paths['png']}")
    return 0
