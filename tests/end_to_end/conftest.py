"""Data, pre-trained checkpoints and a TensorFlow-only process for the end-to-end matrix."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tfgraphtune.pretrain.runner import pretrain
from tfgraphtune.training.config import load_config

HERE = Path(__file__).resolve().parent
WIDTH = 8  # Node feature width of the synthetic tables.


def _schema(text: str, path: Path) -> str:
    path.write_text(text)
    return str(path)


def _node_tables(root: Path) -> dict:
    """60 nodes in two communities; edges listed one way, plus two self loops.

    ``label`` is the community; ``target`` a real number read off the features.
    """
    rng = np.random.default_rng(0)
    n = 60
    community = np.arange(n) % 2
    features = rng.normal(size=(n, WIDTH)).astype(np.float32) + community[:, None]
    nodes = pd.DataFrame({"id": [f"n{i}" for i in range(n)]})
    for j in range(WIDTH):
        nodes[f"feat.{j}"] = features[:, j]
    nodes["label"] = community
    nodes["target"] = features[:, 0] + 0.5 * features[:, 1]
    pairs = {(int(a), int(b)) for a, b in rng.integers(0, n, size=(150, 2)) if a < b}
    pairs = [(a, b) for a, b in pairs if community[a] == community[b] or rng.random() < 0.2]
    pairs += [(3, 3), (7, 7)]
    edges = pd.DataFrame(
        {"source": [f"n{a}" for a, _ in pairs], "target": [f"n{b}" for _, b in pairs]}
    )
    splits = pd.DataFrame(
        {"id": nodes["id"], "split": np.repeat(["train", "validation", "test"], n // 3)}
    )
    nodes.to_csv(root / "nodes.csv", index=False)
    edges.to_csv(root / "edges.csv", index=False)
    splits.to_csv(root / "splits.csv", index=False)
    schema = _schema(
        f"""
node_sets {{ key: "item" value {{
  features {{ key: "feat" value {{ dtype: DT_FLOAT shape {{ dim {{ size: {WIDTH} }} }} }} }}
  features {{ key: "label" value {{ dtype: DT_INT64 }} }}
  features {{ key: "target" value {{ dtype: DT_FLOAT }} }}
}} }}
edge_sets {{ key: "link" value {{ source: "item" target: "item" }} }}
""",
        root / "nodes.pbtxt",
    )
    return {
        "dataset": "tables",
        "tables": {
            "schema": schema,
            "nodes": {"item": str(root / "nodes.csv")},
            "edges": {"link": str(root / "edges.csv")},
            "node_set": "item",
            "splits": str(root / "splits.csv"),
            "cleaning": ["drop_self_loops", "make_undirected"],
        },
    }


def _graph_tables(root: Path) -> dict:
    """48 small graphs (4 to 8 nodes): rings (label 1) and chains (label 0)."""
    rng = np.random.default_rng(1)
    nodes, edges, graphs = [], [], []
    for g in range(48):
        size, ring = int(rng.integers(4, 9)), g % 2
        ids = [f"g{g}n{i}" for i in range(size)]
        for node_id in ids:
            nodes.append(
                {
                    "id": node_id,
                    "graph": f"g{g}",
                    **{f"feat.{j}": float(rng.random()) for j in range(5)},
                }
            )
        pairs = [(i, i + 1) for i in range(size - 1)] + ([(size - 1, 0)] if ring else [])
        edges += [{"source": ids[a], "target": ids[b]} for a, b in pairs]
        split = ["train", "train", "validation", "test"][g % 4]
        graphs.append({"graph": f"g{g}", "label": ring, "target": size / 4.0, "split": split})
    pd.DataFrame(nodes).to_csv(root / "graph_nodes.csv", index=False)
    pd.DataFrame(edges).to_csv(root / "graph_edges.csv", index=False)
    pd.DataFrame(graphs).to_csv(root / "graphs.csv", index=False)
    schema = _schema(
        """
