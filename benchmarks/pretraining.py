"""Self-supervised pre-training on Cora: linear-probe accuracy of the frozen embeddings.

Each method trains with its config (configs/pretrain_<method>_cora.yaml; --epochs caps it),
then the probe of DGI's paper and of /work/shared/bench (PyG 81.6 for DGI): a linear layer,
Adam lr 0.01, no weight decay, 100 full-batch epochs on the 140 public training nodes,
test accuracy on the 1000 test nodes, averaged over `--probe-runs` initialisations. The
mean/std reported are over seeds (pre-training runs); each seed's value is its probe mean.

    python benchmarks/pretraining.py --dataset cora --method dgi --seeds 5 --json OUT.json
"""

from __future__ import annotations

import argparse
import time

import _common
import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="cora", choices=["cora", "citeseer", "pubmed"])
    parser.add_argument("--method", default="dgi", choices=["dgi", "graphmae", "gae"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=None, help="cap on pre-training epochs")
    parser.add_argument("--conv", default=None, help="override model.conv (e.g. gatv2)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra config overrides",
    )
    parser.add_argument("--probe-runs", type=int, default=50)
    parser.add_argument("--data-dir", default=_common.default_data_dir())
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    import tfgraphtune  # noqa: F401
    from tfgraphtune.pretrain.probe import linear_probe_accuracy
    from tfgraphtune.pretrain.runner import pretrain
    from tfgraphtune.training import node_runner
    from tfgraphtune.training.config import load_config

    _common.set_threads(args.threads)
    overrides = [f"data.dataset={args.dataset}", f"data.data_dir={args.data_dir}"]
    if args.epochs:
        overrides.append(f"pretrain.epochs={args.epochs}")
    if args.conv:
        overrides.append(f"model.conv={args.conv}")
    base = load_config(
        _common.REPO_ROOT / "configs" / f"pretrain_{args.method}_cora.yaml",
        overrides + list(args.overrides),
    )
    dataset, graph = node_runner.prepare_node_data(base)
    accuracies, times, losses, epochs_run = [], [], [], []
    start = time.perf_counter()
    for seed in range(args.seeds):
        config = {**base, "train": {**base["train"], "seed": seed}}
        backbone, meta = pretrain(config, save=False)
        embeddings = backbone(graph, training=False).numpy()
        probe = linear_probe_accuracy(
            embeddings,
            dataset.labels,
            dataset.splits["train"],
            dataset.splits["test"],
            runs=args.probe_runs,
            seed=seed,
        )
        accuracies.append(float(probe.mean()))
        times.append(meta["pretrain_time_s"])
        epochs_run.append(meta["epochs_run"])
        losses.append(meta["final_loss"])
        print(
            f"seed {seed}: probe accuracy {accuracies[-1]:.4f} ± {probe.std():.4f}, "
            f"pretrain {times[-1]:.1f} s ({epochs_run[-1]} epochs), final loss {losses[-1]:.4f}",
            flush=True,
        )
    results = {
        "benchmark": "pretraining",
        "dataset": args.dataset,
        "method": args.method,
        "conv": base["model"]["conv"],
        "seeds": args.seeds,
        "epochs": int(base["pretrain"]["epochs"]),
        "linear_probe_accuracy_mean": float(np.mean(accuracies)),
        "linear_probe_accuracy_std": float(np.std(accuracies)),
        "linear_probe_accuracy_per_seed": accuracies,
        "pretrain_time_s": float(np.mean(times)),
        "pretrain_time_per_seed_s": times,
        "epochs_run_per_seed": epochs_run,
        "final_loss_per_seed": losses,
        "probe": {"runs": args.probe_runs, "epochs": 100, "learning_rate": 0.01},
        "config": {k: base[k] for k in ("model", "pretrain")},
        "wall_s": time.perf_counter() - start,
        "threads": args.threads,
        **_common.machine(),
    }
    _common.report(
        results,
        args.json,
        [
            ("dataset / method", f"{args.dataset} / {args.method} ({results['conv']})"),
            ("epochs", str(results["epochs"])),
            (
                "linear probe accuracy",
                f"{results['linear_probe_accuracy_mean']:.4f} ± "
                f"{results['linear_probe_accuracy_std']:.4f}",
            ),
            ("pretrain time (mean)", f"{results['pretrain_time_s']:.1f} s"),
        ],
    )


if __name__ == "__main__":
    main()
