"""Answers retrieval requests to an exported SavedModel with TensorFlow alone.

Usage: ``python tf_only_retrieval_worker.py SAVED_MODEL SIGNATURE:IN.npz:OUT.npz ...``.
String outputs are written as unicode arrays (npz without pickles). Fails if loading the
export imported tfgraphtune or tensorflow_gnn.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

model = tf.saved_model.load(sys.argv[1])
leaked = [name for name in ("tfgraphtune", "tensorflow_gnn") if name in sys.modules]
if leaked:
    sys.exit(f"loading the export imported {leaked}")
for request in sys.argv[2:]:
    signature, inputs, outputs = request.split(":")
    with np.load(inputs, allow_pickle=False) as arrays:
        feed = {name: tf.constant(arrays[name]) for name in arrays.files}
    answer = {}
    for name, value in model.signatures[signature](**feed).items():
        value = value.numpy()
        answer[name] = value.astype(str) if value.dtype == object else value
    np.savez(outputs, **answer)
print("ok")
