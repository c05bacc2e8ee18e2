"""A TF Serving client for exported graph models: build Predict requests, send them, parse replies.

Requests come from GraphTensors or pandas tables and go to one of the two signatures
(see `tfgraphtune.serving.export_module`):

- ``serving_default``: serialized tf.Example graphs (``examples_from_graphs``); over REST
  each one travels base64-encoded as ``{"b64": ...}``, as TF Serving's JSON API requires
  for binary strings.
- ``predict_dense``: padded arrays (``dense_inputs_from_graphs``, ``dense_inputs_from_tables``).

Transports: `RestClient` (JSON over HTTP, standard library only) and `GrpcClient`
(``tensorflow-serving-api``, install the ``serving`` extra). `LocalServing` answers the same
REST bodies and gRPC requests from a SavedModel loaded in this process, so request
building is tested where no ``tensorflow_model_server`` binary exists.

Replies hold one row per request graph. A node task's outputs are padded per graph
(``class_ids`` ``[B, N]``); a graph task's have one value per graph (``class_ids`` ``[B]``);
`outputs_per_graph` splits either kind into one dict per graph, without padding.

Example:
  >>> client = RestClient("http://localhost:8501", "cora")
  >>> outputs = client.predict(dense_inputs_from_graphs([graph], serving_input),
  ...                          signature_name="predict_dense")
  >>> outputs_per_graph(outputs)[0]["class_ids"]  # cora: one class id per node
"""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

SERVING_DEFAULT = "serving_default"
DENSE_SIGNATURE = "predict_dense"


class ServingError(RuntimeError):
    """The server (or loaded model) rejected a request.

    Attributes:
      code: ``"INVALID_ARGUMENT"`` for a bad request, else the gRPC code name or HTTP status.
      message: The server's message.
    """

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# --------------------------------------------------------------------------- request inputs


def read_serving_input(version_dir: str | Path):
    """The `ServingInput` stored with an export (``assets.extra/tfgraphtune_serving.json``)."""
    from tfgraphtune.serving.export_module import ServingInput

    info = json.loads((Path(version_dir) / "assets.extra" / "tfgraphtune_serving.json").read_text())
    return ServingInput(**info["serving_input"])


def _graph_arrays(graph, serving_input) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    node_set = graph.node_sets[serving_input.node_set]
    adjacency = graph.edge_sets[serving_input.edge_set].adjacency
    return (
        np.asarray(node_set[serving_input.feature]),
        np.asarray(adjacency.source, np.int64),
        np.asarray(adjacency.target, np.int64),
    )


def examples_from_graphs(graphs: Sequence, serving_input=None) -> np.ndarray:
    """``serving_default`` input: one serialized tf.Example per scalar GraphTensor.

    With `serving_input`, only the served feature and edge set are written (smaller
    requests); otherwise the whole graph (extra features are ignored by the model).
    """
    import tensorflow_gnn as tfgnn

    from tfgraphtune.serving.exporter import graph_tensor_from_arrays

    serialized = []
    for graph in graphs:
        if serving_input is not None:
            graph = graph_tensor_from_arrays(serving_input, *_graph_arrays(graph, serving_input))
        serialized.append(tfgnn.write_example(graph).SerializeToString())
    return np.array(serialized, dtype=object)


def dense_inputs_from_graphs(graphs: Sequence, serving_input) -> dict[str, np.ndarray]:
    """``predict_dense`` inputs: graphs padded to the largest one, with their counts."""
    from tfgraphtune.serving.exporter import dense_inputs

    return dense_inputs([_graph_arrays(graph, serving_input) for graph in graphs])


