"""Small Cora and MUTAG runs and their exports, shared by the serving tests (built once)."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import REPO_ROOT
from tfgraphtune.cli.main import main as cli_main
from tfgraphtune.data.datasets.registry import load_dataset
from tfgraphtune.serving.export_module import ServingInput
from tfgraphtune.serving.exporter import export_run
from tfgraphtune.serving.guards import ServingLimits
from tfgraphtune.tasks.base import request_graph
from tfgraphtune.training.config import load_config
from tfgraphtune.training.run_folder import load_run
from tfgraphtune.training.train import train

# Cora has 2708 nodes and 10556 directed edges; these limits admit it and little more.
LIMITS = ServingLimits(max_nodes=3000, max_edges=12000)


@dataclasses.dataclass
class CoraExport:
    run_dir: object
    version_dir: object
    model: tf.keras.Model
    dataset: object
    serving_input: ServingInput
    raw_graph: object  # Cora as loaded, raw features
    subgraph: tuple  # (features, source, target) of the first 300 nodes, raw features

    def keras_logits(self, features, source, target) -> np.ndarray:
        """The Keras model on a raw graph, prepared as in training (row-sum features)."""
        from tfgraphtune.data.graph_transforms import normalize_node_feature
        from tfgraphtune.serving.exporter import graph_tensor_from_arrays

        graph = graph_tensor_from_arrays(self.serving_input, features, source, target)
        si = self.serving_input
        graph = normalize_node_feature(graph, si.node_set, si.feature, "row_sum")
        return self.model(graph, training=False).numpy()


@pytest.fixture(scope="session")
def cora_export(tmp_path_factory, data_dir) -> CoraExport:
    root = tmp_path_factory.mktemp("serving")
    config = load_config(
        REPO_ROOT / "configs" / "cora_gcn.yaml",
        [
            f"data.data_dir={data_dir}",
            "train.epochs=5",
            "train.tensorboard=false",
            f"out={root / 'run'}",
        ],
    )
    train(config)
    result = export_run(root / "run", root / "export" / "cora", limits=LIMITS)
    run = load_run(root / "run")
    dataset, model = load_dataset("cora", data_dir), run.model
    si = ServingInput(dataset.node_set, dataset.feature, dataset.edge_set, dataset.num_features)
    return CoraExport(
        run_dir=root / "run",
        version_dir=result.version_dir,
        model=model,
        dataset=dataset,
        serving_input=si,
        raw_graph=dataset.graph,
        subgraph=request_graph(dataset.graph, si.node_set, si.feature, si.edge_set, 300),
    )


@pytest.fixture(scope="session")
def local_serving(cora_export):
    from tfgraphtune.serving.client import LocalServing

    return LocalServing(cora_export.version_dir)


# MUTAG graphs have at most 28 nodes and 66 directed edges; these limits admit them all.
GRAPH_LIMITS = ServingLimits(max_nodes=40, max_edges=100)


def _cli(argv: list[str]) -> str:
    """Runs the tfgraphtune CLI in this process; returns its stdout (fails on an error)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli_main(argv)
    assert code == 0, f"tfgraphtune {' '.join(argv)} exited with {code}"
    return out.getvalue()


@dataclasses.dataclass
class MutagExport:
    run_dir: object
    version_dir: object
    reply: dict  # What `tfgraphtune export` printed.
    model: tf.keras.Model
    dataset: object
    serving_input: ServingInput

    def graphs(self, indices) -> list:
        """MUTAG graphs as loaded (labels and edge features included)."""
        return [self.dataset.graphs[i] for i in indices]

    def keras_outputs(self, indices) -> tuple[np.ndarray, np.ndarray]:
        """``(logits, embeddings)`` of the Keras model on the graphs merged as in training."""
        from tfgraphtune.models.tasks.graph_classification import graph_batches

        graph, _ = next(
            iter(
                graph_batches(
                    self.dataset.graphs,
                    indices,
                    label_feature=self.dataset.label,
                    batch_size=len(indices),
                )
            )
        )
        logits = self.model(graph, training=False).numpy()
        embeddings = self.model.graph_embeddings(graph, training=False).numpy()
        return logits, embeddings


@pytest.fixture(scope="session")
def mutag_export(tmp_path_factory, data_dir) -> MutagExport:
    """A 2-epoch MUTAG GIN run trained and exported through the CLI."""
    root = tmp_path_factory.mktemp("graph_serving")
    _cli(
        [
            "finetune",
            "--config",
            str(REPO_ROOT / "configs" / "mutag_gin.yaml"),
            "--data-dir",
            str(data_dir),
            "--epochs",
            "2",
            "--out",
            str(root / "run"),
            "--set",
            "train.tensorboard=false",
        ]
    )
    printed = _cli(
        [
            "export",
            str(root / "run"),
            "--out",
            str(root / "export" / "mutag"),
            "--max-nodes",
            str(GRAPH_LIMITS.max_nodes),
            "--max-edges",
            str(GRAPH_LIMITS.max_edges),
            "--json",
        ]
    )
    reply, _ = json.JSONDecoder().raw_decode(printed)
    run = load_run(root / "run")
    return MutagExport(
        run_dir=root / "run",
        version_dir=Path(reply["version_dir"]),
        reply=reply,
        model=run.model,
        dataset=load_dataset("mutag", data_dir),
        serving_input=run.serving_input,
    )


@pytest.fixture(scope="session")
def graph_serving(mutag_export):
    from tfgraphtune.serving.client import LocalServing

    return LocalServing(mutag_export.version_dir)
