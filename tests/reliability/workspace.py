"""The shared inputs of the bad-input suite: tiny tables, a trained run, a checkpoint.

Everything here is small enough to build in a few seconds: 30 nodes in two communities
(4 features), a one-layer GCN trained for 3 epochs, a DGI backbone pre-trained for
2 epochs, a two-graph TU set and links to the real Cora files.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

WIDTH = 4
NUM_NODES = 30
SCHEMA = f"""
node_sets {{ key: "item" value {{
  features {{ key: "feat" value {{ dtype: DT_FLOAT shape {{ dim {{ size: {WIDTH} }} }} }} }}
  features {{ key: "label" value {{ dtype: DT_INT64 }} }}
}} }}
edge_sets {{ key: "link" value {{ source: "item" target: "item" }} }}
"""
PLANETOID_PARTS = ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index")


@dataclasses.dataclass
class Workspace:
    """Paths of the shared inputs (read-only for the cases: they copy what they damage).

    Attributes:
      root: The folder holding everything.
      data_dir: The real data sets (``$TFGRAPHTUNE_DATA_DIR``).
    """

    root: Path
    data_dir: Path

    @property
    def nodes(self) -> Path:
        return self.root / "nodes.csv"

    @property
    def edges(self) -> Path:
        return self.root / "edges.csv"

    @property
    def splits(self) -> Path:
        return self.root / "splits.csv"

    @property
    def schema(self) -> Path:
        return self.root / "schema.pbtxt"

    @property
    def config(self) -> Path:
        return self.root / "tiny.yaml"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def backbone(self) -> Path:
        return self.root / "backbone"

    @property
    def tu(self) -> Path:
        return self.root / "tu"

    def placeholders(self, case_dir: Path) -> dict[str, str]:
        return {
            "ws": str(self.root),
            "case": str(case_dir),
            "cfg": str(self.config),
            "run": str(self.run),
            "bb": str(self.backbone),
            "schema": str(self.schema),
            "nodes": str(self.nodes),
            "edges": str(self.edges),
            "data": str(self.data_dir),
        }


def config_text(root: Path, *, epochs: int = 3, extra: str = "") -> str:
    return f"""task: node_classification
data:
  dataset: tables
  tables:
    schema: {root}/schema.pbtxt
    nodes: {{item: {root}/nodes.csv}}
    edges: {{link: {root}/edges.csv}}
    node_set: item
    splits: {root}/splits.csv
model: {{hidden_units: 4}}
train: {{epochs: {epochs}, tensorboard: false}}
pretrain: {{epochs: 2}}
{extra}"""


def write_tables(root: Path) -> None:
    """30 nodes ``n0..n29`` (features + community label), a ring-like edge list, splits."""
    rng = np.random.default_rng(0)
    community = np.arange(NUM_NODES) % 2
    features = rng.normal(size=(NUM_NODES, WIDTH)).astype(np.float32) + community[:, None]
    nodes = pd.DataFrame({"id": [f"n{i}" for i in range(NUM_NODES)]})
    for j in range(WIDTH):
        nodes[f"feat.{j}"] = features[:, j]
    nodes["label"] = community
    nodes.to_csv(root / "nodes.csv", index=False)
    pairs = [(i, (i + 2) % NUM_NODES) for i in range(NUM_NODES)]
    pairs += [(i, (i + 4) % NUM_NODES) for i in range(NUM_NODES)]
    pd.DataFrame(
        {"source": [f"n{a}" for a, _ in pairs], "target": [f"n{b}" for _, b in pairs]}
    ).to_csv(root / "edges.csv", index=False)
    pd.DataFrame(
        {"id": nodes["id"], "split": np.repeat(["train", "validation", "test"], NUM_NODES // 3)}
    ).to_csv(root / "splits.csv", index=False)
    (root / "schema.pbtxt").write_text(SCHEMA)
    (root / "tiny.yaml").write_text(config_text(root))


def write_tu(folder: Path, name: str = "TINY", **replace: str) -> Path:
    """A TU set of two triangles (labels 1 and -1); `replace` swaps a file's text by suffix."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "A": "1, 2\n2, 3\n3, 1\n4, 5\n5, 6\n6, 4\n",
        "graph_indicator": "1\n1\n1\n2\n2\n2\n",
        "graph_labels": "1\n-1\n",
        "node_labels": "0\n1\n0\n1\n0\n1\n",
    }
    files.update(replace)
    for suffix, text in files.items():
        (folder / f"{name}_{suffix}.txt").write_text(text)
    return folder


def link_planetoid(data_dir: Path, folder: Path, *, skip: str | None = None) -> Path:
    """``folder/planetoid/ind.cora.*`` as links to the real files, except `skip`."""
    target = folder / "planetoid"
    target.mkdir(parents=True, exist_ok=True)
    for part in PLANETOID_PARTS:
        if part != skip:
            os.symlink(data_dir / "planetoid" / f"ind.cora.{part}", target / f"ind.cora.{part}")
    return target


def copy_run(ws: Workspace, case_dir: Path) -> Path:
    """A private copy of the trained run folder, for a case to damage."""
    return Path(shutil.copytree(ws.run, case_dir / "run"))


def copy_backbone(ws: Workspace, case_dir: Path) -> Path:
    """A private copy of the pre-trained checkpoint, for a case to damage."""
    return Path(shutil.copytree(ws.backbone, case_dir / "backbone"))


def build(root: Path, data_dir: Path) -> Workspace:
    """Writes the tables, trains the run and pre-trains the backbone (in this process)."""
    from tfgraphtune.pretrain.runner import pretrain
    from tfgraphtune.training.config import load_config
    from tfgraphtune.training.train import train

    root.mkdir(parents=True, exist_ok=True)
    ws = Workspace(root=root, data_dir=data_dir)
    write_tables(root)
    train(load_config(ws.config, [f"out={ws.run}"]))
    pretrain(load_config(ws.config, [f"out={ws.backbone}"]))
    write_tu(ws.tu / "tu" / "TINY")
    return ws


def build_run(root: Path) -> Path:
    """Only the tables and the trained run folder (in this process); returns the run."""
    from tfgraphtune.training.config import load_config
    from tfgraphtune.training.train import train

    root.mkdir(parents=True, exist_ok=True)
    write_tables(root)
    train(load_config(root / "tiny.yaml", [f"out={root / 'run'}"]))
    return root / "run"
