"""Deploy-time compression: magnitude pruning while fine-tuning, weight quantization at export.

Pruning (Zhu & Gupta, "To prune, or not to prune", 2017) zeroes the smallest-magnitude
entries of every kernel on the polynomial schedule
``s_t = s_f + (s_i - s_f) * (1 - (t - t_0) / (t_1 - t_0)) ** 3`` and keeps them zero after
each optimizer step. It is a plain Keras callback: tensorflow-model-optimization 0.8 wraps
only Sequential/Functional models and layers called as ``layer(inputs)``, while the
convolutions here are called as ``conv(states, graph=graph)`` inside subclassed models.

Quantization stores kernels as int8 (one symmetric scale per output channel) or float16
in the SavedModel and dequantizes them in the graph, so the files on disk shrink while the
arithmetic stays float32.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import tarfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import tensorflow as tf

from tfgraphtune.checks import positive_int

QUANTIZATIONS = ("float32", "float16", "int8")


def _is_kernel(variable: tf.Variable, min_elements: int) -> bool:
    return (
        variable.dtype.is_floating
        and variable.shape.rank is not None
        and variable.shape.rank >= 2
        and variable.shape.num_elements() >= min_elements
    )


# --------------------------------------------------------------------------- quantization


class QuantizedWeights:
    """The stored form of a model's variables and the in-graph way back to float32.

    Kernels (floating variables of rank >= 2 with at least `min_elements` entries) become
    new variables: int8 values plus a float32 scale per output channel
    (``w ~= q * scale``, ``scale = max|w| / 127`` over all but the last axis), or float16
    values. Every other variable (biases, small kernels, normalization statistics) is kept
    as it is.

    Args:
      variables: The model's variables.
      mode: ``"float32"`` (nothing changes), ``"float16"`` or ``"int8"``.
      min_elements: Smaller kernels stay float32 (their size is noise next to the graph).

    Attributes:
      stored: The variables the SavedModel must track (kept originals and new ones).
    """

    def __init__(
        self, variables: Iterable[tf.Variable], mode: str = "float32", *, min_elements: int = 256
    ):
        if mode not in QUANTIZATIONS:
            raise ValueError(
                f"Received an invalid value for quantize, expected one of {list(QUANTIZATIONS)}. "
                f"Received: quantize={mode!r}"
            )
        self.mode = mode
        self.stored: list[tf.Variable] = []
        self._dequantize: dict = {}  # variable.ref() -> () -> float tensor
        self.quantized_names: list[str] = []
        for variable in variables:
            if mode == "float32" or not _is_kernel(variable, min_elements):
                self.stored.append(variable)
                continue
            name = variable.name.split(":")[0]
            self.quantized_names.append(name)
            values = variable.numpy()
            dtype = variable.dtype
            if mode == "float16":
                half = tf.Variable(values.astype(np.float16), trainable=False, name=f"{name}_f16")
                self.stored.append(half)
                self._dequantize[variable.ref()] = lambda half=half, dtype=dtype: tf.cast(
                    half, dtype
                )
            else:
                axes = tuple(range(values.ndim - 1))
                scale = np.max(np.abs(values), axis=axes) / 127.0
                scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
                q = np.clip(np.round(values / scale), -127, 127).astype(np.int8)
                q_var = tf.Variable(q, trainable=False, name=f"{name}_int8")
                s_var = tf.Variable(scale, trainable=False, name=f"{name}_scale")
                self.stored.extend([q_var, s_var])
                self._dequantize[variable.ref()] = lambda q=q_var, s=s_var, dtype=dtype: tf.cast(
                    tf.cast(q, tf.float32) * s, dtype
                )

    @contextlib.contextmanager
    def substituted(self, model: tf.Module):
        """While tracing inside this context, `model`'s layers read dequantized kernels.

        Layers keep their kernels as attributes (``self.kernel``) and read them in
        ``call``; the attributes are pointed at the dequantized tensors for the duration
        of the trace and restored afterwards. Keras attribute tracking is bypassed, so the
        model's weight lists never change.
        """
        if not self._dequantize:
            yield
            return
        replacements = {ref: make() for ref, make in self._dequantize.items()}
        swapped = []
        try:
            for module in [model, *model.submodules]:
                for attribute, value in list(vars(module).items()):
                    if isinstance(value, tf.Variable) and value.ref() in replacements:
                        object.__setattr__(module, attribute, replacements[value.ref()])
                        swapped.append((module, attribute, value))
            yield
        finally:
            for module, attribute, value in swapped:
                object.__setattr__(module, attribute, value)


# --------------------------------------------------------------------------- pruning


def polynomial_sparsity(
    step: int,
    *,
    target: float,
    begin_step: int,
    end_step: int,
    initial: float = 0.0,
    power: float = 3.0,
) -> float:
    """Zhu & Gupta's schedule: ``initial`` before `begin_step`, `target` from `end_step`."""
    if step < begin_step:
        return initial if step >= 0 else 0.0
    if step >= end_step:
        return target
    progress = (step - begin_step) / max(end_step - begin_step, 1)
    return target + (initial - target) * (1.0 - progress) ** power


