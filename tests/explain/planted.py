"""A graph whose label is planted in one feature of one neighbour, as tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SCHEMA = """
node_sets { key: "n" value {
  features { key: "x" value { dtype: DT_FLOAT shape { dim { size: 6 } } } }
  features { key: "y" value { dtype: DT_INT64 } } } }
edge_sets { key: "e" value { source: "n" target: "n" } }
"""
NUM_CENTERS = 60
PLANTED_FEATURE = 0


def write_planted(folder: Path, *, seed: int = 0) -> dict:
    """Centers 0..59 each get three in-edges from leaves: one informative leaf whose
    feature 0 is +1 (label 1) or -1 (label 0), and two noise leaves with feature 0 = 0.
    Features 1..5 are noise everywhere; centers have feature 0 = 0. Only centers are
    labelled (the split table lists only them).

    Returns:
      ``{"config": path, "informative": [leaf of each center]}``.
    """
    rng = np.random.default_rng(seed)
    c = NUM_CENTERS
    labels = rng.integers(0, 2, c)
    labels[:2] = [1, 0]  # Both classes among the centers the tests explain.
    features = rng.normal(size=(4 * c, 6)).astype(np.float32)
    features[:, PLANTED_FEATURE] = 0.0
    informative = c + np.arange(c)  # Leaves c..2c-1 inform; 2c..4c-1 are noise.
    features[informative, PLANTED_FEATURE] = np.where(labels == 1, 1.0, -1.0)
    noise = 2 * c + np.arange(2 * c)
    source = np.concatenate([informative, noise])
    target = np.concatenate([np.arange(c), np.repeat(np.arange(c), 2)])
    order = rng.permutation(len(source))  # The informative edge is not always first.
    source, target = source[order], target[order]
    ids = [f"v{i}" for i in range(4 * c)]
    nodes = pd.DataFrame({"id": ids, "y": np.concatenate([labels, np.zeros(3 * c, int)])})
    for k in range(6):
        nodes[f"x.{k}"] = features[:, k]
    nodes.to_csv(folder / "nodes.csv", index=False)
    pd.DataFrame({"source": [ids[s] for s in source], "target": [ids[t] for t in target]}).to_csv(
        folder / "edges.csv", index=False
    )
    split = ["train"] * 40 + ["validation"] * 10 + ["test"] * 10
    pd.DataFrame({"id": ids[:c], "split": split}).to_csv(folder / "splits.csv", index=False)
    (folder / "s.pbtxt").write_text(SCHEMA)
    config = folder / "c.yaml"
    config.write_text(f"""
task: node_classification
data:
  dataset: tables
  normalize_features: null
  tables:
    schema: {folder / "s.pbtxt"}
    nodes: {{n: {folder / "nodes.csv"}}}
    edges: {{e: {folder / "edges.csv"}}}
    node_set: n
    feature: x
    label: y
    splits: {folder / "splits.csv"}
    cleaning: []
model: {{conv: gcn, hidden_units: 16, num_layers: 1, dropout: 0.0, sparse_inputs: false,
        l2: 0.0, head: linear, head_dropout: 0.0}}
train: {{epochs: 150, learning_rate: 0.02, early_stopping: null, tensorboard: false}}
out: {folder / "run"}
""")
    return {"config": config, "informative": informative, "labels": labels}
