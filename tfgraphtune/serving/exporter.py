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
from tfgraphtune.serving.run_loading import load_run

METADATA_FILE = "tfgraphtune_serving.json"
SCHEMA_FILE = "serving_schema.pbtxt"


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


def signatures_doc(task: str) -> str:
    """The signatures and a task's outputs, as the export's README lists them.

    Args:
      task: A key of `export_module.SERVING_TASKS`.

    Returns:
      Markdown list items.
    """
    return (
        "- `serving_default`: input `examples` [B] serialized tf.Example graphs (TF-GNN "
        "encoding, `tfgnn.write_example`), one graph per row.\n"
        "- `predict_dense`: inputs `node_features` [B,N,F] float32, `source`/`target` [B,E] "
        "int64, `num_nodes`/`num_edges` [B] int64.\n"
        f"- outputs ({task}): {export_module.serving_task(task).outputs_doc}"
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
      model: The trained model (a `NodeModel` for node classification, a `GraphModel` for
        graph classification).
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

    Raises:
      ValueError: `task` cannot be exported, or an invalid `version`.
      FileExistsError: `version` already exists.
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
        signatures=signatures_doc(task),
    )
    return ExportResult(
        version_dir=version_dir,
        version=version,
        model_name=model_name,
        size_bytes=saved_model_size(version_dir),
        quantize=quantize,
        quantized_variables=tuple(weights.quantized_names),
    )


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

    Node and graph classification runs can be exported (`run_loading.RUN_LOADERS`). The
    served model reads raw features (as in the data set); the run's feature normalization
    is part of the exported graph. The GCN normalization is computed in the graph for each
    request.

    Args:
      run_dir: The run folder.
      out: TF Serving's base path for the model.
      version: Version number; default one past the newest.
      quantize: ``"float32"``, ``"float16"`` or ``"int8"`` weight storage.
      limits: Largest graph per request row.
      model_name: Name in ``models.config``; default the folder name.
      batching: Server-side batching parameters for the operator files.

    Returns:
      An `ExportResult`.

    Raises:
      FileNotFoundError: Not a run folder.
      FileExistsError: `version` already exists.
      ValueError: The run's task cannot be exported (the message names the exportable
        tasks), or an invalid option.

    Example:
      >>> result = export_run("runs/cora-gcn", "export/cora", quantize="int8")
      >>> result.version_dir
      PosixPath('export/cora/1')
    """
    run = load_run(run_dir)
    return export_model(
        run.model,
        out,
        serving_input=run.serving_input,
        task=run.config["task"],
        model_name=model_name,
        version=version,
        quantize=quantize,
        limits=limits,
        preprocess=run.preprocess,
        warmup_graph=run.warmup_graph,
        batching=batching,
        metadata={
            "run_dir": str(Path(run_dir).resolve()),
            "dataset": run.config["data"]["dataset"],
            "num_classes": run.dataset.num_classes,
            "feature_normalization": run.feature_normalization,
        },
    )
