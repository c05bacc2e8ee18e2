"""Full-batch and sampled GCN training at scale, against PyG and the kernel floor in one run.

The graph is the seeded degree-corrected SBM of ``../shared/bench/data.py``
(``synthetic_graph``: 16 classes, 10 % training nodes, features ``0.15 mu[y] + N(0, 1)``),
the model the peer's: a 2-layer GCN ``F -> H -> C`` (the backbone's GCN layer + the GCN
head), dropout 0.5 on the input and on the hidden layer, Adam lr 0.01, no weight decay,
raw features. Training is the CLI's path: `tfgraphtune.training.train.train` with the node
classification Task (`--mode full`: one full-batch step per epoch; `--mode sampled`: the
task's neighbour-sampled batches, ``data.sampling.fanouts`` / ``data.sampling.batch_size``).

Every measurement runs in a fresh child process, whose peak RSS the parent reads from
``os.wait4`` (the kernel's ``ru_maxrss`` of that child: graph generation, TensorFlow and
training together). The child also reports its training peak the way the peer does
(``/proc/self`` high-water mark reset after the graph is built).

Keys of the JSON: ``epoch_median_s`` (full: one training step; sampled: the training steps
of one epoch), ``inference_s`` (median full-graph forward of the evaluate path,
`NodeTask.outputs`), ``peak_rss_mb`` (the child's lifetime peak), and for sampled mode
``seeds_per_s`` and ``test_accuracy``.

With ``--compare`` each round runs ours, PyG's ``pyg_scale.py --layout sparse_csr`` and the
scipy/numpy floor ``spmm_limit.py`` one after the other (interleaved over ``--rounds``) and
reports the ratios of the medians.

    nice python benchmarks/scale.py --nodes 1000000 --degree 10 --features 128 --hidden 128 \
        --mode full --compare --json benchmarks/results/scale_full_1m.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import _common

HERE = Path(__file__).resolve().parent


def _default_bench_dir() -> Path:
    """``shared/bench`` beside the checkout (or beside a folder above it: worktrees)."""
    if os.environ.get("BENCH_DIR"):
        return Path(os.environ["BENCH_DIR"])
    for parent in _common.REPO_ROOT.parents:
        if (parent / "shared" / "bench" / "data.py").exists():
            return parent / "shared" / "bench"
    return _common.REPO_ROOT.parent / "shared" / "bench"


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def _reset_peak_rss() -> None:
    """Resets the process's RSS high-water mark (Linux: ``5`` to ``/proc/self/clear_refs``)."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass


def node_dataset(graph: dict):
    """A `NodeDataset` (node set ``node``, edge set ``edge``) from ``data.py``'s dict."""
    import tensorflow as tf
    import tensorflow_gnn as tfgnn

    from tfgraphtune.data.datasets.dataset import NodeDataset

    num_nodes = int(graph["num_nodes"])
    edges = graph["edge_index"]
    tensor = tfgnn.GraphTensor.from_pieces(
        node_sets={
            "node": tfgnn.NodeSet.from_fields(
                sizes=tf.constant([num_nodes]),
                features={"feat": tf.constant(graph["x"]), "label": tf.constant(graph["y"])},
            )
        },
        edge_sets={
            "edge": tfgnn.EdgeSet.from_fields(
                sizes=tf.constant([edges.shape[1]]),
                adjacency=tfgnn.Adjacency.from_indices(
                    source=("node", tf.constant(edges[0])), target=("node", tf.constant(edges[1]))
                ),
            )
        },
    )
    return NodeDataset(
        name=graph["name"],
        graph=tensor,
        schema=tfgnn.create_schema_pb_from_graph_spec(tensor.spec),
        node_set="node",
        edge_set="edge",
        feature="feat",
        label="label",
        num_classes=int(graph["num_classes"]),
        splits={
            "train": graph["train_idx"],
            "validation": graph["val_idx"],
            "test": graph["test_idx"],
        },
    )


