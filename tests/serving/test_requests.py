"""Bad requests end in a clear INVALID_ARGUMENT and the model keeps serving; client transports."""

from __future__ import annotations

import http.server
import json
import shutil
import socket
import subprocess
import threading
import time

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from tfgraphtune.serving import client
from tfgraphtune.serving.exporter import dense_inputs, graph_tensor_from_arrays

# A 3-node path 0 -> 1 -> 2 with Cora-width features.
FEATURES = np.zeros((3, 1433), np.float32)
FEATURES[:, 0] = 1.0
SOURCE = np.array([0, 1], np.int64)
TARGET = np.array([1, 2], np.int64)


def _good_dense():
    return dense_inputs([(FEATURES, SOURCE, TARGET)])


def _bad_requests():
    """Name -> (signature, inputs, expected message part)."""
    oversized = dense_inputs([(np.zeros((3001, 1433), np.float32), SOURCE, TARGET)])
    out_of_range = dense_inputs([(FEATURES, np.array([0, 3]), TARGET)])
    negative = dense_inputs([(FEATURES, SOURCE, np.array([-1, 2]))])
    nan = FEATURES.copy()
    nan[1, 3] = np.nan
    inf = FEATURES.copy()
    inf[2, 0] = np.inf
    too_many_nodes = _good_dense()
    too_many_nodes["num_nodes"] = np.array([4], np.int64)
    return {
        "oversized": ("predict_dense", oversized, "graph too large"),
        "index_out_of_range": ("predict_dense", out_of_range, "edge index out of range"),
        "negative_index": ("predict_dense", negative, "negative target index"),
        "nan_feature": ("predict_dense", dense_inputs([(nan, SOURCE, TARGET)]), "non-finite"),
        "inf_feature": ("predict_dense", dense_inputs([(inf, SOURCE, TARGET)]), "non-finite"),
        "count_past_padding": ("predict_dense", too_many_nodes, "num_nodes exceeds"),
        "wrong_feature_width": (
            "predict_dense",
            dense_inputs([(FEATURES[:, :1432], SOURCE, TARGET)]),
            "wrong feature width",
        ),
    }


def _example(features, source, target, *, int_features=False) -> bytes:
    feature = (
        tf.train.Feature(int64_list=tf.train.Int64List(value=features.astype(np.int64).ravel()))
        if int_features
        else tf.train.Feature(float_list=tf.train.FloatList(value=features.ravel()))
    )
    ints = lambda v: tf.train.Feature(int64_list=tf.train.Int64List(value=v))  # noqa: E731
    return tf.train.Example(
        features=tf.train.Features(
            feature={
                "nodes/paper.#size": ints([len(features)]),
                "nodes/paper.feat": feature,
                "edges/cites.#size": ints([len(source)]),
                "edges/cites.#source": ints(source),
                "edges/cites.#target": ints(target),
            }
        )
    ).SerializeToString()


@pytest.mark.parametrize("name", list(_bad_requests()))
def test_bad_dense_request_is_rejected_then_serving_goes_on(local_serving, name):
    signature, inputs, message = _bad_requests()[name]
    reply = local_serving.predict_rest(client.rest_request_body(inputs, signature_name=signature))
    assert message in reply["error"]
    good = local_serving.predict_rest(
        client.rest_request_body(_good_dense(), signature_name="predict_dense")
    )
    assert np.asarray(good["outputs"]["num_nodes"]).tolist() == [3]


@pytest.mark.parametrize(
    "name, example, message",
    [
        (
            "oversized",
            _example(np.zeros((3001, 1433), np.float32), SOURCE, TARGET),
            "graph too large",
        ),
        (
            "index_out_of_range",
            _example(FEATURES, np.array([0, 5]), TARGET),
            "edge index out of range",
        ),
        (
            "nan_feature",
            _example(np.full((3, 1433), np.nan, np.float32), SOURCE, TARGET),
            "non-finite",
        ),
        (
            "wrong_feature_dtype",
            _example(FEATURES, SOURCE, TARGET, int_features=True),
            "nodes/paper.feat",
        ),
        (
            "wrong_feature_width",
            _example(np.ones((3, 1434), np.float32), SOURCE, TARGET),
            "wrong feature width",
        ),
    ],
)
def test_bad_example_is_rejected_then_serving_goes_on(local_serving, name, example, message):
    signature = local_serving.loaded.signatures["serving_default"]
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        signature(examples=tf.constant([_example(FEATURES, SOURCE, TARGET), example]))
    good = signature(examples=tf.constant([_example(FEATURES, SOURCE, TARGET)]))
    assert good["num_nodes"].numpy().tolist() == [3]


