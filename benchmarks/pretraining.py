"""Self-supervised pre-training on Cora: linear-probe accuracy of the frozen embeddings.

Each method trains with its config (configs/pretrain_<method>_cora.yaml, or --config;
--epochs caps it), then a linear probe on the frozen embeddings, trained on the 140 public
training nodes and scored on the 1000 test nodes, averaged over `--probe-runs`
initialisations. Two published probe protocols (tfgraphtune/pretrain/probe.py), both
reported, the method's own one in the headline fields (--probe changes it):

* ``dgi`` (DGI's paper, and /work/shared/bench's PyG 81.6): Adam lr 0.01, no weight decay,
  100 epochs, the last epoch scored;
* ``graphmae`` (GraphMAE's paper): Adam lr 0.01, weight decay 1e-4, 300 epochs, the epoch
  with the best accuracy on the 500 validation nodes scored.

The mean/std reported are over seeds (pre-training runs); each seed's value is its probe
mean.

    python benchmarks/pretraining.py --dataset cora --method dgi --seeds 5 --json OUT.json
    python benchmarks/pretraining.py --method graphmae \
        --config configs/pretrain_graphmae_gat_cora.yaml --seeds 5 --json OUT.json
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
    parser.add_argument("--config", default=None, help="pre-training config (YAML)")
    parser.add_argument("--epochs", type=int, default=None, help="cap on pre-training epochs")
    parser.add_argument(
        "--probe",
        default=None,
        choices=["dgi", "graphmae"],
        help="headline probe protocol (default: graphmae for graphmae, else dgi)",
    )
    parser.add_argument("--first-seed", type=int, default=0)
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
    from tfgraphtune.pretrain.probe import PROBE_PROTOCOLS, linear_probe_accuracy
    from tfgraphtune.pretrain.runner import pretrain
    from tfgraphtune.tasks import get_task
    from tfgraphtune.training.config import load_config

    _common.set_threads(args.threads)
    overrides = [f"data.dataset={args.dataset}", f"data.data_dir={args.data_dir}"]
    if args.epochs:
        overrides.append(f"pretrain.epochs={args.epochs}")
    if args.conv:
        overrides.append(f"model.conv={args.conv}")
    config_path = args.config or _common.REPO_ROOT / "configs" / f"pretrain_{args.method}_cora.yaml"
    base = load_config(config_path, overrides + list(args.overrides))
    if base["pretrain"]["method"] != args.method:
        parser.error(f"{config_path} pre-trains {base['pretrain']['method']}, not {args.method}")
    headline = args.probe or ("graphmae" if args.method == "graphmae" else "dgi")
    # The graph as node classification sees it (the probe's labels and public split).
    data = get_task("node_classification").prepare(
        {**base, "task": "node_classification"}, gcn_normalization=base["model"]["conv"] == "gcn"
    )
    dataset, graph = data.source, data.inputs
    probes = {name: [] for name in PROBE_PROTOCOLS}
    times, losses, epochs_run = [], [], []
    start = time.perf_counter()
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        config = {**base, "train": {**base["train"], "seed": seed}}
        backbone, meta = pretrain(config, save=False)
        embeddings = backbone(graph, training=False).numpy()
        for name, protocol in PROBE_PROTOCOLS.items():
            probe = linear_probe_accuracy(
                embeddings,
                dataset.labels,
                dataset.splits["train"],
                dataset.splits["test"],
                validation_ids=dataset.splits["validation"],
                runs=args.probe_runs,
                seed=seed,
                **protocol,
            )
            probes[name].append(float(probe.mean()))
        times.append(meta["pretrain_time_s"])
        epochs_run.append(meta["epochs_run"])
        losses.append(meta["final_loss"])
        print(
            f"seed {seed}: probe accuracy dgi {probes['dgi'][-1]:.4f}, graphmae "
            f"{probes['graphmae'][-1]:.4f}; pretrain {times[-1]:.1f} s ({epochs_run[-1]} "
            f"epochs), final loss {losses[-1]:.4f}",
            flush=True,
        )
    accuracies = probes[headline]
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
        "probe": {"protocol": headline, "runs": args.probe_runs, **PROBE_PROTOCOLS[headline]},
        "probes": {
            name: {
                "accuracy_mean": float(np.mean(values)),
                "accuracy_std": float(np.std(values)),
                "accuracy_per_seed": values,
                **PROBE_PROTOCOLS[name],
            }
            for name, values in probes.items()
        },
        "first_seed": args.first_seed,
        "config_file": str(config_path),
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
            ("probe protocol", headline),
            *(
                (
                    f"probe '{name}'",
                    f"{v['accuracy_mean']:.4f} ± {v['accuracy_std']:.4f}",
                )
                for name, v in results["probes"].items()
            ),
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
