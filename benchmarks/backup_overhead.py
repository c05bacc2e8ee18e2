"""What crash-safe backups cost: Cora GCN training time per ``train.backup_interval``.

Runs `tfgraphtune.train` (the CLI's path, run folder written) on Cora with the Kipf config,
no early stopping, for each interval (``null`` = off, ``auto`` = every 5 s plus after the
last epoch, ``1`` = every epoch), interleaved over repeats, and reports the median
``train_time_s`` and the cost per backup of ``1`` against ``null``.

    python benchmarks/backup_overhead.py --epochs 200 --repeats 3 --json OUT.json
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

import _common

INTERVALS = ("null", "auto", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=_common.default_data_dir())
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    from tfgraphtune.training.config import load_config
    from tfgraphtune.training.train import train

    times: dict[str, list[float]] = {interval: [] for interval in INTERVALS}
    # One untimed run first (the process's first training pays one-time costs), then the
    # settings interleaved in a rotating order, so load changes hit every setting alike.
    schedule = [(None, "null")] + [
        (repeat, INTERVALS[(i + repeat) % len(INTERVALS)])
        for repeat in range(args.repeats)
        for i in range(len(INTERVALS))
    ]
    for repeat, interval in schedule:
        root = Path(tempfile.mkdtemp(prefix="backup_overhead_"))
        config = load_config(
            _common.REPO_ROOT / "configs" / "cora_gcn.yaml",
            [
                f"data.data_dir={args.data_dir}",
                f"out={root / 'run'}",
                f"train.epochs={args.epochs}",
                "train.early_stopping=null",
                "train.tensorboard=false",
                f"train.backup_interval={interval}",
            ],
        )
        seconds = train(config).metrics["train_time_s"]
        shutil.rmtree(root)
        if repeat is not None:
            times[interval].append(seconds)
    median = {interval: statistics.median(values) for interval, values in times.items()}
    per_backup = (median["1"] - median["null"]) / args.epochs
    results = {
        "machine": _common.machine(),
        "epochs": args.epochs,
        "train_time_s": times,
        "median_train_time_s": median,
        "cost_per_backup_s": per_backup,
    }
    rows = [(f"train_time_s median, backup_interval={k}", f"{v:.2f}") for k, v in median.items()]
    rows.append(("cost per backup (every epoch vs off)", f"{per_backup * 1000:.1f} ms"))
    _common.report(results, args.json, rows)


if __name__ == "__main__":
    main()