def test_wrong_dtypes_are_refused(local_serving):
    # The signature itself refuses a float32 index tensor.
    signature = local_serving.loaded.signatures["predict_dense"]
    inputs = {k: tf.constant(v) for k, v in _good_dense().items()}
    inputs["source"] = tf.cast(inputs["source"], tf.float32)
    with pytest.raises((TypeError, ValueError, tf.errors.InvalidArgumentError)):
        signature(**inputs)
    # REST: floats where int64 indices go.
    body = client.rest_request_body(_good_dense(), signature_name="predict_dense")
    body["inputs"]["source"] = [[0.5, 1.0]]
    assert "must hold integers" in local_serving.predict_rest(body)["error"]
    # gRPC: an int32 TensorProto for the float feature.
    pytest.importorskip("tensorflow_serving")
    inputs = _good_dense()
    inputs["node_features"] = inputs["node_features"].astype(np.int32)
    request = client.grpc_request(inputs, "cora", signature_name="predict_dense")
    with pytest.raises(client.ServingError, match="to be float32 but int32 is provided"):
        local_serving.predict_grpc(request)
    ok = local_serving.predict_grpc(
        client.grpc_request(_good_dense(), "cora", signature_name="predict_dense")
    )
    assert client.parse_grpc_response(ok)["num_nodes"].tolist() == [3]


def test_grpc_and_rest_requests_agree(cora_export, local_serving):
    pytest.importorskip("tensorflow_serving")
    features, source, target = cora_export.subgraph
    graph = graph_tensor_from_arrays(cora_export.serving_input, features, source, target)
    examples = client.examples_from_graphs([graph], cora_export.serving_input)
    grpc_out = client.parse_grpc_response(
        local_serving.predict_grpc(client.grpc_request({"examples": examples}, "cora"))
    )
    rest_out = client.parse_rest_response(
        local_serving.predict_rest(client.rest_request_body({"examples": examples}))
    )
    dense = client.dense_inputs_from_graphs([graph], cora_export.serving_input)
    dense_out = client.parse_rest_response(
        local_serving.predict_rest(client.rest_request_body(dense, signature_name="predict_dense"))
    )
    expected = cora_export.keras_logits(features, source, target)
    for outputs in (grpc_out, rest_out, dense_out):
        np.testing.assert_allclose(outputs["logits"][0], expected, atol=1e-5)


def test_dense_inputs_from_pandas_tables(local_serving):
    nodes = pd.DataFrame({"id": ["c", "a", "b"]})
    nodes["feat"] = [row for row in FEATURES[[2, 0, 1]]]
    edges = pd.DataFrame({"source": ["a", "b"], "target": ["b", "c"]})
    inputs = client.dense_inputs_from_tables(nodes, edges)
    # Positions follow table order: c=0, a=1, b=2.
    assert inputs["source"].tolist() == [[1, 2]] and inputs["target"].tolist() == [[2, 0]]
    assert inputs["node_features"].shape == (1, 3, 1433)
    reply = local_serving.predict_rest(
        client.rest_request_body(inputs, signature_name="predict_dense")
    )
    assert np.asarray(reply["outputs"]["class_ids"]).shape == (1, 3)
    with pytest.raises(ValueError, match=r"edge target ids \['zz'\] are not in the node table"):
        client.dense_inputs_from_tables(nodes, pd.DataFrame({"source": ["a"], "target": ["zz"]}))


