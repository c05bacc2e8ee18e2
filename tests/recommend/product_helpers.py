"""Shared pieces of the recommendation product tests: a synthetic table and a trained run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tfgraphtune.recommend.synthetic import synthetic_interactions
from tfgraphtune.training.config import load_config
from tfgraphtune.training.train import train

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = REPO_ROOT / "configs" / "recommend_synthetic.yaml"
TF_ONLY_WORKER = Path(__file__).resolve().parent / "tf_only_retrieval_worker.py"


def write_table(path: Path, *, num_users: int = 120, num_items: int = 80, seed: int = 0) -> Path:
    """A synthetic interaction table (planted groups, power-law popularity) as CSV."""
    frame = synthetic_interactions(num_users=num_users, num_items=num_items, seed=seed).to_frame()
    frame.to_csv(path, index=False)
    return path


def train_run(table: Path, out: Path, *overrides: str):
    """Trains the example config on `table` for a few epochs; returns the `RunResult`."""
    config = load_config(
        CONFIG,
        [
            f"data.interactions.path={table}",
            f"out={out}",
            "train.epochs=5",
            "model.embedding_dim=16",
            *overrides,
        ],
    )
    return train(config)


def cli(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Runs ``python -m tfgraphtune.cli.main ARGV`` with this process's environment."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), *sys.path])}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return subprocess.run(
        [sys.executable, "-m", "tfgraphtune.cli.main", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or REPO_ROOT,
        timeout=300,
    )
