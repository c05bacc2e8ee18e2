"""The exported SavedModel: layout, TensorFlow-only loading, equality with Keras, CLI tools."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tfgraphtune.cli.main import main as cli_main
from tfgraphtune.serving import client
from tfgraphtune.serving.exporter import (
    dense_inputs,
    existing_versions,
    graph_tensor_from_arrays,
    next_version,
)

BIN = Path(sys.executable).parent
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": ""}

# Runs in a fresh interpreter: TensorFlow only; decodes the REST body the way TF Serving
# does (b64 objects -> bytes, lists -> tensors of the signature's dtypes).
FRESH_PROCESS = textwrap.dedent(
    """
    import base64, json, sys
    import numpy as np
    import tensorflow as tf

    version_dir, requests_path, out_path = sys.argv[1:]
    loaded = tf.saved_model.load(version_dir)
    assert "tensorflow_gnn" not in sys.modules, "tensorflow_gnn was imported"
    assert "tfgraphtune" not in sys.modules, "tfgraphtune was imported"

    def decode(value):
        if isinstance(value, dict):
            return base64.b64decode(value["b64"])
        if isinstance(value, list):
            return [decode(v) for v in value]
        return value

    results = {}
    for key, body in json.load(open(requests_path)).items():
        function = loaded.signatures[body["signature_name"]]
        specs = function.structured_input_signature[1]
        inputs = {name: tf.constant(decode(value), specs[name].dtype)
                  for name, value in body["inputs"].items()}
        results[key] = {name: t.numpy().tolist() for name, t in function(**inputs).items()}
    json.dump({"results": results, "modules": sorted(m for m in sys.modules
               if m.startswith(("tensorflow_gnn", "tfgraphtune")))}, open(out_path, "w"))
    """
)


def test_layout_and_server_files(cora_export):
    version_dir = cora_export.version_dir
    base = version_dir.parent
    assert version_dir.name == "1"
    assert (version_dir / "saved_model.pb").is_file()
    extra = version_dir / "assets.extra"
    for name in ("tf_serving_warmup_requests", "serving_schema.pbtxt", "tfgraphtune_serving.json"):
        assert (extra / name).is_file()
    config = (base / "models.config").read_text()
    assert f'base_path: "{base.resolve()}"' in config and 'name: "cora"' in config
    assert "max_batch_size { value: 32 }" in (base / "batching_parameters.txt").read_text()
    readme = (base / "README.md").read_text()
    assert f"--model_config_file={base.resolve()}/models.config" in readme
    assert "docker run" in readme and "tensorflow/serving:2.21.0" in readme
    info = json.loads((extra / "tfgraphtune_serving.json").read_text())
    assert info["limits"] == {
        "max_nodes": 3000,
        "max_edges": 12000,
        "max_request_nodes": 32 * 3000,  # Request-wide: 32 largest graphs by default.
        "max_request_edges": 32 * 12000,
    }
    assert client.read_serving_input(version_dir) == cora_export.serving_input


def test_versions_are_numbered_and_never_overwritten(tmp_path, cora_export, capsys):
    assert next_version(tmp_path) == 1
    for name in ("1", "3", "notes", ".tmp-4-x"):
        (tmp_path / name).mkdir()
    assert existing_versions(tmp_path) == [1, 3]
    assert next_version(tmp_path) == 4
    assert next_version(tmp_path, 2) == 2
    with pytest.raises(FileExistsError, match="version 3 already exists"):
        next_version(tmp_path, 3)
    base = cora_export.version_dir.parent
    code = cli_main(["export", str(cora_export.run_dir), "--out", str(base), "--version", "1"])
    assert code == 2
    assert "version 1 already exists" in capsys.readouterr().err
    assert existing_versions(base) == [1]


def test_fresh_tensorflow_process_matches_keras(cora_export, tmp_path):
    raw = cora_export.raw_graph
    si = cora_export.serving_input
    full = client._graph_arrays(raw, si)
    sub = cora_export.subgraph
    examples = client.examples_from_graphs([raw, raw])  # Whole graphs, labels included.
    examples[1:] = client.examples_from_graphs([graph_tensor_from_arrays(si, *sub)])
    requests = {
        "examples": client.rest_request_body({"examples": examples}),
        "dense": client.rest_request_body(
            dense_inputs([sub, full]), signature_name="predict_dense"
        ),
    }
    requests_path = tmp_path / "requests.json"
    requests_path.write_text(json.dumps(requests))
    script = tmp_path / "fresh.py"
    script.write_text(FRESH_PROCESS)
    out = tmp_path / "out.json"
    subprocess.run(
        [sys.executable, str(script), str(cora_export.version_dir), str(requests_path), str(out)],
        check=True,
        env=ENV,
        cwd=tmp_path,
        timeout=120,
    )
    reply = json.loads(out.read_text())
    assert reply["modules"] == []
    expected_full = cora_export.keras_logits(*full)
    expected_sub = cora_export.keras_logits(*sub)
    examples_out = reply["results"]["examples"]
    dense_out = reply["results"]["dense"]
    n_full, n_sub = len(full[0]), len(sub[0])
    assert examples_out["num_nodes"] == [n_full, n_sub]
    assert dense_out["num_nodes"] == [n_sub, n_full]
    logits = np.asarray(examples_out["logits"], np.float32)
    np.testing.assert_allclose(logits[0], expected_full, atol=1e-5)
    np.testing.assert_allclose(logits[1, :n_sub], expected_sub, atol=1e-5)
    assert (logits[1, n_sub:] == 0).all()  # Padding.
    dense_logits = np.asarray(dense_out["logits"], np.float32)
    np.testing.assert_allclose(dense_logits[0, :n_sub], expected_sub, atol=1e-5)
    np.testing.assert_allclose(dense_logits[1], expected_full, atol=1e-5)
    class_ids = np.asarray(dense_out["class_ids"])
    np.testing.assert_array_equal(class_ids[0, :n_sub], expected_sub.argmax(-1))
    assert (class_ids[0, n_sub:] == -1).all()
    probabilities = np.asarray(examples_out["probabilities"])[0]
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_saved_model_cli_show_and_run(cora_export, tmp_path):
    version_dir = str(cora_export.version_dir)
    cli = str(BIN / "saved_model_cli")
    show = subprocess.run(
        [cli, "show", "--all", "--dir", version_dir],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert show.returncode == 0, show.stderr
    assert "signature_def['serving_default']" in show.stdout
    assert "signature_def['predict_dense']" in show.stdout
    # serving_default from a tf.Example written by saved_model_cli itself: a 3-node path.
    feat = [0.0] * 1433
    feat[0] = feat[5] = 1.0
    example = {
        "nodes/paper.#size": [3],
        "nodes/paper.feat": feat * 3,
        "edges/cites.#size": [2],
        "edges/cites.#source": [0, 1],
        "edges/cites.#target": [1, 2],
    }
    run_examples = subprocess.run(
        [
            cli,
            "run",
            "--dir",
            version_dir,
            "--tag_set",
            "serve",
            "--signature_def",
            "serving_default",
            "--input_examples",
            f"examples=[{example!r}]",
        ],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run_examples.returncode == 0, run_examples.stderr
    assert "class_ids" in run_examples.stdout
    sub = cora_export.subgraph
    files = []
    for name, value in dense_inputs([sub]).items():
        np.save(tmp_path / f"{name}.npy", value)
        files.append(f"{name}={tmp_path / name}.npy")
    run_dense = subprocess.run(
        [
            cli,
            "run",
            "--dir",
            version_dir,
            "--tag_set",
            "serve",
            "--signature_def",
            "predict_dense",
            "--inputs",
            ";".join(files),
            "--outdir",
            str(tmp_path / "out"),
        ],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run_dense.returncode == 0, run_dense.stderr
    logits = np.load(tmp_path / "out" / "logits.npy")
    np.testing.assert_allclose(logits[0], cora_export.keras_logits(*sub), atol=1e-5)
