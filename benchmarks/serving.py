"""Serving a fine-tuned Cora GCN from its exported SavedModel: latency, throughput, compression.

Fine-tunes configs/cora_gcn.yaml (200 epochs, no early stopping so the pruned run has the
same budget), exports it with ``export_run`` and measures the SavedModel loaded with
``tf.saved_model.load`` in this process through ``serving_default`` (serialized tf.Example
graphs, what a TF Serving request carries; request encoding is outside the timings):

- ``p50_ms_single`` / ``p99_ms_single``: one request holding one graph, the 2-hop
  neighbourhood of a test node (median 2-hop size on Cora is about 36 nodes);
- ``throughput_graphs_per_s_batched``: requests of ``--batch-size`` such graphs;
- ``p50_ms_full_graph``: one request holding all of Cora (2708 nodes, 10556 edges).

``compression`` compares float32 with float16/int8 weight storage of the same model, a
model pruned to ``--sparsity`` during fine-tuning (Zhu & Gupta schedule), and pruned + int8:
``size_bytes`` is saved_model.pb + variables/, ``gzip_size_bytes`` that as .tar.gz (where
pruned zeros pay off), ``metric`` the test accuracy computed from the exported model's
predictions, ``metric_delta`` its change against float32 unpruned.

    python benchmarks/serving.py --json benchmarks/results/serving_cora.json
"""

from __future__ import annotations

import argparse
import tempfile
import time

import _common
import numpy as np


