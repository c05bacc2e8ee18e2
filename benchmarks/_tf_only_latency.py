"""Times exported SavedModels in a process that imports TensorFlow alone.

Reads a JSON job from argv[1]: ``{"models": {name: {"saved_model": DIR, "signature": NAME,
"requests": NPZ}}, "reps": R, "threads": T, "block": K}``; each npz holds arrays
``r<i>.<input>`` for request i. All models are loaded first, then the requests are timed
in alternating blocks of K calls per model (default 50): the models share the machine's
changing load alike, while each block runs as a server answering one model would (calls
of another model in between evict its caches: strict one-by-one alternation measured the
Cora MLP student at 0.35 ms a call against 0.15 ms in blocks of 50). Prints one JSON line:
per model the median / p90 milliseconds per call and the class ids answered, and the
modules this process imported from tfgraphtune or tensorflow_gnn (none).
"""

import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

job = json.loads(open(sys.argv[1]).read())
tf.config.threading.set_intra_op_parallelism_threads(job["threads"])
tf.config.threading.set_inter_op_parallelism_threads(job["threads"])
models = {}
for name, spec in job["models"].items():
    signature = tf.saved_model.load(spec["saved_model"]).signatures[spec["signature"]]
    with np.load(spec["requests"], allow_pickle=False) as arrays:
        requests = {}
        for key in arrays.files:
            index, input_name = key.split(".", 1)
            requests.setdefault(int(index[1:]), {})[input_name] = tf.constant(arrays[key])
    models[name] = (signature, [requests[i] for i in sorted(requests)])
leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("tfgraphtune", "tensorflow_gnn"))
times = {name: [] for name in models}
answers = {name: [] for name in models}
for signature, requests in models.values():  # Warm up every traced function.
    for request in requests[:10]:
        signature(**request)["class_ids"].numpy()
block = int(job.get("block", 50))
for first in range(0, job["reps"], block):
    for name, (signature, requests) in models.items():
        for rep in range(first, min(first + block, job["reps"])):
            request = requests[rep % len(requests)]
            start = time.perf_counter()
            ids = signature(**request)["class_ids"].numpy()
            times[name].append(time.perf_counter() - start)
            if rep < len(requests):
                answers[name].append(int(ids.reshape(-1)[0]))
result = {
    name: {
        "p50_ms": float(np.percentile(t, 50) * 1e3),
        "p90_ms": float(np.percentile(t, 90) * 1e3),
        "calls": len(t),
        "class_ids": answers[name],
    }
    for name, t in times.items()
}
print(json.dumps({"latency": result, "leaked_modules": leaked}))
