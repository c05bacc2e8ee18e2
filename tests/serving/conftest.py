"""A small Cora run and its export, shared by the serving tests (built once per session)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from tests.conftest import REPO_ROOT
from tfgraphtune.serving.export_module import ServingInput
from tfgraphtune.serving.exporter import export_run
from tfgraphtune.serving.run_loading import load_run, sample_request_graph
from tfgraphtune.serving.guards import ServingLimits
from tfgraphtune.training.config import load_config
from tfgraphtune.training.node_runner import train_node_classification

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
    train_node_classification(config)
    result = export_run(root / "run", root / "export" / "cora", limits=LIMITS)
    run = load_run(root / "run")
    dataset, model = run.dataset, run.model
    si = ServingInput(dataset.node_set, dataset.feature, dataset.edge_set, dataset.num_features)
    return CoraExport(
        run_dir=root / "run",
        version_dir=result.version_dir,
        model=model,
        dataset=dataset,
        serving_input=si,
        raw_graph=dataset.graph,
        subgraph=sample_request_graph(dataset.graph, si, 300),
    )


@pytest.fixture(scope="session")
def local_serving(cora_export):
    from tfgraphtune.serving.client import LocalServing

    return LocalServing(cora_export.version_dir)
