"""Full-batch GCN training step: tfgraphtune against PyTorch Geometric, in one run.

Runs `benchmarks/node_classification.py` and the PyG baseline
(`../shared/bench/pyg_gcn.py`, same Kipf & Welling setup) alternately for `--rounds`
rounds on the same machine and reports the ratio of their median training-step times
(``pyg / ours``: above 1 means tfgraphtune is faster). Both use `--threads` threads.

PyG's CPU epoch on Planetoid is dominated by the dense input dropout (torch's bernoulli_);
tfgraphtune draws random numbers only for the non-zero inputs. The script therefore also
reports PyG's epoch minus its measured input-dropout time, a comparison of everything else.

    python benchmarks/speed_vs_pyg.py --dataset cora --rounds 3 --json OUT.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import _common
import numpy as np

HERE = Path(__file__).resolve().parent


def _last_json_line(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no JSON line in output:\n{text[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="cora", choices=["cora", "citeseer"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=2, help="seeds per side per round")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--pyg-python",
        default=os.environ.get("PYG_PYTHON", str(Path.home() / ".cache/pyg-venv/bin/python")),
        help="python of a venv with torch + torch_geometric (see ../shared/bench/README.md)",
    )
    parser.add_argument("--bench-dir", default=str(_common.REPO_ROOT.parent / "shared" / "bench"))
    parser.add_argument("--data-dir", default=_common.default_data_dir())
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    ours, pyg = [], []
    common = ["--dataset", args.dataset, "--seeds", str(args.seeds), "--threads", str(args.threads)]
    for round_index in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "ours.json"
            _common.run_script(
                [sys.executable, str(HERE / "node_classification.py"), *common,
                 "--data-dir", args.data_dir, "--json", str(out)]
            )  # fmt: skip
            ours.append(json.loads(out.read_text()))
        stdout = _common.run_script(
            [args.pyg_python, str(Path(args.bench_dir) / "pyg_gcn.py"), *common,
             "--root", str(Path(args.data_dir) / "planetoid")]
        )  # fmt: skip
        pyg.append(_last_json_line(stdout))
        print(
            f"round {round_index}: ours {ours[-1]['epoch_time_median_s'] * 1e3:.1f} ms, "
            f"pyg {pyg[-1]['train_epoch_median_ms']:.1f} ms",
            flush=True,
        )

    ours_ms = float(np.median([r["epoch_time_median_s"] * 1e3 for r in ours]))
    pyg_ms = float(np.median([r["train_epoch_median_ms"] for r in pyg]))
    pyg_dropout_ms = float(np.median([r["input_dropout_median_ms"] for r in pyg]))
    ours_inf = float(np.median([r["inference_time_median_s"] * 1e3 for r in ours]))
    pyg_inf = float(np.median([r["inference_median_ms"] for r in pyg]))
    results = {
        "benchmark": "speed_vs_pyg",
        "dataset": args.dataset,
        "rounds": args.rounds,
        "seeds_per_round": args.seeds,
        "ours_epoch_median_s": ours_ms / 1e3,
        "pyg_epoch_median_s": pyg_ms / 1e3,
        "pyg_input_dropout_median_s": pyg_dropout_ms / 1e3,
        "ratio_pyg_over_ours": pyg_ms / ours_ms,
        "ratio_pyg_without_dropout_over_ours": (pyg_ms - pyg_dropout_ms) / ours_ms,
        "ours_inference_median_s": ours_inf / 1e3,
        "pyg_inference_median_s": pyg_inf / 1e3,
        "ours_test_accuracy_mean": float(np.mean([r["test_accuracy_mean"] for r in ours])),
        "pyg_test_accuracy_mean": float(np.mean([r["test_acc_mean"] for r in pyg])) / 100,
        "pyg_versions": {
            "torch": pyg[0].get("torch"),
            "torch_geometric": pyg[0].get("torch_geometric"),
        },
        "threads": args.threads,
        **_common.machine(),
    }
    _common.report(
        results,
        args.json,
        [
            ("dataset", args.dataset),
            ("train step, tfgraphtune (median)", f"{ours_ms:.1f} ms"),
            ("train epoch, PyG (median)", f"{pyg_ms:.1f} ms"),
            ("PyG / tfgraphtune", f"{results['ratio_pyg_over_ours']:.2f}x"),
            (
                "PyG without input dropout / tfgraphtune",
                f"{results['ratio_pyg_without_dropout_over_ours']:.2f}x",
            ),
            ("inference tfgraphtune / PyG", f"{ours_inf:.2f} ms / {pyg_inf:.2f} ms"),
        ],
    )


if __name__ == "__main__":
    main()