node_sets { key: "atom" value {
  features { key: "feat" value { dtype: DT_FLOAT shape { dim { size: 5 } } } }
} }
edge_sets { key: "bond" value { source: "atom" target: "atom" } }
""",
        root / "graphs.pbtxt",
    )
    return {
        "dataset": "tables",
        "tables": {
            "schema": schema,
            "nodes": {"atom": str(root / "graph_nodes.csv")},
            "edges": {"bond": str(root / "graph_edges.csv")},
            "node_set": "atom",
            "graphs": str(root / "graphs.csv"),
            "cleaning": ["make_undirected"],
        },
    }


MODEL = {
    "conv": "gcn",
    "hidden_units": 8,
    "num_layers": 1,
    "dropout": 0.1,
    "sparse_inputs": False,
    "l2": 0.0,
    "head_hidden_units": 8,
}
TRAIN = {"epochs": 1, "early_stopping": None, "tensorboard": False, "batch_size": 64}


def make_config(task: str, data: dict, out: Path, **sections) -> dict:
    """A full config: defaults, then the given sections merged in."""
    config = load_config(None, [f"task={task}", f"out={out}"])
    for key, value in data.items():
        if isinstance(value, dict):
            config["data"][key].update(value)
        else:
            config["data"][key] = value
    config["model"].update(MODEL)
    config["train"].update(TRAIN)
    for section, values in sections.items():
        config[section].update(values)
    return config


@pytest.fixture(scope="session")
def sources(tmp_path_factory, data_dir) -> dict[str, dict]:
    """Data section per source: known data sets and synthetic tables."""
    root = tmp_path_factory.mktemp("tables")
    return {
        "cora": {"dataset": "cora", "data_dir": str(data_dir)},
        "mutag": {"dataset": "mutag", "data_dir": str(data_dir), "folds": 4},
        "freesolv": {"dataset": "freesolv", "data_dir": str(data_dir), "folds": 4},
        "node_tables": _node_tables(root),
        "graph_tables": _graph_tables(root),
    }


class Checkpoints:
    """One short pre-training per data source, made on first use (DGI on one graph,
    attribute masking on many); each test process pre-trains only what its cells use."""

    METHODS = {
        "cora": ("node_classification", "dgi"),
        "node_tables": ("node_classification", "dgi"),
        "mutag": ("graph_classification", "attr_mask"),
        "freesolv": ("graph_regression", "attr_mask"),
        "graph_tables": ("graph_classification", "attr_mask"),
    }

    def __init__(self, root: Path, sources: dict):
        self.root, self.sources, self.made = root, sources, {}

    def __getitem__(self, name: str) -> Path:
        if name not in self.made:
            task, method = self.METHODS[name]
            config = make_config(
                task, self.sources[name], self.root / name, pretrain={"method": method, "epochs": 1}
            )
            pretrain(config)
            self.made[name] = self.root / name
        return self.made[name]


@pytest.fixture(scope="session")
def checkpoints(tmp_path_factory, sources) -> Checkpoints:
    return Checkpoints(tmp_path_factory.mktemp("pretrained"), sources)


class TensorFlowOnly:
    """A long-lived process with only TensorFlow imported, answering export requests."""

    def __init__(self, root: Path):
        self.root = root
        self.count = 0
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "tf_only_worker.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(self, saved_model: Path, signature: str, inputs: dict) -> dict[str, np.ndarray]:
        self.count += 1
        request = self.root / f"in{self.count}.npz"
        reply = self.root / f"out{self.count}.npz"
        np.savez(request, **inputs)
        line = {"saved_model": str(saved_model), "signature": signature,
                "inputs": str(request), "outputs": str(reply)}  # fmt: skip
        self.process.stdin.write(json.dumps(line) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        assert answer["ok"], answer.get("error")
        with np.load(reply) as arrays:
            return {name: arrays[name] for name in arrays.files}

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=60)


@pytest.fixture(scope="session")
def tensorflow_only(tmp_path_factory):
    worker = TensorFlowOnly(tmp_path_factory.mktemp("tf_only"))
    yield worker
    worker.close()
