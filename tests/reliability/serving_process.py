"""A stand-in for TF Serving: loads an export with TensorFlow alone and answers requests.

Run as ``python serving_process.py VERSION_DIR``; prints one JSON object. It serves a good
request, then requests whose claimed sizes are huge (40 real edges, 1e9 claimed), then the
good request again, and reports for each bad one the wall time of the call and the extra
memory it took.

Memory: the peak resident set size (``VmHWM``) is reset through ``/proc/self/clear_refs``
right before each call and read right after; ``VmHWM - VmRSS before the call`` is an upper
bound of what the call allocated and touched (TensorFlow's CPU allocator hands out
``malloc``ed pages, which count once written, and a kernel sized by a claim writes its
output). A process of its own, because pytest's process carries other tests' memory and
TensorFlow's allocator caches. Where ``clear_refs`` cannot be written, the bound uses the
never-reset peak instead (larger, so still an upper bound).
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import tensorflow as tf

CLAIM = 1_000_000_000


def _status_kb(field: str) -> int:
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as stream:
            stream.write("5")
        return True
    except OSError:
        return False


def example_record(
    node_set, feature, edge_set, features, source, target, *, nodes=None, edges=None
):
    def ints(values):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=list(values)))

    return tf.train.Example(
        features=tf.train.Features(
            feature={
                f"nodes/{node_set}.#size": ints([len(features) if nodes is None else nodes]),
                f"nodes/{node_set}.{feature}": tf.train.Feature(
                    float_list=tf.train.FloatList(value=features.ravel())
                ),
                f"edges/{edge_set}.#size": ints([len(source) if edges is None else edges]),
                f"edges/{edge_set}.#source": ints(source),
                f"edges/{edge_set}.#target": ints(target),
            }
        )
    ).SerializeToString()


def main(version_dir: str) -> dict:
    loaded = tf.saved_model.load(version_dir)
    info = json.loads(open(f"{version_dir}/assets.extra/tfgraphtune_serving.json").read())
    si = info["serving_input"]
    rng = np.random.default_rng(0)
    num_nodes = 10
    features = rng.random((num_nodes, si["num_features"])).astype(np.float32)
    source = rng.integers(0, num_nodes, 40)
    target = rng.integers(0, num_nodes, 40)

    def example(**claims):
        names = (si["node_set"], si["feature"], si["edge_set"])
        return example_record(*names, features, source, target, **claims)

    examples = loaded.signatures["serving_default"]
    dense = loaded.signatures["predict_dense"]
    good = tf.constant([example()])

    def dense_call(num_edges):
        return dense(
            node_features=tf.constant(features[None]),
            source=tf.constant(source[None]),
            target=tf.constant(target[None]),
            num_nodes=tf.constant([num_nodes], tf.int64),
            num_edges=tf.constant([num_edges], tf.int64),
        )

    before = examples(examples=good)["logits"].numpy()
    dense_call(len(source))  # Both signatures traced and warm before measuring.
    bad = {
        "examples_claim_1e9_edges": lambda: examples(examples=tf.constant([example(edges=CLAIM)])),
        "examples_claim_1e9_nodes": lambda: examples(examples=tf.constant([example(nodes=CLAIM)])),
        "examples_claim_1e9_edges_twice": lambda: examples(
            examples=tf.constant([example(edges=CLAIM), example(edges=CLAIM)])
        ),
        "dense_claim_1e9_edges": lambda: dense_call(CLAIM),
    }
    results = {}
    for name, call in bad.items():
        rss_before = _status_kb("VmRSS")
        reset = _reset_peak()
        start = time.perf_counter()
        try:
            call()
            message = None
        except tf.errors.InvalidArgumentError as err:
            message = err.message
        seconds = time.perf_counter() - start
        results[name] = {
            "rejected": message is not None,
            "message": (message or "")[:2000],
            "ms": seconds * 1000,
            "extra_mb": (_status_kb("VmHWM") - rss_before) / 1024,
            "peak_reset": reset,
        }
    after = examples(examples=good)["logits"].numpy()
    return {
        "bad": results,
        "good_same": bool(np.array_equal(before, after)),
        "good_rows": int(before.shape[1]),
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
