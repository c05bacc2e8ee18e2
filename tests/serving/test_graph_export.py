"""Graph classification export: CLI end to end, TensorFlow-only loading, equality with Keras,
bad requests, warmup records and the client on one-row-per-graph outputs."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.serving.test_export import ENV, FRESH_PROCESS
from tfgraphtune.cli.main import main as cli_main
from tfgraphtune.serving import client
from tfgraphtune.serving.export_module import ServingInput
from tfgraphtune.serving.exporter import dense_inputs
from tfgraphtune.training.config import dump_config, load_config

# Graphs of different sizes (17, 11, 28 and 16 nodes; MUTAG's largest has 28) and labels
# (1, 0, 1, 0).
GRAPHS = [0, 4, 5, 6]
# A 3-node path 0 -> 1 -> 2 with MUTAG-width one-hot atom features.
FEATURES = np.eye(3, 7, dtype=np.float32)
SOURCE = np.array([0, 1], np.int64)
TARGET = np.array([1, 2], np.int64)


def _good_dense():
    return dense_inputs([(FEATURES, SOURCE, TARGET)])


def _example(features, source, target, *, num_nodes=None, num_edges=None, int_features=False):
    """A tf.Example in TF-GNN's encoding; the counts default to the arrays' lengths."""
    ints = lambda v: tf.train.Feature(int64_list=tf.train.Int64List(value=v))  # noqa: E731
    feature = (
        ints(features.astype(np.int64).ravel())
        if int_features
        else tf.train.Feature(float_list=tf.train.FloatList(value=features.ravel()))
    )
    return tf.train.Example(
        features=tf.train.Features(
            feature={
                "nodes/atom.#size": ints([len(features) if num_nodes is None else num_nodes]),
                "nodes/atom.feat": feature,
                "edges/bond.#size": ints([len(source) if num_edges is None else num_edges]),
                "edges/bond.#source": ints(source),
                "edges/bond.#target": ints(target),
            }
        )
    ).SerializeToString()


def test_cli_export_writes_a_graph_model(mutag_export):
    version_dir = mutag_export.version_dir
    assert mutag_export.reply["version"] == 1 and mutag_export.reply["model_name"] == "mutag"
    assert version_dir.name == "1" and (version_dir / "saved_model.pb").is_file()
    extra = version_dir / "assets.extra"
    for name in ("tf_serving_warmup_requests", "serving_schema.pbtxt"):
        assert (extra / name).is_file()
    info = json.loads((extra / "tfgraphtune_serving.json").read_text())
    assert info["task"] == "graph_classification"
    assert info["num_outputs"] == 2 and info["feature_normalization"] is None
    assert info["limits"] == {
        "max_nodes": 40,
        "max_edges": 100,
        "max_request_nodes": 32 * 40,
        "max_request_edges": 32 * 100,
    }
    expected = ServingInput("atom", "feat", "bond", 7, "float32")
    assert client.read_serving_input(version_dir) == expected
    base = version_dir.parent
    assert 'name: "mutag"' in (base / "models.config").read_text()
    assert "max_batch_size { value: 32 }" in (base / "batching_parameters.txt").read_text()
    readme = (base / "README.md").read_text()
    assert "outputs (graph_classification)" in readme and "`class_ids` [B]" in readme


def test_fresh_tensorflow_process_matches_keras(mutag_export, tmp_path):
    graphs = mutag_export.graphs(GRAPHS)
    si = mutag_export.serving_input
    arrays = [client._graph_arrays(graph, si) for graph in graphs]
    requests = {
        # Whole graphs as loaded: the label and bond_type keys are ignored.
        "examples": client.rest_request_body({"examples": client.examples_from_graphs(graphs)}),
        # Reversed, so each graph sits in another row of another batch.
        "dense": client.rest_request_body(
            dense_inputs(arrays[::-1]), signature_name="predict_dense"
        ),
    }
    (tmp_path / "requests.json").write_text(json.dumps(requests))
    (tmp_path / "fresh.py").write_text(FRESH_PROCESS)
    out = tmp_path / "out.json"
    subprocess.run(
        [sys.executable, "fresh.py", str(mutag_export.version_dir), "requests.json", str(out)],
        check=True,
        env=ENV,
        cwd=tmp_path,
        timeout=120,
    )
    reply = json.loads(out.read_text())
    assert reply["modules"] == []  # Neither tensorflow_gnn nor tfgraphtune was imported.
    logits, embeddings = mutag_export.keras_outputs(GRAPHS)
    # The graphs get different predictions, so a mix-up of rows would show.
    assert np.abs(logits[:, None] - logits[None]).sum(-1)[np.triu_indices(4, 1)].min() > 1e-3
    sizes = [len(f) for f, _, _ in arrays]
    for key, order in (("examples", slice(None)), ("dense", slice(None, None, -1))):
        served = {name: np.asarray(v) for name, v in reply["results"][key].items()}
        assert served["logits"].shape == (4, 2) and served["class_ids"].shape == (4,)
        assert served["embeddings"].shape == (4, mutag_export.model.backbone.output_units)
        assert served["num_nodes"].tolist() == sizes[order]
        np.testing.assert_allclose(served["logits"], logits[order], atol=1e-5)
        np.testing.assert_allclose(served["embeddings"], embeddings[order], rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(served["class_ids"], logits[order].argmax(-1))
        np.testing.assert_allclose(
            served["probabilities"], tf.nn.softmax(logits[order]).numpy(), atol=1e-6
        )
    # The embeddings are what the head sees: the head on them gives the served logits.
    head_logits = mutag_export.model.head(
        tf.constant(reply["results"]["examples"]["embeddings"], tf.float32), training=False
    )
    np.testing.assert_allclose(head_logits.numpy(), logits, atol=1e-4)


def _bad_dense_requests():
    """Name -> (inputs, expected message part)."""
    too_many_nodes = _good_dense()
    too_many_nodes["num_nodes"] = np.array([4], np.int64)
    nan = FEATURES.copy()
    nan[1, 3] = np.nan
    inf = FEATURES.copy()
    inf[2, 0] = -np.inf
    return {
        "index_out_of_range": (
            dense_inputs([(FEATURES, np.array([0, 3]), TARGET)]),
            "edge index out of range",
        ),
        "negative_index": (
            dense_inputs([(FEATURES, SOURCE, np.array([-1, 2]))]),
            "negative target index",
        ),
        "wrong_feature_width": (
            dense_inputs([(np.ones((3, 9), np.float32), SOURCE, TARGET)]),
            "wrong feature width: node_features must have shape [batch, nodes, 7]",
        ),
        "oversized": (
            dense_inputs([(np.zeros((41, 7), np.float32), SOURCE, TARGET)]),
            "graph too large",
        ),
        "nan_feature": (dense_inputs([(nan, SOURCE, TARGET)]), "non-finite"),
        "inf_feature": (dense_inputs([(inf, SOURCE, TARGET)]), "non-finite"),
        "count_past_padding": (too_many_nodes, "num_nodes exceeds"),
    }


@pytest.mark.parametrize("name", list(_bad_dense_requests()))
def test_bad_dense_request_is_rejected_then_serving_goes_on(graph_serving, name):
    inputs, message = _bad_dense_requests()[name]
    body = client.rest_request_body(_good_dense(), signature_name="predict_dense")
    before = graph_serving.predict_rest(body)["outputs"]
    reply = graph_serving.predict_rest(
        client.rest_request_body(inputs, signature_name="predict_dense")
    )
    assert message in reply["error"]
    after = graph_serving.predict_rest(body)["outputs"]
    assert np.asarray(after["logits"]).shape == (1, 2)
    np.testing.assert_array_equal(after["logits"], before["logits"])


@pytest.mark.parametrize(
    "name, example, message",
    [
        (
            "index_out_of_range",
            _example(FEATURES, np.array([0, 5]), TARGET),
            "edge index out of range: edge set .*bond.* has a source index",
        ),
        (
            "wrong_feature_width",
            _example(np.ones((3, 9), np.float32), SOURCE, TARGET),
            "wrong feature width: node set .*atom.* feature .*feat.* must hold 7 values per node",
        ),
        (
            "more_feature_rows_than_nodes",
            _example(np.ones((4, 7), np.float32), SOURCE, TARGET, num_nodes=3),
            "wrong feature width",
        ),
        (
            "edge_count_differs",
            _example(FEATURES, SOURCE, TARGET, num_edges=3),
            "number of source indices differs from its number of edges",
        ),
        ("oversized", _example(np.zeros((41, 7), np.float32), SOURCE, TARGET), "graph too large"),
        (
            "nan_feature",
            _example(np.full((3, 7), np.nan, np.float32), SOURCE, TARGET),
            "non-finite",
        ),
        (
            "wrong_feature_dtype",
            _example(FEATURES, SOURCE, TARGET, int_features=True),
            "nodes/atom.feat",
        ),
    ],
)
def test_bad_example_is_rejected_then_serving_goes_on(graph_serving, name, example, message):
    # (Messages are regexes; TensorFlow prints the quotes around names escaped.)
    signature = graph_serving.loaded.signatures["serving_default"]
    good = _example(FEATURES, SOURCE, TARGET)
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        signature(examples=tf.constant([good, example]))
    out = signature(examples=tf.constant([good, good]))
    assert out["num_nodes"].numpy().tolist() == [3, 3]
    np.testing.assert_array_equal(out["logits"][0], out["logits"][1])
    dense = graph_serving.predict_rest(
        client.rest_request_body(_good_dense(), signature_name="predict_dense")
    )["outputs"]
    np.testing.assert_allclose(out["logits"][0], dense["logits"][0], atol=1e-5)


def test_warmup_records_replay(mutag_export, graph_serving):
    prediction_log_pb2 = pytest.importorskip("tensorflow_serving.apis.prediction_log_pb2")
    path = mutag_export.version_dir / "assets.extra" / "tf_serving_warmup_requests"
    expected, _ = mutag_export.keras_outputs([0])  # The warmup graph is MUTAG's first.
    signatures = []
    for record in tf.data.TFRecordDataset(str(path)).as_numpy_iterator():
        request = prediction_log_pb2.PredictionLog.FromString(record).predict_log.request
        assert request.model_spec.name == "mutag"
        signatures.append(request.model_spec.signature_name)
        outputs = client.parse_grpc_response(graph_serving.predict_grpc(request))
        assert outputs["num_nodes"].tolist() == [17]
        np.testing.assert_allclose(outputs["logits"], expected, atol=1e-5)
    assert signatures == ["serving_default", "predict_dense"]


def test_client_transports_agree_and_split_outputs_per_graph(mutag_export, graph_serving):
    graphs = mutag_export.graphs(GRAPHS[:2])
    si = mutag_export.serving_input
    examples = client.examples_from_graphs(graphs, si)  # Only the served feature and edges.
    replies = [
        client.parse_rest_response(
            graph_serving.predict_rest(client.rest_request_body({"examples": examples}))
        ),
        client.parse_rest_response(
            graph_serving.predict_rest(
                client.rest_request_body(
                    client.dense_inputs_from_graphs(graphs, si), signature_name="predict_dense"
                )
            )
        ),
    ]
    if _has_serving_api():
        request = client.grpc_request({"examples": examples}, "mutag")
        replies.append(client.parse_grpc_response(graph_serving.predict_grpc(request)))
    logits, _ = mutag_export.keras_outputs(GRAPHS[:2])
    for reply in replies:
        np.testing.assert_allclose(reply["logits"], logits, atol=1e-5)
        per_graph = client.outputs_per_graph(reply)
        assert len(per_graph) == 2
        for row, graph in enumerate(per_graph):
            assert graph["class_ids"].shape == () and graph["logits"].shape == (2,)
            assert graph["class_ids"] == logits[row].argmax()
            assert graph["num_nodes"] == [17, 11][row]
    with pytest.raises(ValueError, match="expected 'nodes' or 'graphs'"):
        client.outputs_per_graph(replies[0], rows="edges")


def _has_serving_api() -> bool:
    try:
        import tensorflow_serving.apis.predict_pb2  # noqa: F401
    except ImportError:
        return False
    return True


def _fake_run(path, task):
    """A run folder with a config only (no model, weights or preprocessing)."""
    path.mkdir()
    (path / "config.yaml").write_text(dump_config(load_config(None, [f"task={task}"])))
    return path


@pytest.mark.parametrize("task", ["link_prediction", "node_regression"])
def test_incomplete_run_folder_is_refused_before_any_export(tmp_path, capsys, task):
    run_dir = _fake_run(tmp_path / "run", task)
    assert cli_main(["export", str(run_dir), "--out", str(tmp_path / "export")]) == 2
    err = capsys.readouterr().err
    assert "is not a complete tfgraphtune run folder" in err
    assert "run.json" in err and "model.json" in err
    assert not (tmp_path / "export").exists()
