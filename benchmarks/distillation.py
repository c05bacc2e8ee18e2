"""Knowledge distillation on Cora and CiteSeer: GCN teacher vs MLP (GLNN) and small-GCN students.

For each data set and seed: fine-tunes the teacher (configs/cora_gcn.yaml: Kipf & Welling's
2-layer GCN, 16 hidden units) with ``train``; then, through the same train path with
``finetune.distill.teacher`` set, a graph-free MLP student (GLNN: soft targets on every
node) and a smaller GCN student (4 hidden units), plus the same MLP trained on the labels
alone (``alpha: 0``: what distillation adds). Reported: test accuracy (mean, std over
seeds) and parameter count.

Serving latency for one node, measured in ONE child process that imports TensorFlow alone
and loads each model's exported SavedModel (``export_run``): the teacher's ``predict_dense``
on the node's 2-hop neighbourhood (what a GCN needs to answer for it; the request built
from the raw features and edges) against the MLP student's ``predict_features`` on the
node's raw features alone. Requests for the test nodes are timed in alternating blocks
of ``--block`` calls per model (see _tf_only_latency.py); median over ``--reps`` calls
each. The class ids the exports answer give their test accuracy as served.

    python benchmarks/distillation.py --datasets cora citeseer --seeds 0 1 2 \
        --json benchmarks/results/distillation.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common
import numpy as np

# The MLP student (GLNN's setting for Cora-sized graphs): 2 layers of 256, dropout 0.6,
# soft targets weighted 0.9 at temperature 1. Chosen on Cora's validation split.
MLP_STUDENT = [
    "finetune.distill.student=mlp",
    "model.hidden_units=256",
    "model.num_layers=1",
    "model.head=linear",
    "model.dropout=0.6",
    "model.head_dropout=0.5",
    "model.l2=0.0005",
]
DISTILL = ["finetune.distill.alpha=0.9", "finetune.distill.temperature=1.0"]
LONG = ["train.epochs=500", "train.early_stopping.patience=50"]
GCN_STUDENT = ["finetune.distill.student=gnn", "model.hidden_units=4"]


def ego_graph(source, target, num_nodes, seed, hops=2):
    """Nodes within `hops` of `seed` (seed first; edges followed both ways, as the
    teacher's ``make_undirected`` cleaning sees them) and the raw edges among them."""
    neighbours = {}
    for s, t in zip(source, target):
        neighbours.setdefault(int(t), set()).add(int(s))
        neighbours.setdefault(int(s), set()).add(int(t))
    nodes, seen, frontier = [int(seed)], {int(seed)}, [int(seed)]
    for _ in range(hops):
        nxt = []
        for node in frontier:
            for n in sorted(neighbours.get(node, ())):
                if n not in seen:
                    seen.add(n)
                    nodes.append(n)
                    nxt.append(n)
        frontier = nxt
    index = np.full(num_nodes, -1, np.int64)
    index[nodes] = np.arange(len(nodes))
    keep = (index[source] >= 0) & (index[target] >= 0)
    return np.array(nodes), index[source[keep]], index[target[keep]]


def serving_latency(name, teacher_dir, mlp_dir, work, args):
    """Exports both runs and times one-node requests in a TensorFlow-only child process.

    Returns:
      ``(child's JSON with served test accuracy added, 2-hop sizes)``.
    """
    from tfgraphtune.data.datasets.registry import load_dataset
    from tfgraphtune.serving.exporter import export_run

    dataset = load_dataset(name, args.data_dir)
    graph = dataset.graph
    features = graph.node_sets[dataset.node_set][dataset.feature].numpy()
    adjacency = graph.edge_sets[dataset.edge_set].adjacency
    source = adjacency.source.numpy().astype(np.int64)
    target = adjacency.target.numpy().astype(np.int64)
    test = dataset.splits["test"]
    teacher_export = export_run(teacher_dir, work / f"{name}-export-teacher")
    mlp_export = export_run(mlp_dir, work / f"{name}-export-mlp")
    teacher_requests, mlp_requests, sizes = {}, {}, []
    for i, node in enumerate(test):
        nodes, s, t = ego_graph(source, target, dataset.num_nodes, node)
        sizes.append(len(nodes))
        teacher_requests.update({
            f"r{i}.node_features": features[nodes][None],
            f"r{i}.source": s[None], f"r{i}.target": t[None],
            f"r{i}.num_nodes": np.array([len(nodes)], np.int64),
            f"r{i}.num_edges": np.array([len(s)], np.int64),
        })  # fmt: skip
        mlp_requests[f"r{i}.node_features"] = features[[node]]
    np.savez(work / f"{name}-teacher.npz", **teacher_requests)
    np.savez(work / f"{name}-mlp.npz", **mlp_requests)
    job = {
        "reps": args.reps,
        "threads": args.serving_threads,
        "block": args.block,
        "models": {
            "teacher_gcn_2hop": {"saved_model": str(teacher_export.version_dir),
                                 "signature": "predict_dense",
                                 "requests": str(work / f"{name}-teacher.npz")},
            "student_mlp_features": {"saved_model": str(mlp_export.version_dir),
                                     "signature": "predict_features",
                                     "requests": str(work / f"{name}-mlp.npz")},
        },
    }  # fmt: skip
    (work / f"{name}-job.json").write_text(json.dumps(job))
    child = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("_tf_only_latency.py")),
         str(work / f"{name}-job.json")],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    served = json.loads(child.stdout.strip().splitlines()[-1])
    labels = dataset.labels[test]
    for values in served["latency"].values():
        ids = np.array(values.pop("class_ids"))
        values["served_test_accuracy"] = float((ids == labels[: len(ids)]).mean())
    return served, sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["cora", "citeseer"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--data-dir", default=_common.default_data_dir())
    parser.add_argument("--reps", type=int, default=1000, help="timed calls per model")
    parser.add_argument("--threads", type=int, default=2, help="TensorFlow threads, training")
    parser.add_argument(
        "--serving-threads", type=int, default=1, help="TensorFlow threads of the serving process"
    )
    parser.add_argument("--block", type=int, default=50, help="calls per model in turn")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    from tfgraphtune.training.config import load_config
    from tfgraphtune.training.run_folder import load_run
    from tfgraphtune.training.train import train

    _common.set_threads(args.threads)
    start = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="distill-bench-"))
    config_path = _common.REPO_ROOT / "configs" / "cora_gcn.yaml"
    results = {"benchmark": "distillation", "datasets": {}, "seeds": args.seeds}
    for name in args.datasets:
        runs: dict[str, list] = {}
        for seed in args.seeds:
            base = [f"data.dataset={name}", f"data.data_dir={args.data_dir}",
                    f"train.seed={seed}", "train.tensorboard=false"]  # fmt: skip
            teacher_dir = work / f"{name}-{seed}-teacher"
            variants = {
                "teacher_gcn": [],
                "student_mlp": [f"finetune.distill.teacher={teacher_dir}", *MLP_STUDENT,
                                *DISTILL, *LONG],
                "mlp_labels_only": [f"finetune.distill.teacher={teacher_dir}", *MLP_STUDENT,
                                    "finetune.distill.alpha=0.0", *LONG],
                "student_gcn_small": [f"finetune.distill.teacher={teacher_dir}", *GCN_STUDENT,
                                      *DISTILL, *LONG],
            }  # fmt: skip
            for variant, overrides in variants.items():
                out = teacher_dir if variant == "teacher_gcn" else work / f"{name}-{seed}-{variant}"
                metrics = train(load_config(config_path, [*base, *overrides, f"out={out}"])).metrics
                runs.setdefault(variant, []).append((out, metrics))
                print(f"{name} seed {seed} {variant}: test accuracy "
                      f"{metrics['test']['accuracy']:.4f} ({time.perf_counter() - start:.0f} s)",
                      flush=True)  # fmt: skip

        summary = {}
        for variant, seed_runs in runs.items():
            accuracies = [m["test"]["accuracy"] for _, m in seed_runs]
            model = load_run(seed_runs[0][0]).model
            summary[variant] = {
                "test_accuracy_mean": float(np.mean(accuracies)),
                "test_accuracy_std": float(np.std(accuracies)),
                "test_accuracy_per_seed": accuracies,
                "parameters": int(model.count_params()),
                "epochs_run": [m["epochs_run"] for _, m in seed_runs],
            }

        # Serving one node: exports of the first seed's teacher and MLP student.
        served, sizes = serving_latency(
            name, runs["teacher_gcn"][0][0], runs["student_mlp"][0][0], work, args
        )
        latency = served["latency"]
        teacher_ms = latency["teacher_gcn_2hop"]["p50_ms"]
        mlp_ms = latency["student_mlp_features"]["p50_ms"]
        gap = (
            summary["teacher_gcn"]["test_accuracy_mean"]
            - summary["student_mlp"]["test_accuracy_mean"]
        )
        results["datasets"][name] = {
            "runs": summary,
            "serving_one_node": latency,
            "teacher_2hop_nodes_median": float(np.median(sizes)),
            "speedup_mlp_vs_teacher_2hop": teacher_ms / mlp_ms,
            "mlp_gap_to_teacher_points": 100 * gap,
            "leaked_modules_in_serving_process": served["leaked_modules"],
        }

    results.update(wall_s=time.perf_counter() - start, threads=args.threads, **_common.machine())
    rows = []
    for name, r in results["datasets"].items():
        for variant, s in r["runs"].items():
            rows.append((f"{name} {variant} test acc (params)",
                         f"{100 * s['test_accuracy_mean']:.1f} ± {100 * s['test_accuracy_std']:.1f}"
                         f" ({s['parameters']})"))  # fmt: skip
        for model_name, v in r["serving_one_node"].items():
            rows.append((f"{name} {model_name} p50 ms", f"{v['p50_ms']:.3f}"))
        rows.append(
            (f"{name} MLP speedup vs 2-hop teacher", f"{r['speedup_mlp_vs_teacher_2hop']:.1f}x")
        )
        rows.append(
            (f"{name} MLP gap to teacher (points)", f"{r['mlp_gap_to_teacher_points']:.2f}")
        )
    _common.report(results, args.json, rows)


if __name__ == "__main__":
    main()
