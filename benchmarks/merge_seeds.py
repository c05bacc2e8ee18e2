"""Merges `pretraining.py` results of the same setup run over disjoint seeds (--first-seed).

Long pre-training runs (GraphMAE's 1500 epochs) can be split over processes; this joins
their JSON files into one, with means and standard deviations over all seeds, and records
which files (seeds, dates) it joined.

    python benchmarks/merge_seeds.py A.json B.json --json OUT.json
"""

from __future__ import annotations

import argparse
import json

import _common
import numpy as np

PER_SEED = (
    "linear_probe_accuracy_per_seed",
    "pretrain_time_per_seed_s",
    "epochs_run_per_seed",
    "final_loss_per_seed",
)
SAME = ("benchmark", "dataset", "method", "conv", "epochs", "config", "probe")


def merge(results: list[dict]) -> dict:
    """One result over the seeds of all `results` (sorted by their first seed).

    Raises:
      ValueError: The results differ in setup, or their seeds overlap.
    """
    results = sorted(results, key=lambda r: r["first_seed"])
    for key in SAME:
        if any(r.get(key) != results[0].get(key) for r in results):
            raise ValueError(f"the results differ in {key!r}; only one setup can be merged.")
    seeds = [s for r in results for s in range(r["first_seed"], r["first_seed"] + r["seeds"])]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"the results' seeds overlap: {sorted(seeds)}.")
    merged = {k: v for k, v in results[0].items() if k not in ("wall_s", "date")}
    for key in PER_SEED:
        merged[key] = [value for r in results for value in r[key]]
    accuracies = merged["linear_probe_accuracy_per_seed"]
    merged.update(
        seeds=len(seeds),
        seed_list=seeds,
        linear_probe_accuracy_mean=float(np.mean(accuracies)),
        linear_probe_accuracy_std=float(np.std(accuracies)),
        pretrain_time_s=float(np.mean(merged["pretrain_time_per_seed_s"])),
        merged_from=[
            {"first_seed": r["first_seed"], "seeds": r["seeds"], "date": r["date"]} for r in results
        ],
    )
    for name in merged["probes"]:
        values = [v for r in results for v in r["probes"][name]["accuracy_per_seed"]]
        merged["probes"][name] = {
            **results[0]["probes"][name],
            "accuracy_mean": float(np.mean(values)),
            "accuracy_std": float(np.std(values)),
            "accuracy_per_seed": values,
        }
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("inputs", nargs="+")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    results = [json.loads(open(path).read()) for path in args.inputs]
    merged = merge(results)
    _common.report(
        merged,
        args.json,
        [
            ("dataset / method", f"{merged['dataset']} / {merged['method']} ({merged['conv']})"),
            ("seeds", ", ".join(map(str, merged["seed_list"]))),
            *(
                (f"probe '{name}'", f"{v['accuracy_mean']:.4f} ± {v['accuracy_std']:.4f}")
                for name, v in merged["probes"].items()
            ),
            (
                "linear probe accuracy",
                f"{merged['linear_probe_accuracy_mean']:.4f} ± "
                f"{merged['linear_probe_accuracy_std']:.4f}",
            ),
        ],
    )


if __name__ == "__main__":
    main()