def test_warmup_records_replay(cora_export, local_serving):
    prediction_log_pb2 = pytest.importorskip("tensorflow_serving.apis.prediction_log_pb2")
    path = cora_export.version_dir / "assets.extra" / "tf_serving_warmup_requests"
    records = list(tf.data.TFRecordDataset(str(path)).as_numpy_iterator())
    signatures = []
    for record in records:
        request = prediction_log_pb2.PredictionLog.FromString(record).predict_log.request
        assert request.model_spec.name == "cora"
        signatures.append(request.model_spec.signature_name)
        response = local_serving.predict_grpc(request)
        assert client.parse_grpc_response(response)["num_nodes"].tolist() == [32]
    assert signatures == ["serving_default", "predict_dense"]


class _RestHandler(http.server.BaseHTTPRequestHandler):
    """TF Serving's REST route, answered by `LocalServing` (tests the HTTP client)."""

    serving = None

    def do_POST(self):  # noqa: N802
        assert self.path == "/v1/models/cora:predict"
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        reply = self.serving.predict_rest(body)
        data = json.dumps(reply).encode()
        self.send_response(400 if "error" in reply else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_rest_client_over_http(local_serving):
    handler = type("Handler", (_RestHandler,), {"serving": local_serving})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        rest = client.RestClient(f"http://127.0.0.1:{server.server_port}", "cora")
        out = rest.predict(_good_dense(), signature_name="predict_dense")
        assert out["num_nodes"].tolist() == [3]
        bad = _bad_requests()["nan_feature"][1]
        with pytest.raises(client.ServingError, match="INVALID_ARGUMENT: non-finite"):
            rest.predict(bad, signature_name="predict_dense")
        again = rest.predict(_good_dense(), signature_name="predict_dense")
        np.testing.assert_array_equal(again["logits"], out["logits"])
    finally:
        server.shutdown()
        server.server_close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.skipif(
    shutil.which("tensorflow_model_server") is None,
    reason="no tensorflow_model_server binary on PATH (the local tests above run the same "
    "requests through the loaded SavedModel)",
)
def test_real_model_server(cora_export):
    base = cora_export.version_dir.parent
    grpc_port, rest_port = _free_port(), _free_port()
    process = subprocess.Popen(
        [
            "tensorflow_model_server",
            f"--port={grpc_port}",
            f"--rest_api_port={rest_port}",
            f"--model_config_file={base / 'models.config'}",
            "--enable_batching",
            f"--batching_parameters_file={base / 'batching_parameters.txt'}",
        ],
    )
    try:
        rest = client.RestClient(f"http://127.0.0.1:{rest_port}", "cora")
        deadline = time.time() + 60
        while True:
            try:
                rest.predict(_good_dense(), signature_name="predict_dense")
                break
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(1)
        for signature, inputs, message in _bad_requests().values():
            with pytest.raises(client.ServingError, match=message):
                rest.predict(inputs, signature_name=signature)
            assert rest.predict(_good_dense(), signature_name="predict_dense")[
                "num_nodes"
            ].tolist() == [3]
        grpc = client.GrpcClient(f"127.0.0.1:{grpc_port}", "cora")
        out = grpc.predict({"examples": np.array([_example(FEATURES, SOURCE, TARGET)], object)})
        np.testing.assert_allclose(
            out["logits"][0], cora_export.keras_logits(FEATURES, SOURCE, TARGET), atol=1e-5
        )
        grpc.close()
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_outputs_per_graph_cuts_node_padding(local_serving):
    two = dense_inputs([(FEATURES, SOURCE, TARGET), (FEATURES[:2], SOURCE[:1], TARGET[:1])])
    reply = client.parse_rest_response(
        local_serving.predict_rest(client.rest_request_body(two, signature_name="predict_dense"))
    )
    assert reply["class_ids"].shape == (2, 3)
    first, second = client.outputs_per_graph(reply)
    assert second["class_ids"].shape == (2,) and second["logits"].shape == (2, 7)
    assert second["num_nodes"] == 2 and first["logits"].shape == (3, 7)
    np.testing.assert_array_equal(second["logits"], reply["logits"][1, :2])
    assert (reply["class_ids"][1, 2:] == -1).all()  # What was cut is padding.
