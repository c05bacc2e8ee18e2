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
node's raw features alone. Requests for the test nodes are timed round-robin (one call of
each model in turn); median over ``--reps`` calls. The class ids the exports answer give
their test accuracy as served.

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
    """Nodes of `seed`'s `hops`-hop in-neighbourhood (seed first) and its local edges."""
    nodes, seen, frontier = [int(seed)], {int(seed)}, [int(seed)]
    incoming = {}
    for s, t in zip(source, target):
        incoming.setdefault(int(t), []).append(int(s))
    for _ in range(hops):
        nxt = []
        for node in frontier:
            for n in incoming.get(node, []):
                if n not in seen:
                    seen.add(n)
                    nodes.append(n)
                    nxt.append(n)
        frontier = nxt
    index = np.full(num_nodes, -1, np.int64)
    index[nodes] = np.arange(len(nodes))
    keep = (index[source] >= 0) & (index[target] >= 0)
    return np.array(nodes), index[source[keep]], index[target[keep]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["cora", "citeseer"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--data-dir", default=_common.default_data_dir())
    parser.add_argument("--reps", type=int, default=1000, help="timed calls per model")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    from tfgraphtune.data.datasets.registry import load_dataset
    from tfgraphtune.serving.exporter import export_run
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
        dataset = load_dataset(name, args.data_dir)
        graph = dataset.graph
        ns, es = dataset.node_set, dataset.edge_set
        features = graph.node_sets[ns][dataset.feature].numpy()
        adjacency = graph.edge_sets[es].adjacency
        source = adjacency.source.numpy().astype(np.int64)
        target = adjacency.target.numpy().astype(np.int64)
        test = dataset.splits["test"]
        teacher_export = export_run(runs["teacher_gcn"][0][0], work / f"{name}-export-teacher")
        mlp_export = export_run(runs["student_mlp"][0][0], work / f"{name}-export-mlp")
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
            "threads": args.threads,
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
        latency = served["latency"]
        labels = dataset.labels[test]
        for values in latency.values():
            ids = np.array(values.pop("class_ids"))
            values["served_test_accuracy"] = float((ids == labels[: len(ids)]).mean())
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