def run_ours(args) -> dict:
    """One measurement of tfgraphtune in this process (the child side)."""
    sys.path.insert(0, str(args.bench_dir))
    import data as bench_data  # ../shared/bench/data.py: numpy/scipy only
    import tensorflow as tf

    from tfgraphtune.training.callbacks import StepTimer
    from tfgraphtune.training.config import load_config
    from tfgraphtune.training.train import train

    _common.set_threads(args.threads)
    start = time.perf_counter()
    raw = bench_data.synthetic_graph(
        args.nodes, args.degree, args.features, args.classes, seed=args.seed
    )
    stats = bench_data.graph_stats(raw)
    dataset = node_dataset(raw)
    del raw
    generate_s = time.perf_counter() - start
    rss_before = _status_kb("VmRSS") / 1024
    _reset_peak_rss()

    epochs = args.warmup + args.epochs
    overrides = [
        "task=node_classification",
        "data.normalize_features=null",
        "model.conv=gcn",
        f"model.hidden_units={args.hidden}",
        "model.num_layers=1",
        f"model.dropout={args.dropout}",
        "model.sparse_inputs=false",
        "model.l2=0",
        "model.head=gcn",
        f"model.head_dropout={args.dropout}",
        "train.optimizer=adam",
        "train.learning_rate=0.01",
        f"train.epochs={epochs}",
        "train.early_stopping=null",
        "train.tensorboard=false",
        f"train.seed={args.seed}",
    ]
    if args.mode == "sampled":
        overrides += [
            f"data.sampling.fanouts=[{','.join(str(k) for k in args.fanouts)}]",
            f"data.sampling.batch_size={args.batch_size}",
        ]
    config = load_config(None, overrides)

    class Budget(tf.keras.callbacks.Callback):
        """Epoch times; stops after `--budget-s` of training (as the peer does)."""

        def __init__(self):
            super().__init__()
            self.epoch_times, self.train_peak_mb = [], 0.0
            self._start = self._epoch_steps = 0

        def on_epoch_begin(self, epoch, logs=None):
            self._epoch_steps = len(timer.step_times)

        def on_epoch_end(self, epoch, logs=None):
            self.epoch_times.append(sum(timer.step_times[self._epoch_steps :]))
            if epoch == 0:
                self._start = time.perf_counter()
            elif time.perf_counter() - self._start > args.budget_s:
                self.model.stop_training = True

        def on_train_end(self, logs=None):
            self.train_peak_mb = _status_kb("VmHWM") / 1024

    timer, budget = StepTimer(), Budget()
    result = train(config, write=False, dataset=dataset, callbacks=[timer, budget])
    timed = budget.epoch_times[args.warmup :] or budget.epoch_times
    inference = []
    for _ in range(args.inference_reps):
        t0 = time.perf_counter()
        result.task.outputs(result.model, result.data)
        inference.append(time.perf_counter() - t0)
    epoch_s = _median(timed)
    out = {
        "framework": "tfgraphtune",
        "mode": args.mode,
        "graph": stats,
        "generate_s": round(generate_s, 2),
        "timed_epochs": len(timed),
        "epoch_times_s": [round(t, 4) for t in timed],
        "epoch_median_s": round(epoch_s, 4),
        "inference_s": round(_median(inference), 4),
        "inference_times_s": [round(t, 4) for t in inference],
        "rss_before_training_mb": round(rss_before, 1),
        "peak_rss_training_mb": round(budget.train_peak_mb, 1),
        "loss_first": round(float(result.history["loss"][0]), 4),
        "loss_last": round(float(result.history["loss"][-1]), 4),
        "test_accuracy": round(float(result.metrics["test"]["accuracy"]), 4),
        "wall_s": round(time.perf_counter() - start, 1),
    }
    if args.mode == "sampled":
        out["seeds_per_s"] = round(len(dataset.splits["train"]) / epoch_s, 1)
        out["fanouts"] = list(args.fanouts)
        out["batch_size"] = args.batch_size
    return out


def _child(command: list[str]) -> tuple[dict, float]:
    """Runs one measurement in a fresh process: ``(its last JSON line, its peak RSS MB)``.

    The peak is the child's own ``ru_maxrss`` from ``os.wait4``, not the maximum over every
    child this process has had (``RUSAGE_CHILDREN``).
    """
    import tempfile

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, errors = out.read().decode(), err.read().decode()
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line), usage.ru_maxrss / 1024
    raise RuntimeError(
        f"{command[1]} exited {process.returncode} without JSON:\n{errors[-3000:]}\n{text[-2000:]}"
    )


