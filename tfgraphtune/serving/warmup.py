"""``assets.extra/tf_serving_warmup_requests``: PredictionLog records TF Serving replays at load.

TF Serving runs each recorded request once before it marks a version AVAILABLE, so the
first real request does not pay for graph optimization and kernel start-up. The file is a
TFRecord of ``tensorflow.serving.PredictionLog`` protos.

The records are encoded here from the protobuf wire format (PredictionLog -> PredictLog ->
PredictRequest -> ModelSpec + inputs map of TensorProto), so exporting needs no
tensorflow-serving-api; the tests parse them back with that package's classes when it is
installed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf

WARMUP_FILE = "tf_serving_warmup_requests"

# Field numbers in tensorflow_serving/apis/{model,predict,prediction_log}.proto.
_MODEL_SPEC_NAME, _MODEL_SPEC_SIGNATURE = 1, 3
_REQUEST_MODEL_SPEC, _REQUEST_INPUTS = 1, 2
_PREDICT_LOG_REQUEST = 1
_PREDICTION_LOG_PREDICT = 6


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def encode_predict_request(
    model_name: str, signature_name: str, inputs: Mapping[str, np.ndarray | tf.Tensor]
) -> bytes:
    """A serialized ``tensorflow.serving.PredictRequest``.

    Args:
      model_name: The model's name in the server's model config.
      signature_name: The signature to call.
      inputs: Input name -> array (converted with `tf.make_tensor_proto`).
    """
    spec = _field(_MODEL_SPEC_NAME, model_name.encode()) + _field(
        _MODEL_SPEC_SIGNATURE, signature_name.encode()
    )
    body = _field(_REQUEST_MODEL_SPEC, spec)
    for name in sorted(inputs):
        tensor = tf.make_tensor_proto(inputs[name]).SerializeToString()
        entry = _field(1, name.encode()) + _field(2, tensor)
        body += _field(_REQUEST_INPUTS, entry)
    return body


def encode_prediction_log(request: bytes) -> bytes:
    """A serialized ``PredictionLog`` holding a ``PredictLog`` with `request`."""
    return _field(_PREDICTION_LOG_PREDICT, _field(_PREDICT_LOG_REQUEST, request))


def write_warmup_requests(path: str | Path, requests: Sequence[bytes]) -> Path:
    """Writes serialized PredictRequests as PredictionLog records; returns the file path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for request in requests:
            writer.write(encode_prediction_log(request))
    return path
