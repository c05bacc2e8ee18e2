"""Hyperparameter search on Cora: best accuracies, and trials per minute with 1 and 2 workers.

Two distributed searches (KerasTuner chief/worker mode on 127.0.0.1, `tfgraphtune tune`
subprocesses, one chief plus 1 or 2 workers) over the task's default search space
(conv, depth, width, dropout, normalization, optimizer, learning rate, weight decay, head)
with configs/cora_gcn.yaml as the base: up to 200 epochs per trial with early stopping
on validation loss (patience 10), random search, same seed, `--trials` trials each.

``trials_per_minute_*`` counts trials from the first trial's start to the last trial's
end (from the trials' records), so process start-up (TensorFlow import, data loading) is
left out; ``wall_s_*`` includes it. Each worker uses one intra-op and one inter-op
thread. Best accuracies are those of the 1-worker search's best trial by validation
accuracy (the 2-worker search samples the same configurations). On a shared machine the
throughput depends on the load: ``load_average_1min`` is recorded before each search.

    python benchmarks/tuning.py --dataset cora --trials 8 --json OUT.json
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common
import pandas as pd


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_search(args, out: Path, workers: int) -> dict:
    command = [
        sys.executable, "-m", "tfgraphtune.cli.main", "tune",
        "--config", str(_common.REPO_ROOT / "configs" / "cora_gcn.yaml"),
        "--dataset", args.dataset, "--data-dir", args.data_dir, "--out", str(out),
        "--max-trials", str(args.trials), "--epochs", str(args.epochs),
        "--tuner", "random", "--seed", str(args.seed), "--quiet",
    ]  # fmt: skip
    port = str(free_port())
    base = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "TF_NUM_INTRAOP_THREADS": "1",
        "TF_NUM_INTEROP_THREADS": "1",
        "KERASTUNER_ORACLE_IP": "127.0.0.1",
        "KERASTUNER_ORACLE_PORT": port,
    }
    load = os.getloadavg()[0]
    start = time.perf_counter()
    processes = []
    for tuner_id in ["chief", *(f"worker{i}" for i in range(workers))]:
        extra = ["--workers", str(workers)] if tuner_id == "chief" else []
        processes.append(
            subprocess.Popen(
                command + extra,
                cwd=_common.REPO_ROOT,
                env={**base, "KERASTUNER_TUNER_ID": tuner_id},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for process in processes:
        _, stderr = process.communicate(timeout=args.timeout)
        if process.returncode != 0:
            raise SystemExit(f"search with {workers} worker(s) failed:\n{stderr[-3000:]}")
    wall = time.perf_counter() - start
    table = pd.read_csv(out / "trials.csv", dtype={"trial_id": str})
    completed = table[table["status"] == "COMPLETED"]
    span = table["ended"].max() - table["started"].min()
    best = completed.loc[completed["val_accuracy"].idxmax()]
    return {
        "table": table,
        "completed": int(len(completed)),
        "trials_per_minute": 60.0 * len(completed) / span,
        "wall_s": wall,
        "load": load,
        "best": best,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="cora", choices=["cora", "citeseer", "pubmed"])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=_common.default_data_dir())
    parser.add_argument("--timeout", type=float, default=1800.0)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    with tempfile.TemporaryDirectory(prefix="tune-bench-") as folder:
        one = run_search(args, Path(folder) / "one", 1)
        print(f"1 worker: {one['completed']} trials, {one['trials_per_minute']:.2f}/min")
        two = run_search(args, Path(folder) / "two", 2)
        print(f"2 workers: {two['completed']} trials, {two['trials_per_minute']:.2f}/min")
    hp_columns = [c for c in one["table"].columns if c.startswith("hp:")]
    same_configs = sorted(map(str, one["table"][hp_columns].values.tolist())) == sorted(
        map(str, two["table"][hp_columns].values.tolist())
    )
    best = one["best"]
    results = {
        "benchmark": "tuning",
        "dataset": args.dataset,
        "trials": args.trials,
        "trials_completed": one["completed"],
        "best_val_accuracy": float(best["val_accuracy"]),
        "best_test_accuracy": float(best["test_accuracy"]),
        "best_hyperparameters": {c[3:]: best[c] for c in hp_columns if pd.notna(best[c])},
        "trials_per_minute_1_worker": one["trials_per_minute"],
        "trials_per_minute_2_workers": two["trials_per_minute"],
        "trials_completed_2_workers": two["completed"],
        "best_val_accuracy_2_workers": float(two["best"]["val_accuracy"]),
        "same_configurations_both_searches": bool(same_configs),
        "wall_s_1_worker": one["wall_s"],
        "wall_s_2_workers": two["wall_s"],
        "load_average_1min": {"1_worker": one["load"], "2_workers": two["load"]},
        "epochs_max": args.epochs,
        **_common.machine(),
    }
    for key, value in results["best_hyperparameters"].items():
        if hasattr(value, "item"):
            results["best_hyperparameters"][key] = value.item()
    _common.report(
        results,
        args.json,
        [
            ("dataset", args.dataset),
            ("trials completed", f"{results['trials_completed']} / {args.trials}"),
            ("best val accuracy", f"{results['best_val_accuracy']:.3f}"),
            ("best test accuracy", f"{results['best_test_accuracy']:.3f}"),
            ("trials/min, 1 worker", f"{results['trials_per_minute_1_worker']:.2f}"),
            ("trials/min, 2 workers", f"{results['trials_per_minute_2_workers']:.2f}"),
            ("wall, 1 worker", f"{results['wall_s_1_worker']:.1f} s"),
            ("wall, 2 workers", f"{results['wall_s_2_workers']:.1f} s"),
        ],
    )


if __name__ == "__main__":
    main()