def ego_graphs(source, target, features, seeds, hops=2, cap=256):
    """(features, source, target) of each seed's `hops`-hop neighbourhood (at most `cap` nodes)."""
    neighbours = {}
    for s, t in zip(source, target):
        neighbours.setdefault(int(t), []).append(int(s))
    graphs = []
    for seed in seeds:
        nodes, frontier = [int(seed)], [int(seed)]
        seen = {int(seed)}
        for _ in range(hops):
            nxt = []
            for node in frontier:
                for n in neighbours.get(node, []):
                    if n not in seen and len(nodes) < cap:
                        seen.add(n)
                        nodes.append(n)
                        nxt.append(n)
            frontier = nxt
        index = {n: i for i, n in enumerate(nodes)}
        keep = np.array([s in index and t in index for s, t in zip(source, target)])
        local_s = np.array([index[s] for s in source[keep]], np.int64)
        local_t = np.array([index[t] for t in target[keep]], np.int64)
        graphs.append((features[nodes], local_s, local_t))
    return graphs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=_common.default_data_dir())
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--sparsity", type=float, default=0.8)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--reps", type=int, default=300, help="single-graph requests timed")
    parser.add_argument("--batched-reps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out-dir", default=str(_common.REPO_ROOT / "export" / "cora-bench"))
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    import shutil
    from pathlib import Path

    import tensorflow as tf

    import tfgraphtune  # noqa: F401
    from tfgraphtune.serving import client
    from tfgraphtune.serving.compression import MagnitudePruning, gzipped_size
    from tfgraphtune.serving.exporter import export_run, graph_tensor_from_arrays
    from tfgraphtune.training.config import load_config
    from tfgraphtune.training.train import train

    _common.set_threads(args.threads)
    start = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="serving-bench-"))
    out_dir = Path(args.out_dir)
    shutil.rmtree(out_dir, ignore_errors=True)

    def config(name):
        return load_config(
            _common.REPO_ROOT / "configs" / "cora_gcn.yaml",
            [
                f"data.data_dir={args.data_dir}",
                f"train.epochs={args.epochs}",
                "train.early_stopping=null",
                "train.tensorboard=false",
                f"out={work / name}",
            ],
        )

    train(config("float32"))
    pruning = MagnitudePruning(
        args.sparsity,
        begin_step=args.epochs // 10,
        end_step=args.epochs * 6 // 10,
        frequency=max(args.epochs // 20, 1),
    )
    train(config("pruned"), callbacks=[pruning])
    print(
        f"trained ({time.perf_counter() - start:.0f} s); pruned sparsity {pruning.sparsity():.3f}",
        flush=True,
    )

    exports = {
        "float32": export_run(work / "float32", out_dir),
        "float16": export_run(work / "float32", work / "exports" / "f16", quantize="float16"),
        "int8": export_run(work / "float32", work / "exports" / "int8", quantize="int8"),
        f"pruned{args.sparsity:g}": export_run(work / "pruned", work / "exports" / "pruned"),
        f"pruned{args.sparsity:g}+int8": export_run(
            work / "pruned", work / "exports" / "pruned_int8", quantize="int8"
        ),
    }
    print(f"exported ({time.perf_counter() - start:.0f} s)", flush=True)

    from tfgraphtune.data.datasets.registry import load_dataset

    dataset = load_dataset("cora", args.data_dir)
    si = client.read_serving_input(exports["float32"].version_dir)
    full_graph = dataset.graph
    full = client._graph_arrays(full_graph, si)
    full_example = client.examples_from_graphs([full_graph], si)
    test_ids = dataset.splits["test"]
    labels = dataset.labels

    compression = []
    baseline = None
    for method, result in exports.items():
        loaded = tf.saved_model.load(str(result.version_dir))
        ids = loaded.signatures["serving_default"](examples=tf.constant(full_example))
        accuracy = float((ids["class_ids"].numpy()[0][test_ids] == labels[test_ids]).mean())
        baseline = accuracy if baseline is None else baseline
        compression.append(
            {
                "method": method,
                "size_bytes": result.size_bytes,
                "gzip_size_bytes": gzipped_size(result.version_dir),
                "quantized_variables": list(result.quantized_variables),
                "metric": accuracy,
                "metric_name": "test_accuracy",
                "metric_delta": accuracy - baseline,
            }
        )

    loaded = tf.saved_model.load(str(exports["float32"].version_dir))
    serve = loaded.signatures["serving_default"]
    rng = np.random.default_rng(0)
    seeds = rng.choice(test_ids, size=max(args.reps, args.batch_size * args.batched_reps))
    graphs = ego_graphs(full[1], full[2], full[0], seeds)
    singles = [
        tf.constant(client.examples_from_graphs([graph_tensor_from_arrays(si, *g)], si))
        for g in graphs[: args.reps]
    ]
    batches = []
    for b in range(args.batched_reps):
        chunk = graphs[b * args.batch_size : (b + 1) * args.batch_size]
        tensors = [graph_tensor_from_arrays(si, *g) for g in chunk]
        batches.append(tf.constant(client.examples_from_graphs(tensors, si)))
    for request in singles[:10] + batches[:2]:  # Warm up.
        serve(examples=request)["class_ids"].numpy()
    times = []
    for request in singles:
        t0 = time.perf_counter()
        serve(examples=request)["class_ids"].numpy()
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    for request in batches:
        serve(examples=request)["class_ids"].numpy()
    batched_s = time.perf_counter() - t0
    full_request = tf.constant(full_example)
    full_times = []
    for _ in range(20):
        t0 = time.perf_counter()
        serve(examples=full_request)["class_ids"].numpy()
        full_times.append(time.perf_counter() - t0)

    results = {
        "benchmark": "serving",
        "dataset": "cora",
        "export_dir": str(exports["float32"].version_dir),
        "p50_ms_single": float(np.percentile(times, 50) * 1e3),
        "p99_ms_single": float(np.percentile(times, 99) * 1e3),
        "throughput_graphs_per_s_batched": float(args.batch_size * args.batched_reps / batched_s),
        "batch_size": args.batch_size,
        "single_graph_nodes_median": float(np.median([len(g[0]) for g in graphs])),
        "p50_ms_full_graph": float(np.percentile(full_times, 50) * 1e3),
        "compression": compression,
        "pruned_sparsity": pruning.sparsity(),
        "wall_s": time.perf_counter() - start,
        "threads": args.threads,
        **_common.machine(),
    }
    rows = [
        ("export_dir", results["export_dir"]),
        (
            "single graph p50 / p99",
            f"{results['p50_ms_single']:.2f} / {results['p99_ms_single']:.2f} ms",
        ),
        (
            f"batched ({args.batch_size}) throughput",
            f"{results['throughput_graphs_per_s_batched']:.0f} graphs/s",
        ),
        ("full Cora graph p50", f"{results['p50_ms_full_graph']:.2f} ms"),
    ]
    for entry in compression:
        rows.append(
            (
                entry["method"],
                f"{entry['size_bytes']} B (gz {entry['gzip_size_bytes']} B), test acc "
                f"{entry['metric']:.3f} ({entry['metric_delta']:+.3f})",
            )
        )
    _common.report(results, args.json, rows)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