def _median(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--degree", type=float, default=16)
    parser.add_argument("--features", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--classes", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mode", choices=["full", "sampled"], default="full")
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--warmup", type=int, default=1, help="untimed epochs (tracing)")
    parser.add_argument("--epochs", type=int, default=10, help="timed epochs (at most)")
    parser.add_argument("--budget-s", type=float, default=150.0, help="training time cap")
    parser.add_argument("--inference-reps", type=int, default=3)
    parser.add_argument("--fanouts", type=lambda s: [int(k) for k in s.split(",")],
                        default=[10, 10], help="sampled mode: e.g. 10,10")  # fmt: skip
    parser.add_argument("--batch-size", type=int, default=1024, help="sampled mode: seeds")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--compare", action="store_true", help="also run PyG and the floor")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds")
    parser.add_argument(
        "--pyg-python",
        default=os.environ.get("PYG_PYTHON", str(Path.home() / ".cache/pyg-venv/bin/python")),
        help="python of a venv with torch + torch_geometric (../shared/bench/README.md)",
    )
    parser.add_argument("--bench-dir", type=Path, default=_default_bench_dir())
    parser.add_argument("--json", default=None)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(run_ours(args)), flush=True)
        return

    size = ["--nodes", str(args.nodes), "--degree", str(args.degree),
            "--features", str(args.features), "--hidden", str(args.hidden),
            "--classes", str(args.classes), "--seed", str(args.seed),
            "--threads", str(args.threads)]  # fmt: skip
    ours_cmd = [sys.executable, str(HERE / "scale.py"), "--child", *size, "--mode", args.mode,
                "--dropout", str(args.dropout), "--warmup", str(args.warmup),
                "--epochs", str(args.epochs), "--budget-s", str(args.budget_s),
                "--inference-reps", str(args.inference_reps),
                "--fanouts", ",".join(map(str, args.fanouts)),
                "--batch-size", str(args.batch_size),
                "--bench-dir", str(args.bench_dir)]  # fmt: skip
    pyg_cmd = [args.pyg_python, str(args.bench_dir / "pyg_scale.py"), *size,
               "--layout", "sparse_csr", "--dropout", str(args.dropout),
               "--warmup", str(args.warmup), "--epochs", str(args.epochs),
               "--budget-s", str(args.budget_s),
               "--inference-reps", str(args.inference_reps)]  # fmt: skip
    floor_cmd = [args.pyg_python, str(args.bench_dir / "spmm_limit.py"), *size]

    runs: dict[str, list] = {"ours": [], "pyg": [], "floor": []}
    for round_index in range(args.rounds):
        ours, peak = _child(ours_cmd)
        ours["peak_rss_mb"] = round(peak, 1)
        runs["ours"].append(ours)
        line = (
            f"round {round_index}: ours epoch {ours['epoch_median_s']:.3f} s, inference "
            f"{ours['inference_s']:.3f} s, peak RSS {peak:.0f} MB"
        )
        if args.compare and args.mode == "full":
            pyg, peak = _child(pyg_cmd)
            pyg["peak_rss_mb"] = round(peak, 1)
            runs["pyg"].append(pyg)
            floor, _ = _child(floor_cmd)
            runs["floor"].append(floor)
            line += (
                f" | pyg epoch {pyg['epoch_median_s']:.3f} s, inference "
                f"{pyg['inference_median_s']:.3f} s, peak RSS {peak:.0f} MB"
                f" | floor {floor['epoch_estimate']['est_kernel_count_s']:.3f} s"
            )
        print(line, flush=True)

    ours_runs = runs["ours"]
    results = {
        "benchmark": "scale",
        "mode": args.mode,
        "nodes": args.nodes,
        "degree": args.degree,
        "features": args.features,
        "hidden": args.hidden,
        "classes": args.classes,
        "rounds": args.rounds,
        "epoch_median_s": _median([r["epoch_median_s"] for r in ours_runs]),
        "inference_s": _median([r["inference_s"] for r in ours_runs]),
        "peak_rss_mb": _median([r["peak_rss_mb"] for r in ours_runs]),
        "peak_rss_training_mb": _median([r["peak_rss_training_mb"] for r in ours_runs]),
        "test_accuracy": _median([r["test_accuracy"] for r in ours_runs]),
        "threads": args.threads,
        "command": " ".join(["python", "benchmarks/scale.py", *sys.argv[1:]]),
        **_common.machine(),
    }
    if args.mode == "sampled":
        results["seeds_per_s"] = _median([r["seeds_per_s"] for r in ours_runs])
        results["fanouts"] = args.fanouts
        results["batch_size"] = args.batch_size
    rows = [
        ("graph", f"{args.nodes} nodes, {ours_runs[0]['graph']['num_directed_edges']} edges"),
        ("mode", args.mode),
        ("epoch (median)", f"{results['epoch_median_s']:.3f} s"),
        ("inference (median)", f"{results['inference_s']:.3f} s"),
        ("peak RSS (child, lifetime)", f"{results['peak_rss_mb']:.0f} MB"),
        ("peak RSS (training)", f"{results['peak_rss_training_mb']:.0f} MB"),
        ("test accuracy", f"{results['test_accuracy']:.4f}"),
    ]
    if args.mode == "sampled":
        rows.append(("seeds / s", f"{results['seeds_per_s']:.0f}"))
    if runs["pyg"]:
        pyg = {
            "epoch_median_s": _median([r["epoch_median_s"] for r in runs["pyg"]]),
            "inference_s": _median([r["inference_median_s"] for r in runs["pyg"]]),
            "peak_rss_mb": _median([r["peak_rss_mb"] for r in runs["pyg"]]),
            "peak_rss_training_mb": _median([r["peak_rss_training_mb"] for r in runs["pyg"]]),
            "dropout_per_epoch_s": _median([r["dropout_per_epoch_median_s"] for r in runs["pyg"]]),
            "torch": runs["pyg"][0].get("torch"),
            "torch_geometric": runs["pyg"][0].get("torch_geometric"),
        }
        estimates = [r["epoch_estimate"] for r in runs["floor"]]
        floor = {
            "est_kernel_count_s": _median([e["est_kernel_count_s"] for e in estimates]),
            "est_3x_forward_s": _median([e["est_3x_forward_s"] for e in estimates]),
            "forward_kernels_s": _median([e["forward_kernels_s"] for e in estimates]),
        }
        ratios = {
            "epoch_vs_pyg": results["epoch_median_s"] / pyg["epoch_median_s"],
            "epoch_vs_floor_kernel_count": results["epoch_median_s"] / floor["est_kernel_count_s"],
            "epoch_vs_floor_3x_forward": results["epoch_median_s"] / floor["est_3x_forward_s"],
            "inference_vs_pyg": results["inference_s"] / pyg["inference_s"],
            "peak_rss_vs_pyg": results["peak_rss_mb"] / pyg["peak_rss_mb"],
            "peak_rss_training_vs_pyg": results["peak_rss_training_mb"]
            / pyg["peak_rss_training_mb"],
        }
        results.update(pyg=pyg, floor=floor, ratios={k: round(v, 3) for k, v in ratios.items()})
        rows += [
            ("PyG sparse_csr epoch", f"{pyg['epoch_median_s']:.3f} s"),
            ("floor (kernel count / 3x forward)",
             f"{floor['est_kernel_count_s']:.3f} s / {floor['est_3x_forward_s']:.3f} s"),
            ("epoch ours / PyG (target <= 0.5)", f"{ratios['epoch_vs_pyg']:.2f}"),
            ("epoch ours / floor kernel count (target <= 2.5)",
             f"{ratios['epoch_vs_floor_kernel_count']:.2f}"),
            ("epoch ours / floor 3x forward", f"{ratios['epoch_vs_floor_3x_forward']:.2f}"),
            ("inference ours / PyG (target <= 1)",
             f"{results['inference_s']:.3f} / {pyg['inference_s']:.3f} s = "
             f"{ratios['inference_vs_pyg']:.2f}"),
            ("peak RSS ours / PyG, lifetime (target <= 1)",
             f"{results['peak_rss_mb']:.0f} / {pyg['peak_rss_mb']:.0f} MB = "
             f"{ratios['peak_rss_vs_pyg']:.2f}"),
            ("peak RSS ours / PyG, training",
             f"{results['peak_rss_training_mb']:.0f} / {pyg['peak_rss_training_mb']:.0f} MB = "
             f"{ratios['peak_rss_training_vs_pyg']:.2f}"),
        ]  # fmt: skip
    results["runs"] = runs
    _common.report(results, args.json, rows)


if __name__ == "__main__":
    main()