def magnitude_mask(values: np.ndarray, sparsity: float) -> np.ndarray:
    """A 0/1 mask zeroing the ``round(sparsity * size)`` smallest-magnitude entries."""
    count = int(round(sparsity * values.size))
    mask = np.ones(values.size, dtype=values.dtype)
    if count > 0:
        order = np.argsort(np.abs(values).ravel(), kind="stable")
        mask[order[:count]] = 0
    return mask.reshape(values.shape)


class MagnitudePruning(tf.keras.callbacks.Callback):
    """Prunes kernels to a target sparsity on a polynomial schedule during `model.fit`.

    Every `frequency` steps between `begin_step` and `end_step` the masks are recomputed
    from the current magnitudes at the scheduled sparsity; after every step the weights are
    multiplied by their masks (so the optimizer cannot revive pruned entries). At the end
    of training the kernels are pruned to `target_sparsity` once more, after any callback
    that restores earlier weights (put this callback last).

    Args:
      target_sparsity: Final fraction of zeros in each pruned kernel, in [0, 1).
      begin_step: First optimizer step that prunes.
      end_step: Step from which the sparsity is `target_sparsity`.
      frequency: Steps between mask updates.
      min_elements: Kernels with fewer entries are left dense.

    Example:
      >>> from tfgraphtune import train
      >>> train(config, callbacks=[MagnitudePruning(0.8, end_step=100)])
    """

    def __init__(
        self,
        target_sparsity: float,
        *,
        begin_step: int = 0,
        end_step: int = 100,
        frequency: int = 10,
        min_elements: int = 256,
    ):
        super().__init__()
        if not 0.0 <= target_sparsity < 1.0:
            raise ValueError(
                "Received an invalid value for target_sparsity, expected a fraction in [0, 1). "
                f"Received: target_sparsity={target_sparsity!r}"
            )
        if begin_step < 0 or end_step < begin_step:
            raise ValueError(
                "Received an invalid value for end_step, expected end_step >= begin_step >= 0. "
                f"Received: begin_step={begin_step!r}, end_step={end_step!r}"
            )
        positive_int("frequency", frequency)
        self.target_sparsity = float(target_sparsity)
        self.begin_step = int(begin_step)
        self.end_step = int(end_step)
        self.frequency = int(frequency)
        self.min_elements = int(min_elements)
        self.step = 0
        self._masks: dict = {}

    def kernels(self) -> list[tf.Variable]:
        """The variables this callback prunes."""
        return [v for v in self.model.trainable_variables if _is_kernel(v, self.min_elements)]

    def _update_masks(self, sparsity: float) -> None:
        for variable in self.kernels():
            self._masks[variable.ref()] = magnitude_mask(variable.numpy(), sparsity)

    def _apply_masks(self) -> None:
        for variable in self.kernels():
            mask = self._masks.get(variable.ref())
            if mask is not None:
                variable.assign(variable.numpy() * mask)

    def on_train_batch_end(self, batch, logs=None):
        if self.step >= self.begin_step and (
            self.step <= self.end_step
            and (self.step - self.begin_step) % self.frequency == 0
            or self.step == self.end_step
        ):
            self._update_masks(
                polynomial_sparsity(
                    self.step,
                    target=self.target_sparsity,
                    begin_step=self.begin_step,
                    end_step=self.end_step,
                )
            )
        self._apply_masks()
        self.step += 1

    def on_train_end(self, logs=None):
        self._update_masks(self.target_sparsity)
        self._apply_masks()

    def sparsity(self) -> float:
        """The fraction of zeros over all pruned kernels now."""
        kernels = [v.numpy() for v in self.kernels()]
        total = sum(k.size for k in kernels)
        return float(sum((k == 0).sum() for k in kernels) / max(total, 1))


# --------------------------------------------------------------------------- sizes


def saved_model_size(version_dir: str | Path) -> int:
    """Bytes of ``saved_model.pb`` plus ``variables/`` (what TF Serving loads; no assets)."""
    version_dir = Path(version_dir)
    files = [version_dir / "saved_model.pb", *(version_dir / "variables").glob("*")]
    return sum(path.stat().st_size for path in files if path.is_file())


def gzipped_size(version_dir: str | Path) -> int:
    """Bytes of ``saved_model.pb`` and ``variables/`` as one gzip-compressed tar.

    Pruned zeros shrink a model only under compression (a dense checkpoint stores them);
    this is the size a deployment archive would have.
    """
    version_dir = Path(version_dir)
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped:
        with tarfile.open(fileobj=zipped, mode="w") as tar:
            for name in ("saved_model.pb", "variables"):
                tar.add(str(version_dir / name), arcname=name)
    return buffer.tell()
