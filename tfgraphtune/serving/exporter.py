"""Exporting a run folder as a versioned SavedModel for TF Serving.

Layout written under ``out`` (TF Serving's ``base_path``)::

    out/<version>/saved_model.pb, variables/      the SavedModel (TensorFlow ops only)
    out/<version>/assets.extra/tf_serving_warmup_requests
    out/<version>/assets.extra/serving_schema.pbtxt      GraphSchema of a request graph
    out/<version>/assets.extra/tfgraphtune_serving.json  inputs, outputs, limits, provenance
    out/models.config, models.config.container, batching_parameters.txt, README.md

A version is written to a hidden temporary folder (``.tmp-PID-*``, removed by the next
export if its process died) and renamed into place, so a running server never sees half a
version and an existing version is never overwritten: an export whose number another
export took meanwhile takes the next free one. Version folders get a plain ``mkdir``'s
mode (0755 under umask 022), readable by a model server running as another user.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import uuid
from pathlib import Path

import numpy as np
import tensorflow as tf
import tensorflow_gnn as tfgnn

import tfgraphtune
from tfgraphtune.data.preprocessing import Preprocessing
from tfgraphtune.serving import export_module, guards, server_config, warmup
from tfgraphtune.serving.compression import QuantizedWeights, saved_model_size
from tfgraphtune.training import staging, test_hooks

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


def signatures_doc(task) -> str:
    """The signatures and a task's outputs, as the export's README lists them.

    Args:
      task: A `tfgraphtune.tasks.Task`.

    Returns:
      Markdown list items.
    """
    lines = [
        "- `serving_default`: input `examples` [B] serialized tf.Example graphs (TF-GNN "
        "encoding, `tfgnn.write_example`), one graph per row.",
        "- `predict_dense`: inputs `node_features` [B,N,F], `source`/`target` [B,E] "
        "int64, `num_nodes`/`num_edges` [B] int64.",
    ]
    if task.scores_pairs:
        lines.append(
            "- `score_pairs` / `score_pairs_dense`: the inputs above plus `pairs` [B,P,2] "
            "int64 (node indices local to each graph) and `num_pairs` [B]; outputs `logits`, "
            "`probabilities` [B,P]."
        )
    lines.append(f"- outputs ({task.name}): {task.serving_outputs_doc}")
    return "\n".join(lines)


def _pair_warmup(task, model_name: str, example: bytes, graph) -> list[bytes]:
    """Warmup requests of the pair-scoring signatures (one pair of the warmup graph)."""
    if not task.scores_pairs:
        return []
    pairs = {
        "pairs": np.array([[[0, min(1, len(graph[0]) - 1)]]], np.int64),
        "num_pairs": np.array([1], np.int64),
    }
    return [
        warmup.encode_predict_request(
            model_name,
            export_module.PAIRS_SIGNATURE,
            {export_module.EXAMPLES_INPUT: np.array([example], dtype=object), **pairs},
        ),
        warmup.encode_predict_request(
            model_name, export_module.PAIRS_DENSE_SIGNATURE, {**dense_inputs([graph]), **pairs}
        ),
    ]


def export_model(
    model: tf.keras.Model,
    base_dir: str | Path,
    *,
    serving_input: export_module.ServingInput,
    task="node_classification",
    model_name: str | None = None,
    version: int | None = None,
    quantize: str = "float32",
    limits: guards.ServingLimits | None = None,
    preprocessing: Preprocessing | None = None,
    warmup_graph: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    batching: server_config.BatchingParameters | None = None,
    metadata: dict | None = None,
) -> ExportResult:
    """Writes a built Keras model as the next version under `base_dir`.

    Args:
      model: The trained model of `task` (`NodeModel`, `GraphModel`, `LinkModel`).
      base_dir: TF Serving's base path (created if missing).
      serving_input: What requests carry.
      task: A `tfgraphtune.tasks.Task` or a task name (every task kind exports).
      model_name: Name in ``models.config``; default the folder name.
      version: Version number; default one past the newest.
      quantize: ``"float32"``, ``"float16"`` or ``"int8"`` weight storage.
      limits: Largest graph per request row.
      preprocessing: The training run's `Preprocessing`, applied to every request.
      warmup_graph: ``(features, source, target)`` of a small request graph for the warmup
        records; None writes no warmup file.
      batching: Server-side batching parameters for the operator files.
      metadata: Extra provenance stored in ``tfgraphtune_serving.json``.

    Returns:
      An `ExportResult`.

    Raises:
      ValueError: An unknown `task`, or an invalid `version`.
      FileExistsError: `version` already exists.
    """
    if isinstance(task, str):
        from tfgraphtune.tasks import get_task

        task = get_task(task)
    base_dir = Path(base_dir)
    model_name = model_name or base_dir.resolve().name
    limits = limits or guards.ServingLimits()
    base_dir.mkdir(parents=True, exist_ok=True)
    staging.remove_dead_temp(base_dir)  # Left by exports that were killed.
    chosen = version
    version = next_version(base_dir, version)
    weights = QuantizedWeights(model.variables, quantize)
    module = export_module.GraphServingModule(
        model,
        serving_input=serving_input,
        task=task,
        limits=limits,
        preprocessing=preprocessing,
        weights=weights,
    )
    staging_dir = base_dir / f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging_dir.mkdir()
    try:
        tf.saved_model.save(module, str(staging_dir), signatures=module.signatures())
        extra = staging_dir / "assets.extra"
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
                    *_pair_warmup(task, model_name, example, warmup_graph),
                ],
            )
        signatures = export_module.serving_signatures(task)
        info = {
            "task": task.name,
            "model_name": model_name,
            "version": version,
            "serving_input": serving_input.to_json(),
            "limits": dataclasses.asdict(limits),
            "quantize": quantize,
            "quantized_variables": weights.quantized_names,
            "signatures": signatures,
            "preprocessing": (preprocessing or Preprocessing()).to_json(),
            "tfgraphtune_version": tfgraphtune.__version__,
            "tensorflow_version": tf.__version__,
            **(metadata or {}),
        }
        # Readable by a model server running as another user (mkdir's mode, not 0700).
        for folder, _, _ in os.walk(staging_dir):
            os.chmod(folder, staging.folder_mode())
        test_hooks.kill_point("export")
        while True:
            (extra / METADATA_FILE).write_text(json.dumps({**info, "version": version}, indent=2))
            version_dir = base_dir / str(version)
            try:
                os.rename(staging_dir, version_dir)  # Fails when the number was taken.
                break
            except OSError as err:
                if not staging.is_exists_error(err) or chosen is not None:
                    if staging.is_exists_error(err):
                        raise FileExistsError(
                            f"version {version} appeared in {base_dir} during the export; "
                            "versions are never overwritten: omit --version to take the next."
                        ) from None
                    raise
                version = next_version(base_dir)  # Another export took it: take the next.
    finally:
        if staging_dir.exists():
            shutil.rmtree(staging_dir, ignore_errors=True)
    server_config.write_server_files(
        base_dir,
        model_name,
        batching or server_config.BatchingParameters(),
        signatures=signatures_doc(task),
        limits=limits,
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
    """Exports a run folder (see `export_model`), from the folder alone.

    The model, its weights, the preprocessing (feature normalization statistics, edge
    cleaning) and the warmup request come from the run folder: no data is read. Every task
    kind exports; requests carry raw features and edges, as the training data had them.

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
      RunFolderError: Not a (complete) run folder.
      FileExistsError: `version` already exists.
      ValueError: An invalid option.

    Example:
      >>> result = export_run("runs/cora-gcn", "export/cora", quantize="int8")
      >>> result.version_dir
      PosixPath('export/cora/1')
    """
    from tfgraphtune.training.run_folder import load_run

    run = load_run(run_dir)
    if run.task.exports_itself:  # A retrieval model takes ids, not graphs.
        return run.task.export_run(run, out, version=version, model_name=model_name)
    return export_model(
        run.model,
        out,
        serving_input=run.serving_input,
        task=run.task,
        model_name=model_name,
        version=version,
        quantize=quantize,
        limits=limits,
        preprocessing=run.preprocessing,
        warmup_graph=run.warmup_graph,
        batching=batching,
        metadata={
            "run_dir": str(Path(run_dir).resolve()),
            "dataset": run.config["data"]["dataset"],
            "num_outputs": int(run.model.head.units) if hasattr(run.model, "head") else None,
            "feature_normalization": run.preprocessing.feature_normalization,
        },
    )
