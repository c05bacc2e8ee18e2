"""Exporting a run folder as a versioned SavedModel for TF Serving.

Layout written under ``out`` (TF Serving's ``base_path``)::

    out/<version>/saved_model.pb, variables/      the SavedModel (TensorFlow ops only)
    out/<version>/assets.extra/tf_serving_warmup_requests
    out/<version>/assets.extra/serving_schema.pbtxt      GraphSchema of a request graph
    out/<version>/assets.extra/tfgraphtune_serving.json  inputs, outputs, limits, provenance
    out/models.config, models.config.container, batching_parameters.txt, README.md

A version is written to a hidden temporary folder and renamed into place, so a running
server never sees half a version, and an existing version is never overwritten.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf
import tensorflow_gnn as tfgnn

import tfgraphtune
from tfgraphtune.serving import export_module, guards, server_config, warmup
from tfgraphtune.serving.compression import QuantizedWeights, saved_model_size

METADATA_FILE = "tfgraphtune_serving.json"
SCHEMA_FILE = "serving_schema.pbtxt"
WARMUP_NODES = 32


@dataclasses.dataclass(frozen=True)
class ExportResult:
    """What `export_run` wrote.

    Attributes:
      version_dir: The SavedModel folder ``out/<version>``.
      version: The version number.
      model_name: The model name in ``models.config``.
      size_bytes: ``saved_model.pb`` plus ``variables/`` in bytes.
      quantize: ``"float32"``, ``"float16"`` or ``"int8"``.
      quantized_variables: Names of the variables stored quantized.
    """

    version_dir: Path
    version: int
    model_name: str
    size_bytes: int
    quantize: str
    quantized_variables: tuple[str, ...]


def existing_versions(base_dir: str | Path) -> list[int]:
    """The numbered version folders of a TF Serving base path, ascending."""
    base_dir = Path(base_dir)
    if not base_dir.is_dir():
        return []
    return sorted(int(p.name) for p in base_dir.iterdir() if p.is_dir() and p.name.isdigit())


def next_version(base_dir: str | Path, version: int | None = None) -> int:
    """`version` if it is free, else raises; None means one past the newest (or 1).

    Raises:
      FileExistsError: `version` already exists (versions are never overwritten).
      ValueError: `version` is not a positive integer.
    """
    versions = existing_versions(base_dir)
    if version is None:
        return (versions[-1] + 1) if versions else 1
    if isinstance(version, bool) or not isinstance(version, int) or version <= 0:
        raise ValueError(
            "Received an invalid value for version, expected a positive integer. "
            f"Received: version={version!r}"
        )
    if version in versions:
        raise FileExistsError(
            f"version {version} already exists in {base_dir}; versions are never overwritten: "
            f"omit --version to write version {versions[-1] + 1}."
        )
    return version


def feature_preprocessing(method: str | None, raw_features: np.ndarray):
    """The training-time feature normalization as an in-graph function.

    ``row_sum`` works row by row; ``standardize`` uses the training graph's column
    statistics, stored as constants (a request's own statistics would differ).
    """
    if method is None:
        return lambda values: values
    if method == "row_sum":
        return lambda values: tf.math.divide_no_nan(
            values, tf.reduce_sum(values, axis=-1, keepdims=True)
        )
    if method == "standardize":
        raw = raw_features.astype(np.float32)
        mean = raw.mean(axis=0)
        std = raw.std(axis=0)
        return lambda values: tf.where(
            std > 0,
            (values - mean) / np.where(std > 0, std, 1.0).astype(np.float32),
            values - mean,
        )
    raise ValueError(f"feature normalization {method!r} cannot be exported.")


def sample_request_graph(graph: tfgnn.GraphTensor, serving_input, num_nodes: int):
    """The subgraph induced by the first `num_nodes` nodes, with only the served feature."""
    node_set = graph.node_sets[serving_input.node_set]
    num_nodes = min(num_nodes, int(node_set.total_size))
    features = node_set[serving_input.feature].numpy()[:num_nodes]
    adjacency = graph.edge_sets[serving_input.edge_set].adjacency
    source, target = adjacency.source.numpy(), adjacency.target.numpy()
    keep = (source < num_nodes) & (target < num_nodes)
    return features, source[keep], target[keep]


def graph_tensor_from_arrays(serving_input, features, source, target) -> tfgnn.GraphTensor:
    """A one-graph GraphTensor in the request schema (for `tfgnn.write_example`)."""
    ns, es = serving_input.node_set, serving_input.edge_set
    return tfgnn.GraphTensor.from_pieces(
        node_sets={
            ns: tfgnn.NodeSet.from_fields(
                sizes=[len(features)],
                features={serving_input.feature: tf.constant(features, serving_input.dtype)},
            )
        },
        edge_sets={
            es: tfgnn.EdgeSet.from_fields(
                sizes=[len(source)],
                adjacency=tfgnn.Adjacency.from_indices(
                    (ns, tf.constant(source, tf.int64)), (ns, tf.constant(target, tf.int64))
                ),
            )
        },
    )


def dense_inputs(graphs) -> dict[str, np.ndarray]:
    """``predict_dense`` inputs for a list of ``(features, source, target)`` graphs."""
    num_nodes = np.array([len(f) for f, _, _ in graphs], np.int64)
    num_edges = np.array([len(s) for _, s, _ in graphs], np.int64)
    width = graphs[0][0].shape[-1]
    features = np.zeros((len(graphs), num_nodes.max(initial=0), width), graphs[0][0].dtype)
    source = np.zeros((len(graphs), num_edges.max(initial=0)), np.int64)
    target = np.zeros_like(source)
    for row, (f, s, t) in enumerate(graphs):
        features[row, : len(f)] = f
        source[row, : len(s)] = s
        target[row, : len(t)] = t
    return {
        "node_features": features,
        "source": source,
        "target": target,
        "num_nodes": num_nodes,
        "num_edges": num_edges,
    }


SIGNATURES_DOC = (
    "- `serving_default`: input `examples` [B] serialized tf.Example graphs (TF-GNN "
    "encoding, `tfgnn.write_example`).\n"
    "- `predict_dense`: inputs `node_features` [B,N,F] float32, `source`/`target` [B,E] "
    "int64, `num_nodes`/`num_edges` [B] int64.\n"
    "- outputs: `logits`, `probabilities` [B,N,C], `class_ids` [B,N] (-1 on padding), "
    "`embeddings` [B,N,H], `num_nodes` [B]."
)


def export_model(
    model: tf.keras.Model,
    base_dir: str | Path,
    *,
    serving_input: export_module.ServingInput,
    task: str = "node_classification",
    model_name: str | None = None,
    version: int | None = None,
    quantize: str = "float32",
    limits: guards.ServingLimits | None = None,
    preprocess=None,
    warmup_graph: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    batching: server_config.BatchingParameters | None = None,
    metadata: dict | None = None,
) -> ExportResult:
    """Writes a built Keras model as the next version under `base_dir`.

    Args:
      model: The trained model (for node classification a `NodeModel`).
      base_dir: TF Serving's base path (created if missing).
      serving_input: What requests carry.
      task: A key of `export_module.SERVING_TASKS`.
      model_name: Name in ``models.config``; default the folder name.
      version: Version number; default one past the newest.
      quantize: ``"float32"``, ``"float16"`` or ``"int8"`` weight storage.
      limits: Largest graph per request row.
      preprocess: In-graph feature preprocessing.
      warmup_graph: ``(features, source, target)`` of a small request graph for the warmup
        records; None writes no warmup file.
      batching: Server-side batching parameters for the operator files.
      metadata: Extra provenance stored in ``tfgraphtune_serving.json``.

    Returns:
      An `ExportResult`.
    """
    base_dir = Path(base_dir)
    model_name = model_name or base_dir.resolve().name
    limits = limits or guards.ServingLimits()
    base_dir.mkdir(parents=True, exist_ok=True)
    version = next_version(base_dir, version)
    weights = QuantizedWeights(model.variables, quantize)
    module = export_module.GraphServingModule(
        model,
        serving_input=serving_input,
        task=task,
        limits=limits,
        preprocess=preprocess,
        weights=weights,
    )
    staging = Path(tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=base_dir))
    try:
        tf.saved_model.save(module, str(staging), signatures=module.signatures())
        extra = staging / "assets.extra"
        extra.mkdir()
        tfgnn.write_schema(serving_input.schema(), str(extra / SCHEMA_FILE))
        if warmup_graph is not None:
            features, source, target = warmup_graph
            example = tfgnn.write_example(
                graph_tensor_from_arrays(serving_input, features, source, target)
            ).SerializeToString()
            warmup.write_warmup_requests(
                extra / warmup.WARMUP_FILE,
                [
                    warmup.encode_predict_request(
                        model_name,
                        export_module.SERVING_DEFAULT,
                        {export_module.EXAMPLES_INPUT: np.array([example], dtype=object)},
                    ),
                    warmup.encode_predict_request(
                        model_name, export_module.DENSE_SIGNATURE, dense_inputs([warmup_graph])
                    ),
                ],
            )
        info = {
            "task": task,
            "model_name": model_name,
            "version": version,
            "serving_input": serving_input.to_json(),
            "limits": dataclasses.asdict(limits),
            "quantize": quantize,
            "quantized_variables": weights.quantized_names,
            "signatures": {
                export_module.SERVING_DEFAULT: [export_module.EXAMPLES_INPUT],
                export_module.DENSE_SIGNATURE: list(export_module.DENSE_INPUTS),
            },
            "tfgraphtune_version": tfgraphtune.__version__,
            "tensorflow_version": tf.__version__,
            **(metadata or {}),
        }
        (extra / METADATA_FILE).write_text(json.dumps(info, indent=2))
        version_dir = base_dir / str(version)
        if version_dir.exists():  # Another export took this number meanwhile.
            raise FileExistsError(f"version {version} appeared in {base_dir} during the export.")
        os.rename(staging, version_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    server_config.write_server_files(
        base_dir,
        model_name,
        batching or server_config.BatchingParameters(),
        signatures=SIGNATURES_DOC,
    )
    return ExportResult(
        version_dir=version_dir,
        version=version,
        model_name=model_name,
        size_bytes=saved_model_size(version_dir),
        quantize=quantize,
        quantized_variables=tuple(weights.quantized_names),
    )


def load_run_model(run_dir: str | Path):
    """Rebuilds a run folder's model with its weights; returns ``(config, dataset, graph, model)``.

    Raises:
      FileNotFoundError: Not a run folder.
      ValueError: The run's task cannot be exported yet.
    """
    from tfgraphtune.training import node_runner, run_folder

    config = run_folder.read_run_config(run_dir)
    task = config["task"]
    if task not in export_module.SERVING_TASKS:
        raise ValueError(
            f"run {str(run_dir)!r} is a {task} run; export supports "
            f"{sorted(export_module.SERVING_TASKS)} so far."
        )
    dataset, graph = node_runner.prepare_node_data(config)
    model = node_runner.build_node_model(config, dataset)
    model(graph)
    run_folder.load_weights(model, run_dir)
    return config, dataset, graph, model


def export_run(
    run_dir: str | Path,
    out: str | Path,
    *,
    version: int | None = None,
    quantize: str = "float32",
    limits: guards.ServingLimits | None = None,
    model_name: str | None = None,
    batching: server_config.BatchingParameters | None = None,
) -> ExportResult:
    """Exports a run folder written by ``tfgraphtune finetune`` (see `export_model`).

    The served model reads raw features (as in the data set); the run's feature
    normalization is part of the exported graph. The GCN normalization is computed in the
    graph for each request.

    Example:
      >>> result = export_run("runs/cora-gcn", "export/cora", quantize="int8")
      >>> result.version_dir
      PosixPath('export/cora/1')
    """
    config, dataset, _, model = load_run_model(run_dir)
    raw = dataset.graph.node_sets[dataset.node_set][dataset.feature]
    serving_input = export_module.ServingInput(
        node_set=dataset.node_set,
        feature=dataset.feature,
        edge_set=dataset.edge_set,
        num_features=dataset.num_features,
        dtype=raw.dtype.name,
    )
    return export_model(
        model,
        out,
        serving_input=serving_input,
        task=config["task"],
        model_name=model_name,
        version=version,
        quantize=quantize,
        limits=limits,
        preprocess=feature_preprocessing(config["data"]["normalize_features"], raw.numpy()),
        warmup_graph=sample_request_graph(dataset.graph, serving_input, WARMUP_NODES),
        batching=batching,
        metadata={
            "run_dir": str(Path(run_dir).resolve()),
            "dataset": config["data"]["dataset"],
            "num_classes": dataset.num_classes,
            "feature_normalization": config["data"]["normalize_features"],
        },
    )
