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
        "arrays), warmup requests, a model config, batching parameters and a README. Every "
        "task exports: node tasks answer one row per node, graph tasks one row per request "
        "graph, link prediction node embeddings plus score_pairs signatures for node pairs. "
        "Requests carry raw features: the run's preprocessing is part of the export.",
    )
    parser.add_argument("run_dir", help="folder written by `tfgraphtune finetune` or `run`")
    parser.add_argument("--out", required=True, help="model base folder, e.g. export/cora")
    parser.add_argument("--name", help="model name in models.config (default: OUT's name)")
    parser.add_argument("--version", type=int, help="version number (default: newest + 1)")
    parser.add_argument(
        "--quantize",
        choices=["float32", "float16", "int8"],
        default=None,
        help="how kernels are stored; dequantized in the graph (default: the run's "
        "export.quantize, float32)",
    )
    parser.add_argument(
        "--max-nodes", type=int, help="most nodes per graph (default: the run's export.max_nodes)"
    )
    parser.add_argument(
        "--max-edges", type=int, help="most edges per graph (default: the run's export.max_edges)"
    )
    parser.add_argument(
        "--max-request-nodes",
        type=int,
        help="most node rows per request: graphs x nodes of the largest (default: the run's "
        "export.max_request_nodes, else 32 x --max-nodes)",
    )
    parser.add_argument(
        "--max-request-edges",
        type=int,
        help="most edges and scored pairs per request (default: the run's "
        "export.max_request_edges, else 32 x --max-edges)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tfgraphtune.cli.evaluate import resolve_run_dir
    from tfgraphtune.cli.paths import check_output_folder
    from tfgraphtune.serving.compression import saved_model_size
    from tfgraphtune.serving.exporter import export_run, next_version
    from tfgraphtune.serving.guards import ServingLimits
    from tfgraphtune.training.run_folder import read_run_config

    # The output first: a mistake there is found before the model is loaded and traced.
    check_output_folder(args.out, what="export folder")
    try:
        next_version(args.out, args.version)
    except (ValueError, FileExistsError) as err:
        raise UserError(f"--version: {err}") from None
    run_dir = resolve_run_dir(args.run_dir)
    defaults = read_run_config(run_dir).get("export") or {}
    try:
        limits = ServingLimits(
            **{
                key: getattr(args, key)
                if getattr(args, key) is not None
                else defaults.get(key, default)
                for key, default in (
                    ("max_nodes", 100_000),
                    ("max_edges", 1_000_000),
                    ("max_request_nodes", None),
                    ("max_request_edges", None),
                )
            }
        )
    except ValueError as err:
        raise UserError(str(err)) from None
    try:
        result = export_run(
            run_dir,
            args.out,
            version=args.version,
            quantize=args.quantize or defaults.get("quantize", "float32"),
            limits=limits,
            model_name=args.name or defaults.get("model_name"),
        )
    except FileExistsError as err:  # A version that exists is never overwritten.
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
