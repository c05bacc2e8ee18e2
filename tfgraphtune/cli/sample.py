"""``tfgraphtune sample --config FILE --out DIR``: sample subgraphs offline with TF-GNN's
Apache Beam sampler (see `tfgraphtune.distribute.beam_sampling`)."""

from __future__ import annotations

import argparse

from tfgraphtune.cli.errors import UserError
from tfgraphtune.cli.main import add_config_arguments, config_overrides

NODE_TASKS = ("node_classification", "node_regression")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "sample",
        help="sample a rooted subgraph per labelled node with TF-GNN's Beam sampler",
        description="Writes the config's graph (preprocessed as training would) in TF-GNN's "
        "unigraph format, runs TF-GNN's Apache Beam sampling program over it with "
        "data.sampling.fanouts, and writes one serialized GraphTensor per labelled node to "
        "OUT/samples.tfrecord*. Train on them with --set data.sampling.samples=OUT. Node "
        "tasks only. Extra arguments after -- go to Beam (e.g. -- --direct_num_workers=2).",
    )
    add_config_arguments(
        parser, ["--dataset", "--task", "--out"], example="data.sampling.fanouts=[10,10]",
        required=("--out",),
    )  # fmt: skip
    parser.add_argument(
        "--runner",
        default="DirectRunner",
        help="Beam runner (default DirectRunner; e.g. DataflowRunner, FlinkRunner)",
    )
    parser.add_argument("beam_args", nargs="*", help="Beam pipeline options after --")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from tfgraphtune.cli.paths import check_output_folder
    from tfgraphtune.distribute.beam_sampling import sample_node_task_data
    from tfgraphtune.training.config import load_config
    from tfgraphtune.training.train import check_run_config, prepare_data

    config = load_config(args.config, config_overrides(args))
    if config["task"] not in NODE_TASKS:
        raise UserError(
            f"sample writes rooted subgraphs for node tasks {list(NODE_TASKS)}; the config's "
            f"task is {config['task']!r}. Link prediction samples in memory "
            "(data.sampling.fanouts)."
        )
    fanouts = config["data"]["sampling"]["fanouts"]
    if not fanouts:
        raise UserError(
            "sample needs data.sampling.fanouts, e.g. --set 'data.sampling.fanouts=[10, 10]'."
        )
    out = check_output_folder(args.out, what="sample folder")
    if out.exists() and any(out.iterdir()):
        raise UserError(f"--out {str(out)!r} is not an empty folder; choose another.")
    task, source = check_run_config(config)
    data = prepare_data(config, task, source)
    meta = sample_node_task_data(
        data, fanouts, out, runner=args.runner, pipeline_args=args.beam_args
    )
    counts = ", ".join(f"{name} {count}" for name, count in meta["seeds"].items())
    print(f"sampled {counts} rooted subgraphs (fanouts {meta['fanouts']}) into {out}")
    print(f"train on them: --set data.sampling.samples={out}")
    return 0