def dense_inputs_from_tables(
    nodes,
    edges,
    *,
    feature_columns: Sequence[str] | None = None,
    id_column: str = "id",
    dtype=np.float32,
) -> dict[str, np.ndarray]:
    """``predict_dense`` inputs for one graph held in pandas tables.

    Args:
      nodes: One row per node; node ids in `id_column` (else the index); the feature is
        `feature_columns` in order (default: every other column), or one column of lists.
      edges: Columns ``source`` and ``target`` holding node ids.
      feature_columns: The feature's columns.
      id_column: The node id column.
      dtype: The feature dtype of the export (float32 unless the export says otherwise).

    Raises:
      ValueError: An edge names a node id that is not in `nodes`, or a column is missing.
    """
    import pandas as pd

    ids = nodes[id_column] if id_column in nodes.columns else nodes.index.to_series()
    columns = (
        list(feature_columns)
        if feature_columns is not None
        else [c for c in nodes.columns if c != id_column]
    )
    missing = [c for c in columns if c not in nodes.columns]
    if missing:
        raise ValueError(f"node table lacks feature columns {missing}.")
    if len(columns) == 1 and nodes[columns[0]].map(lambda v: hasattr(v, "__len__")).all():
        features = np.stack(nodes[columns[0]].to_numpy()).astype(dtype)
    else:
        features = nodes[columns].to_numpy(dtype=dtype)
    for column in ("source", "target"):
        if column not in edges.columns:
            raise ValueError(f"edge table lacks column {column!r}; it needs source and target.")
    index = pd.Index(ids.to_numpy())
    positions = {}
    for column in ("source", "target"):
        found = index.get_indexer(edges[column].to_numpy())
        if (found < 0).any():
            bad = edges[column].to_numpy()[found < 0][:5].tolist()
            raise ValueError(f"edge {column} ids {bad} are not in the node table.")
        positions[column] = found.astype(np.int64)
    from tfgraphtune.serving.exporter import dense_inputs

    return dense_inputs([(features, positions["source"], positions["target"])])


# --------------------------------------------------------------------------- replies


def outputs_per_graph(
    outputs: Mapping[str, np.ndarray], *, rows: str | None = None
) -> list[dict[str, np.ndarray]]:
    """Splits a reply into one dict per request graph, padding removed.

    Args:
      outputs: Output name -> array, as `predict` returns (``num_nodes`` included).
      rows: ``"nodes"`` (a node task: outputs ``[B, N, ...]``, cut to each graph's
        ``num_nodes``) or ``"graphs"`` (a graph task: outputs ``[B, ...]``, one row per
        graph); None infers it from ``class_ids`` (rank 2: nodes, rank 1: graphs).

    Returns:
      One dict per request graph, in request order; ``num_nodes`` is a scalar.

    Raises:
      ValueError: ``num_nodes`` is missing, or `rows` is not given and cannot be inferred.
    """
    if "num_nodes" not in outputs:
        raise ValueError(f"the reply has no num_nodes output; outputs: {sorted(outputs)}.")
    if rows is None:
        if "class_ids" not in outputs:
            raise ValueError("pass rows='nodes' or rows='graphs': the reply has no class_ids.")
        rows = "nodes" if np.ndim(outputs["class_ids"]) == 2 else "graphs"
    if rows not in ("nodes", "graphs"):
        raise ValueError(
            "Received an invalid value for rows, expected 'nodes' or 'graphs'. "
            f"Received: rows={rows!r}"
        )
    num_nodes = np.asarray(outputs["num_nodes"]).astype(np.int64)
    graphs = []
    for row, count in enumerate(num_nodes):
        graph = {}
        for name, value in outputs.items():
            value = np.asarray(value)[row]
            if rows == "nodes" and name != "num_nodes":
                value = value[:count]
            graph[name] = value
        graphs.append(graph)
    return graphs


# --------------------------------------------------------------------------- REST


def _to_json_value(array: np.ndarray):
    array = np.asarray(array)
    if array.dtype == object or array.dtype.kind == "S":
        flat = [
            {"b64": base64.b64encode(v if isinstance(v, bytes) else str(v).encode()).decode()}
            for v in array.ravel()
        ]
        return np.array(flat, dtype=object).reshape(array.shape).tolist()
    return array.tolist()


def rest_request_body(
    inputs: Mapping[str, np.ndarray], *, signature_name: str = SERVING_DEFAULT
) -> dict:
    """The JSON body of a REST ``:predict`` call in the columnar (``inputs``) format.

    Binary strings (serialized examples) are sent as ``{"b64": ...}`` objects.
    """
    return {
        "signature_name": signature_name,
        "inputs": {name: _to_json_value(value) for name, value in inputs.items()},
    }


def parse_rest_response(body: Mapping) -> dict[str, np.ndarray]:
    """Output name -> array from a REST reply (columnar ``outputs`` or row ``predictions``).

    Raises:
      ServingError: The reply is an error (``{"error": ...}``).
    """
    if "error" in body:
        raise ServingError("INVALID_ARGUMENT", str(body["error"]))
    if "outputs" in body:
        outputs = body["outputs"]
        if not isinstance(outputs, Mapping):  # A single unnamed output.
            return {"output": np.asarray(outputs)}
        return {name: np.asarray(value) for name, value in outputs.items()}
    rows = body["predictions"]
    if rows and isinstance(rows[0], Mapping):
        return {name: np.asarray([row[name] for row in rows]) for name in rows[0]}
    return {"output": np.asarray(rows)}


