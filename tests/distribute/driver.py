"""Trains every task kind under one distribution and reports metrics and weights (a child
process of the distribution tests: strategies and logical devices are per process).

Usage: python driver.py MODE CONFIGS.json OUT.json, MODE one of none | mirrored | multi_worker.
"""

import json
import sys

import tfgraphtune  # noqa: F401  (selects tf_keras)
from tfgraphtune.distribute import split_cpu

mode, configs_path, out_path = sys.argv[1:4]
if mode == "mirrored":
    split_cpu(2)  # Two logical CPUs before TensorFlow's runtime starts.

import numpy as np  # noqa: E402

from tfgraphtune.training.train import train  # noqa: E402

results = {}
for name, config in json.load(open(configs_path)).items():
    config["train"]["distribution"] = mode
    if mode == "mirrored":
        config["train"]["devices"] = ["/cpu:0", "/cpu:1"]
    result = train(config, write=False)
    model = result.model
    replicas_agree = True
    for variable in model.variables:
        copies = [v.numpy() for v in getattr(variable, "values", [variable])]
        replicas_agree &= all(np.array_equal(copies[0], c) for c in copies[1:])
    results[name] = {
        "replicas": model.distribute_strategy.num_replicas_in_sync,
        "replicas_agree": bool(replicas_agree),
        "weights": [float(np.sum(np.abs(v.numpy()))) for v in model.variables],
        "metrics": {k: result.metrics[k] for k in ("validation", "test") if k in result.metrics},
        "loss": result.history["loss"],
    }
    pass
json.dump(results, open(out_path, "w"))
