"""A TensorFlow-only process that answers requests to exported SavedModels.

Reads one JSON line per request from stdin: ``{"saved_model": DIR, "signature": NAME,
"inputs": NPZ, "outputs": NPZ}``; loads the SavedModel (once per folder) with TensorFlow
alone, runs the signature on the npz's arrays, writes the outputs to the second npz and
answers one JSON line. After every load it checks that neither tfgraphtune nor
tensorflow_gnn got imported (the export must not need them).
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

loaded = {}
for line in sys.stdin:
    request = json.loads(line)
    try:
        path = request["saved_model"]
        if path not in loaded:
            loaded[path] = tf.saved_model.load(path)
        leaked = [name for name in ("tfgraphtune", "tensorflow_gnn") if name in sys.modules]
        if leaked:
            raise RuntimeError(f"loading the export imported {leaked}")
        signature = loaded[path].signatures[request["signature"]]
        with np.load(request["inputs"], allow_pickle=False) as arrays:
            inputs = {name: tf.constant(arrays[name]) for name in arrays.files}
        outputs = {name: value.numpy() for name, value in signature(**inputs).items()}
        np.savez(request["outputs"], **outputs)
        answer = {"ok": True}
    except Exception as err:  # noqa: BLE001  (reported to the test)
        answer = {"ok": False, "error": f"{type(err).__name__}: {err}"}
    print(json.dumps(answer), flush=True)
