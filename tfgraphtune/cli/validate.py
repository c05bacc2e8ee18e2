"""``tfgraphtune validate``: check node/edge tables against a GraphSchema.

Example:

    tfgraphtune validate --schema cora --nodes paper=papers.csv --edges cites=cites.csv \\
        --clean drop-self-loops drop-dangling-edges
"""

from __future__ import annotations

import argparse

# Cleaning steps that take no options, by their command-line name.
CLEAN_STEPS = {
    "drop-duplicate-nodes": "DropDuplicateNodes",
    "drop-duplicate-edges": "DropDuplicateEdges",
    "drop-self-loops": "DropSelfLoops",
    "drop-dangling-edges": "DropDanglingEdges",
    "make-undirected": "MakeUndirected",
}


def _set_and_path(text: str) -> tuple[str, str]:
    """Parses ``SET=PATH``; argparse turns the error into exit code 2."""
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected SET=PATH, received {text!r}")
    return name, path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Adds the ``validate`` subcommand."""
    parser = subparsers.add_parser(
        "validate",
        help="check node/edge tables (CSV, Parquet) against a GraphSchema",
        description="Reads node and edge tables, optionally cleans them, checks them "
        "against a GraphSchema and builds the GraphTensor. Exit code 0 if valid, 2 if not.",
    )
    parser.add_argument(
        "--schema", required=True, help="GraphSchema .pbtxt path or shipped name (cora)"
    )
    parser.add_argument(
        "--nodes",
        required=True,
        nargs="+",
        action="extend",
        type=_set_and_path,
        metavar="SET=PATH",
        help="node table per node set (.csv, .parquet)",
    )
    parser.add_argument(
        "--edges",
        default=[],
        nargs="+",
        action="extend",
        type=_set_and_path,
        metavar="SET=PATH",
        help="edge table per edge set, with source and target columns",
    )
    parser.add_argument("--context", default=None, metavar="PATH", help="context table, one row")
    parser.add_argument("--id-column", default="id", help="node id column (default: id)")
    parser.add_argument(
        "--clean",
        default=[],
        nargs="+",
        action="extend",
        choices=sorted(CLEAN_STEPS),
        metavar="STEP",
        help=f"cleaning steps to run first, in order: {', '.join(sorted(CLEAN_STEPS))}",
    )
    parser.set_defaults(handler=run)


def _duplicates(pairs: list[tuple[str, str]], flag: str) -> dict[str, str]:
    from tfgraphtune.data.errors import ValidationError

    result = {}
    for name, path in pairs:
        if name in result:
            raise ValidationError(f"{flag} names set '{name}' twice; give each set once.")
        result[name] = path
    return result


def run(args: argparse.Namespace) -> int:
    """Validates the tables and prints a summary; returns the exit code."""
    from tfgraphtune.data import cleaning
    from tfgraphtune.data.tables import graph_from_tables

    steps = [getattr(cleaning, CLEAN_STEPS[name])() for name in args.clean]
    graph, report = graph_from_tables(
        args.schema,
        _duplicates(args.nodes, "--nodes"),
        _duplicates(args.edges, "--edges"),
        args.context,
        id_column=args.id_column,
        cleaning=steps or None,
    )
    print(f"Valid graph for schema {args.schema}:")
    pieces = [("node set", n, s) for n, s in sorted(graph.node_sets.items())]
    pieces += [("edge set", n, s) for n, s in sorted(graph.edge_sets.items())]
    for kind, name, piece in pieces:
        features = ", ".join(
            f"{f}{list(v.shape[1:])} {v.dtype.name}" for f, v in sorted(piece.features.items())
        )
        print(
            f"  {kind} {name}: {int(piece.sizes.numpy().sum())} rows; features: {features or '-'}"
        )
    if graph.context.features:
        print(f"  context: features {sorted(graph.context.features)}")
    if steps:
        print(report)
    return 0
