"""Kipf & Welling's GCN on Cora / CiteSeer: accuracy over seeds and full-batch step time.

Setup (configs/cora_gcn.yaml): GCNConv(16, relu) backbone + GCNConv head, dropout 0.5 on
both layers' inputs (sparse-aware on the input features), L2 5e-4 on the first layer's
weights (Keras ``l2=2.5e-4``; Kipf's ``5e-4 * l2_loss``), Adam lr 0.01, 200 epochs,
row-normalised features, the public split. What differs from the paper: early stopping is
Keras's ``EarlyStopping(val_loss, patience=10, restore_best_weights=True)`` instead of
Kipf's "val loss above the mean of the last 10" window; test accuracy is that of the
restored (best validation loss) weights.

``epoch_time_median_s`` is one full-batch training step (fetch, forward, backward, Adam
update) timed by a callback around Keras's train function; validation is not inside it.
``inference_time_median_s`` is one compiled full-graph forward pass at inference.

    python benchmarks/node_classification.py --dataset cora --seeds 10 --json OUT.json
"""

from __future__ import annotations

import argparse
import time

import _common
import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="cora", choices=["cora", "citeseer", "pubmed"])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--patience", type=int, default=10, help="0 disables early stopping")
    parser.add_argument("--data-dir", default=_common.default_data_dir())
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--inference-reps", type=int, default=50)
    parser.add_argument("--json", default=None)
    _common.add_sampling_arguments(parser)
    args = parser.parse_args()

    import tensorflow as tf

    import tfgraphtune  # noqa: F401
    from tfgraphtune.training.config import load_config
    from tfgraphtune.training.train import train

    _common.set_threads(args.threads)
    config = load_config(
        _common.REPO_ROOT / "configs" / "cora_gcn.yaml",
        [
            f"data.dataset={args.dataset}",
            f"data.data_dir={args.data_dir}",
            f"train.epochs={args.epochs}",
            "train.tensorboard=false",
            *_common.sampling_overrides(args.fanouts, args.batch_size),
            "train.early_stopping="
            + (
                "null" if not args.patience else f"{{monitor: val_loss, patience: {args.patience}}}"
            ),
        ],
    )
    accuracies, step_medians, inference_medians, epochs_run = [], [], [], []
    data = None
    start = time.perf_counter()
    for seed in range(args.seeds):
        # The CLI's path (`tfgraphtune finetune`), without writing a run folder; the data
        # is prepared once (the public split does not depend on the seed).
        result = train(
            {**config, "train": {**config["train"], "seed": seed}}, write=False, data=data
        )
        data, model, metrics = result.data, result.model, result.metrics
        accuracies.append(metrics["test"]["accuracy"])
        step_medians.append(float(metrics["step_time_median_s"]))
        epochs_run.append(metrics["epochs_run"])
        graph = data.inputs
        forward = tf.function(lambda g, m=model: m(g, training=False))
        forward(graph)
        times = []
        for _ in range(args.inference_reps):
            t0 = time.perf_counter()
            forward(graph).numpy()
            times.append(time.perf_counter() - t0)
        inference_medians.append(float(np.median(times)))
        print(
            f"seed {seed}: test accuracy {accuracies[-1]:.3f}, epochs {epochs_run[-1]}, "
            f"step {step_medians[-1] * 1e3:.1f} ms",
            flush=True,
        )
    results = {
        "benchmark": "node_classification",
        "dataset": args.dataset,
        "sampling": {"fanouts": args.fanouts, "batch_size": args.batch_size},
        "seeds": args.seeds,
        "test_accuracy_mean": float(np.mean(accuracies)),
        "test_accuracy_std": float(np.std(accuracies)),
        "test_accuracy_per_seed": accuracies,
        "epoch_time_median_s": float(np.median(step_medians)),
        "inference_time_median_s": float(np.median(inference_medians)),
        "epochs_run_median": float(np.median(epochs_run)),
        "wall_s": time.perf_counter() - start,
        "threads": args.threads,
        **_common.machine(),
    }
    _common.report(
        results,
        args.json,
        [
            ("dataset", args.dataset),
            (
                "test accuracy",
                f"{results['test_accuracy_mean']:.3f} ± {results['test_accuracy_std']:.3f}",
            ),
            ("train step (median)", f"{results['epoch_time_median_s'] * 1e3:.2f} ms"),
            ("inference (median)", f"{results['inference_time_median_s'] * 1e3:.2f} ms"),
            ("epochs run (median)", f"{results['epochs_run_median']:.0f}"),
        ],
    )


if __name__ == "__main__":
    main()
