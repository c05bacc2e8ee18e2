"""``tfgraphtune export RUN_DIR --out export/NAME``: a versioned SavedModel for TF Serving."""

from __future__ import annotations

import argparse
import json

from tfgraphtune.cli.errors import UserError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export a run folder as a TF Serving SavedModel (next numbered version)",
        description="Writes OUT/<version>/ (never overwriting a version) with the signatures "
        "serving_default (serialized tf.Example graphs) and predict_dense (JSON-friendly "
        "arrays), warmup requests, a model config, batching parameters and a README. "
        "node_classification runs answer one row per node, graph_classification runs one "
        "row per request graph.",
    )
    parser.add_argument("run_dir", help="folder written by `tfgraphtune finetune`")
    parser.add_argument("--out", required=True, help="model base folder, e.g. export/cora")
    parser.add_argument("--name", help="model name in models.config (default: OUT's name)")
    parser.add_argument("--version", type=int, help="version number (default: newest + 1)")
    parser.add_argument(
        "--quantize",
        choices=["float32", "float16", "int8"],
        default="float32",
        help="how kernels are stored; dequantized in the graph (default: float32)",
    )
    parser.add_argument("--max-nodes", type=int, default=100_000, help="most nodes per graph")
    parser.add_argument("--max-edges", type=int, default=1_000_000, help="most edges per graph")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tfgraphtune.serving.compression import saved_model_size
    from tfgraphtune.serving.exporter import export_run
    from tfgraphtune.serving.guards import ServingLimits

    try:
        limits = ServingLimits(max_nodes=args.max_nodes, max_edges=args.max_edges)
        result = export_run(
            args.run_dir,
            args.out,
            version=args.version,
            quantize=args.quantize,
            limits=limits,
            model_name=args.name,
        )
    except (FileNotFoundError, FileExistsError, ValueError) as err:
        raise UserError(str(err)) from None
    print(
        json.dumps(
            {
                "version_dir": str(result.version_dir),
                "version": result.version,
                "model_name": result.model_name,
                "quantize": result.quantize,
                "size_bytes": saved_model_size(result.version_dir),
            },
            indent=2,
        )
    )
    print(f"serve it: see {result.version_dir.parent / 'README.md'}")
    return 0
