"""Which ``tf.distribute`` strategy a run uses (``train.distribution``), and its role.

* ``none``: TensorFlow's default strategy (one device, no replication).
* ``auto``: every GPU present (``MirroredStrategy`` over several, ``OneDeviceStrategy`` on
  one), several workers when ``TF_CONFIG`` names a cluster, else ``none``. On a CPU-only
  machine a one-replica ``MirroredStrategy`` only costs (measured 2-8x slower), so ``auto``
  never picks one.
* ``one_device``: the first GPU, else the CPU.
* ``mirrored``: ``MirroredStrategy`` over ``train.devices`` (default: all GPUs, else the
  CPU). Several logical CPUs (``tfgraphtune.distribute.split_cpu``) make it testable on a
  CPU-only machine.
* ``multi_worker``: ``MultiWorkerMirroredStrategy`` over the cluster in ``TF_CONFIG``; run the
  same command in every worker process.
* ``parameter_server``: ``ParameterServerStrategy``; the chief trains, the ``ps`` and
  ``worker`` processes of ``TF_CONFIG`` serve (the same command in each).

Mixed precision (``train.mixed_precision``: ``auto`` = on with a GPU) sets Keras's
``mixed_float16`` policy while the model is built.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from typing import Any

import tensorflow as tf

from tfgraphtune.data.errors import ValidationError

DISTRIBUTIONS = ("auto", "none", "one_device", "mirrored", "multi_worker", "parameter_server")


def tf_config() -> dict[str, Any]:
    """The parsed ``TF_CONFIG`` environment variable (empty when unset).

    Raises:
      ValidationError: It is not valid JSON.
    """
    text = os.environ.get("TF_CONFIG", "")
    if not text:
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ValidationError(
            f"TF_CONFIG is not valid JSON ({err}); see tf.distribute docs."
        ) from None


def _cluster_size(config: Mapping[str, Any]) -> int:
    cluster = config.get("cluster") or {}
    return sum(len(cluster.get(kind, [])) for kind in ("chief", "worker"))


def task_role() -> tuple[str, int]:
    """``(task type, index)`` of this process in ``TF_CONFIG`` (``("chief", 0)`` alone)."""
    task = tf_config().get("task") or {}
    return str(task.get("type", "chief")), int(task.get("index", 0))


def is_chief() -> bool:
    """Whether this process writes results: the chief, or worker 0 of a chief-less cluster."""
    config = tf_config()
    kind, index = task_role()
    cluster = config.get("cluster") or {}
    if kind == "chief":
        return True
    return kind == "worker" and index == 0 and not cluster.get("chief")


def split_cpu(count: int) -> None:
    """Splits the CPU into `count` logical devices (before TensorFlow starts its runtime).

    Raises:
      ValidationError: TensorFlow's runtime already started in this process.
    """
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration()] * int(count)
        )
    except RuntimeError:
        raise ValidationError(
            "the CPU can only be split into logical devices before TensorFlow runs any op; "
            "split it first thing in the process."
        ) from None


# One strategy object per kind and devices in a process: collective ops of two
# MirroredStrategy objects over the same devices share instance keys, so the second one's
# all-reduces meet the first one's (measured: "Shape mismatch in the collective instance").
_STRATEGIES: dict[tuple, tf.distribute.Strategy] = {}


def strategy_from_config(config: Mapping[str, Any]) -> tf.distribute.Strategy:
    """The strategy of ``train.distribution`` (see the module docstring); the same object
    for the same settings within a process.

    Raises:
      ValidationError: A multi-worker or parameter-server strategy without a ``TF_CONFIG``
        cluster, or devices that do not exist.
    """
    train = config["train"]
    name = train["distribution"]
    # Physical devices: listing logical ones would start TensorFlow's runtime, after which
    # a multi-worker strategy can no longer configure its collective ops.
    gpus = tf.config.list_physical_devices("GPU")
    cluster = tf_config()
    if name == "auto":
        if _cluster_size(cluster) > 1:
            name = "multi_worker"
        elif len(gpus) > 1:
            name = "mirrored"
        elif len(gpus) == 1:
            name = "one_device"
        else:
            name = "none"
    if name == "none":
        return tf.distribute.get_strategy()
    key = (name, tuple(train["devices"] or ()))
    if key not in _STRATEGIES:
        _STRATEGIES[key] = _new_strategy(name, train, gpus, cluster)
    return _STRATEGIES[key]


def _new_strategy(name: str, train, gpus, cluster) -> tf.distribute.Strategy:
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy("/gpu:0" if gpus else "/cpu:0")
    if name == "mirrored":
        devices = train["devices"]
        if devices:
            known = {d.name.lower() for d in tf.config.list_logical_devices()}
            unknown = [
                d for d in devices if not any(k.endswith(d.lower().lstrip("/")) for k in known)
            ]
            if unknown:
                raise ValidationError(
                    f"config key 'train.devices' names {unknown}, which this machine does not "
                    f"have; logical devices: {sorted(known)}."
                )
        return tf.distribute.MirroredStrategy(devices or None)
    if not cluster.get("cluster"):
        raise ValidationError(
            f"train.distribution: {name} needs a cluster in the TF_CONFIG environment variable "
            '(e.g. {"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": '
            '"worker", "index": 0}}) in every process.'
        )
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    return tf.distribute.experimental.ParameterServerStrategy(resolver)


def serve_if_parameter_server_role(config: Mapping[str, Any]) -> bool:
    """Runs this process as a parameter-server cluster ``ps``/``worker`` when it is one.

    Blocks serving until the process is killed; returns False for the chief (which trains)
    and for every other strategy.
    """
    if config["train"]["distribution"] != "parameter_server":
        return False
    kind, index = task_role()
    if kind not in ("ps", "worker"):
        return False
    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    server = tf.distribute.Server(
        resolver.cluster_spec(), job_name=kind, task_index=index, protocol="grpc", start=True
    )
    server.join()
    return True


@contextlib.contextmanager
def precision_policy(config: Mapping[str, Any]):
    """Keras's ``mixed_float16`` policy during the block when mixed precision is on."""
    setting = config["train"]["mixed_precision"]
    use = setting is True or (setting == "auto" and tf.config.list_physical_devices("GPU"))
    if not use:
        yield False
        return
    previous = tf.keras.mixed_precision.global_policy()
    tf.keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield True
    finally:
        tf.keras.mixed_precision.set_global_policy(previous)


def num_replicas(strategy: tf.distribute.Strategy | None = None) -> int:
    """Replicas in sync of `strategy` (default: the current one)."""
    return (strategy or tf.distribute.get_strategy()).num_replicas_in_sync
