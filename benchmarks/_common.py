"""Shared bits of the benchmark scripts: threads, machine facts, table and JSON output."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))


def default_data_dir() -> str:
    return os.environ.get("TFGRAPHTUNE_DATA_DIR", str(REPO_ROOT.parent / "shared" / "data"))


def set_threads(threads: int) -> None:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)


def machine() -> dict:
    import tensorflow as tf

    return {
        "tensorflow": tf.__version__,
        "python": platform.python_version(),
        "cpus_visible": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }


def report(results: dict, json_path: str | None, rows: list[tuple[str, str]]) -> None:
    """Prints a two-column markdown table and writes the JSON (if a path is given)."""
    width = max(len(key) for key, _ in rows)
    print(f"| {'metric'.ljust(width)} | value |")
    print(f"|{'-' * (width + 2)}|-------|")
    for key, value in rows:
        print(f"| {key.ljust(width)} | {value} |")
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps(results, indent=2))
        print(f"wrote {json_path}")


def write_json(results: dict, json_path: str | None) -> dict:
    """Writes the results as JSON when a path is given; returns them."""
    if json_path:
        Path(json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(json_path).write_text(json.dumps(results, indent=2))
    return results


def run_script(command: list[str], **options) -> str:
    """Runs a benchmark script or a peer's script in a child process; returns its stdout."""
    import subprocess

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=env, **options)
    return done.stdout


def add_sampling_arguments(parser) -> None:
    """``--fanouts`` and ``--batch-size``: train on sampled subgraphs instead of full batch."""
    parser.add_argument(
        "--fanouts",
        default=None,
        help="neighbours sampled per hop, e.g. 10,10: train on sampled subgraphs "
        "(data.sampling.fanouts) instead of full batch",
    )
    parser.add_argument(
        "--batch-size", type=int, default=None, help="seeds per sampled batch (with --fanouts)"
    )


def sampling_overrides(fanouts: str | None, batch_size: int | None) -> list[str]:
    """Config overrides of ``--fanouts 10,10 --batch-size 64`` (none: full batch)."""
    if not fanouts:
        return []
    hops = [int(k) for k in fanouts.split(",")]
    overrides = [f"data.sampling.fanouts={hops}"]
    if batch_size:
        overrides.append(f"data.sampling.batch_size={batch_size}")
    return overrides