class RestClient:
    """Calls TF Serving's REST API (``POST /v1/models/NAME[/versions/V]:predict``).

    Args:
      url: Server address, e.g. ``http://localhost:8501``.
      model_name: The model's name in the server's config.
      version: A fixed version, or None for the one the server picks (the newest).
      timeout: Seconds to wait for a reply.
    """

    def __init__(
        self, url: str, model_name: str, *, version: int | None = None, timeout: float = 30.0
    ):
        self.url = url.rstrip("/")
        self.model_name = model_name
        self.version = version
        self.timeout = timeout

    @property
    def predict_url(self) -> str:
        version = f"/versions/{self.version}" if self.version is not None else ""
        return f"{self.url}/v1/models/{self.model_name}{version}:predict"

    def predict(
        self, inputs: Mapping[str, np.ndarray], *, signature_name: str = SERVING_DEFAULT
    ) -> dict[str, np.ndarray]:
        """Sends one request; returns output name -> array.

        Raises:
          ServingError: The server answered with an error.
        """
        data = json.dumps(rest_request_body(inputs, signature_name=signature_name)).encode()
        request = urllib.request.Request(
            self.predict_url, data=data, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:  # noqa: S310
                body = json.loads(reply.read())
        except urllib.error.HTTPError as err:
            text = err.read().decode(errors="replace")
            try:
                message = json.loads(text).get("error", text)
            except json.JSONDecodeError:
                message = text
            code = "INVALID_ARGUMENT" if err.code == 400 else f"HTTP {err.code}"
            raise ServingError(code, message) from None
        return parse_rest_response(body)


# --------------------------------------------------------------------------- gRPC


def _serving_apis():
    try:
        from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc
    except ImportError as err:
        raise ImportError(
            "gRPC requests need tensorflow-serving-api at the TensorFlow version: "
            "pip install 'tfgraphtune[serving]' (tensorflow-serving-api==2.21.0)."
        ) from err
    return predict_pb2, prediction_service_pb2_grpc


def grpc_request(
    inputs: Mapping[str, np.ndarray],
    model_name: str,
    *,
    signature_name: str = SERVING_DEFAULT,
    version: int | None = None,
):
    """A ``tensorflow.serving.PredictRequest`` proto."""
    import tensorflow as tf

    predict_pb2, _ = _serving_apis()
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature_name
    if version is not None:
        request.model_spec.version.value = int(version)
    for name, value in inputs.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
    return request


def parse_grpc_response(response) -> dict[str, np.ndarray]:
    """Output name -> array from a ``PredictResponse``."""
    import tensorflow as tf

    return {name: tf.make_ndarray(proto) for name, proto in response.outputs.items()}


class GrpcClient:
    """Calls TF Serving's gRPC ``PredictionService/Predict``.

    Args:
      target: ``host:port``, e.g. ``localhost:8500``.
      model_name: The model's name in the server's config.
      version: A fixed version, or None for the newest.
      timeout: Seconds per call.
    """

    def __init__(
        self, target: str, model_name: str, *, version: int | None = None, timeout: float = 30.0
    ):
        import grpc

        _, service = _serving_apis()
        self.model_name = model_name
        self.version = version
        self.timeout = timeout
        self._channel = grpc.insecure_channel(
            target, options=[("grpc.max_receive_message_length", 256 << 20)]
        )
        self._stub = service.PredictionServiceStub(self._channel)

    def predict(
        self, inputs: Mapping[str, np.ndarray], *, signature_name: str = SERVING_DEFAULT
    ) -> dict[str, np.ndarray]:
        """Sends one request; returns output name -> array.

        Raises:
          ServingError: The server answered with an error status.
        """
        import grpc

        request = grpc_request(
            inputs, self.model_name, signature_name=signature_name, version=self.version
        )
        try:
            response = self._stub.Predict(request, timeout=self.timeout)
        except grpc.RpcError as err:
            raise ServingError(err.code().name, err.details()) from None
        return parse_grpc_response(response)

    def close(self) -> None:
        self._channel.close()


# --------------------------------------------------------------------------- local


class LocalServing:
    """Answers REST bodies and gRPC requests from a SavedModel loaded in this process.

    It does what TF Serving does with a request before and after the model runs: looks
    up the signature, converts JSON values (``{"b64": ...}`` -> bytes) or TensorProtos to
    tensors of the signature's dtypes (refusing other dtypes, as the server does), and
    turns ``InvalidArgumentError`` into an error reply. It needs TensorFlow only.

    Args:
      version_dir: The exported version folder.
    """

    def __init__(self, version_dir: str | Path):
        import tensorflow as tf

        self.loaded = tf.saved_model.load(str(version_dir))

    def _input_specs(self, signature_name: str):
        if signature_name not in self.loaded.signatures:
            raise ServingError(
                "INVALID_ARGUMENT",
                f'Serving signature name: "{signature_name}" not found in signature def',
            )
        function = self.loaded.signatures[signature_name]
        return function, function.structured_input_signature[1]

    def _run(self, signature_name: str, tensors: Mapping) -> dict[str, np.ndarray]:
        import tensorflow as tf

        function, specs = self._input_specs(signature_name)
        missing = sorted(set(specs) - set(tensors))
        extra = sorted(set(tensors) - set(specs))
        if missing or extra:
            raise ServingError(
                "INVALID_ARGUMENT",
                f"signature {signature_name!r} expects inputs {sorted(specs)}; missing "
                f"{missing}, unexpected {extra}",
            )
        try:
            outputs = function(**tensors)
        except tf.errors.InvalidArgumentError as err:
            raise ServingError("INVALID_ARGUMENT", clean_error_message(err.message)) from None
        return {name: value.numpy() for name, value in outputs.items()}

    def predict_rest(self, body: Mapping) -> dict:
        """A REST ``:predict`` body -> the reply body (``outputs`` or ``error``)."""
        import tensorflow as tf

        signature_name = body.get("signature_name", SERVING_DEFAULT)
        try:
            _, specs = self._input_specs(signature_name)
            tensors = {}
            for name, value in body["inputs"].items():
                spec = specs.get(name)
                if spec is None:
                    tensors[name] = value
                    continue
                value = _decode_b64(value)
                array = np.asarray(value, dtype=object if spec.dtype == tf.string else None)
                if spec.dtype != tf.string:
                    if array.dtype.kind == "f" and spec.dtype.is_integer:
                        raise ServingError(
                            "INVALID_ARGUMENT",
                            f"input {name!r} must hold integers ({spec.dtype.name}), "
                            "received floats",
                        )
                    array = array.astype(spec.dtype.as_numpy_dtype)
                tensors[name] = tf.constant(array, spec.dtype)
            outputs = self._run(signature_name, tensors)
        except ServingError as err:
            return {"error": err.message}
        except (ValueError, TypeError) as err:
            return {"error": str(err)}
        return {"outputs": {name: value.tolist() for name, value in outputs.items()}}

    def predict_grpc(self, request):
        """A ``PredictRequest`` -> ``PredictResponse``; raises `ServingError` like the server."""
        import tensorflow as tf

        predict_pb2, _ = _serving_apis()
        signature_name = request.model_spec.signature_name or SERVING_DEFAULT
        _, specs = self._input_specs(signature_name)
        tensors = {}
        for name, proto in request.inputs.items():
            spec = specs.get(name)
            array = tf.make_ndarray(proto)
            if spec is not None and tf.as_dtype(proto.dtype) != spec.dtype:
                raise ServingError(
                    "INVALID_ARGUMENT",
                    f"Expects arg {name!r} to be {spec.dtype.name} but "
                    f"{tf.as_dtype(proto.dtype).name} is provided",
                )
            tensors[name] = tf.constant(array, spec.dtype if spec is not None else None)
        outputs = self._run(signature_name, tensors)
        response = predict_pb2.PredictResponse()
        response.model_spec.CopyFrom(request.model_spec)
        for name, value in outputs.items():
            response.outputs[name].CopyFrom(tf.make_tensor_proto(value))
        return response


def clean_error_message(message: str) -> str:
    """The guard's message without TensorFlow's eager-call decorations (node names, ops)."""
    lines = [
        line.strip()
        for line in message.splitlines()
        if line.strip()
        and not line.startswith(("Graph execution error", "Detected at node", "<stack traces"))
    ]
    text = " ".join(lines)
    text = re.sub(r"\s*\[\[\{\{node [^}]*\}\}\]\]", "", text)
    return re.sub(r"\s*\[Op:[^\]]*\]", "", text).strip()


def _decode_b64(value):
    if isinstance(value, dict) and set(value) == {"b64"}:
        return base64.b64decode(value["b64"])
    if isinstance(value, list):
        return [_decode_b64(v) for v in value]
    return value
