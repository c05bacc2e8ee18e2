"""finetune on the user's own tables: node regression and classification end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from tfgraphtune.cli.main import main

SCHEMA = """
node_sets { key: "user" value {
  features { key: "feat" value { dtype: DT_FLOAT shape { dim { size: 4 } } } }
  features { key: "target" value { dtype: DT_FLOAT } } } }
edge_sets { key: "follows" value { source: "user" target: "user" } }
"""


def _write_ring(tmp_path, num_nodes=60):
    rng = np.random.default_rng(0)
    features = rng.normal(size=(num_nodes, 4)).astype(np.float32)
    # A target the model can learn: a linear function of the node's own features.
    target = features @ np.array([1.0, -2.0, 0.5, 0.0], np.float32)
    ids = [f"u{i}" for i in range(num_nodes)]
    nodes = pd.DataFrame({"id": ids, "target": target})
    for k in range(4):
        nodes[f"feat.{k}"] = features[:, k]
    edges = pd.DataFrame({"source": ids, "target": ids[1:] + ids[:1]})
    split = np.array(["train"] * 40 + ["validation"] * 10 + ["test"] * 10)
    (tmp_path / "s.pbtxt").write_text(SCHEMA)
    nodes.to_parquet(tmp_path / "users.parquet")
    edges.to_csv(tmp_path / "follows.csv", index=False)
    pd.DataFrame({"id": ids, "split": split}).to_csv(tmp_path / "splits.csv", index=False)
    return target


def test_node_regression_from_tables(tmp_path):
    target = _write_ring(tmp_path)
    config = tmp_path / "c.yaml"
    config.write_text(f"""
task: node_regression
data:
  dataset: tables
  normalize_features: null
  tables:
    schema: {tmp_path / "s.pbtxt"}
    nodes: {{user: {tmp_path / "users.parquet"}}}
    edges: {{follows: {tmp_path / "follows.csv"}}}
    node_set: user
    feature: feat
    label: target
    splits: {tmp_path / "splits.csv"}
    cleaning: [make_undirected]
model: {{conv: sage, hidden_units: 32, num_layers: 1, dropout: 0.0, sparse_inputs: false,
        l2: 0.0, head: linear, head_dropout: 0.0}}
train: {{epochs: 150, early_stopping: null, tensorboard: false}}
out: {tmp_path / "run"}
""")
    assert main(["finetune", "--config", str(config)]) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    # Predicting the mean would give an RMSE of the target's std (about 2.3 here).
    assert metrics["test"]["rmse"] < 0.5 * float(np.std(target))
    assert set(metrics["test"]) == {"rmse", "mae"}
