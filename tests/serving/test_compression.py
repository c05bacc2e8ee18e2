"""Pruning schedule and masks, quantized weight storage, smaller exports."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import path_graph
from tfgraphtune.models.backbone import Backbone
from tfgraphtune.models.tasks.node_classification import NodeModel
from tfgraphtune.serving.compression import (
    MagnitudePruning,
    QuantizedWeights,
    magnitude_mask,
    polynomial_sparsity,
    saved_model_size,
)
from tfgraphtune.serving.export_module import ServingInput
from tfgraphtune.serving.exporter import export_model


def test_polynomial_schedule():
    # s_t = 0.8 + (0 - 0.8) * (1 - t / 10) ** 3: t=5 -> 0.8 - 0.8 * 0.125 = 0.7.
    kwargs = dict(target=0.8, begin_step=0, end_step=10)
    assert polynomial_sparsity(0, **kwargs) == 0.0
    assert polynomial_sparsity(5, **kwargs) == pytest.approx(0.7)
    assert polynomial_sparsity(10, **kwargs) == 0.8
    assert polynomial_sparsity(50, **kwargs) == 0.8


def test_magnitude_mask_drops_smallest():
    values = np.array([[0.1, -3.0], [2.0, -0.2]], np.float32)
    # 50 % of 4 entries: |0.1| and |-0.2| go.
    np.testing.assert_array_equal(magnitude_mask(values, 0.5), [[0, 1], [1, 0]])
    np.testing.assert_array_equal(magnitude_mask(values, 0.0), np.ones((2, 2)))


def test_int8_and_float16_storage():
    kernel = tf.Variable(np.array([[1.0, -0.5], [0.25, 2.0]] * 128, np.float32))
    bias = tf.Variable(np.zeros(2, np.float32))
    int8 = QuantizedWeights([kernel, bias], "int8")
    # Per-column scale max|w|/127: column 0 -> 1/127, column 1 -> 2/127.
    stored = {v.dtype: v for v in int8.stored}
    assert set(stored) == {tf.int8, tf.float32}
    assert [v.shape for v in int8.stored] == [(256, 2), (2,), (2,)]
    dequantized = int8._dequantize[kernel.ref()]().numpy()
    # Rounding error is at most half a step per column.
    assert (np.abs(dequantized - kernel.numpy()) <= np.array([1, 2]) / 254 + 1e-7).all()
    half = QuantizedWeights([kernel, bias], "float16")
    assert [v.dtype for v in half.stored] == [tf.float16, tf.float32]
    with pytest.raises(ValueError, match="expected one of"):
        QuantizedWeights([kernel], "int4")


def _tiny_model_and_graph():
    graph = path_graph(np.eye(4, 64, dtype=np.float32) + 0.5, [0, 1, 2], [1, 2, 3])
    model = NodeModel(
        Backbone(node_set="n", feature="x", hidden_units=32, num_layers=1), 3, head="gcn"
    )
    model(graph)
    return model, graph


def test_pruning_callback_reaches_target_sparsity():
    model, graph = _tiny_model_and_graph()
    model.compile(optimizer="adam", loss=tf.keras.losses.SparseCategoricalCrossentropy(True))
    labels = tf.constant([0, 1, 2, 0])
    pruning = MagnitudePruning(0.75, begin_step=0, end_step=6, frequency=2, min_elements=64)
    data = tf.data.Dataset.from_tensors((graph, labels)).repeat()
    model.fit(data, steps_per_epoch=1, epochs=10, callbacks=[pruning], verbose=0)
    kernels = pruning.kernels()
    assert len(kernels) == 2  # 64x32 backbone kernel and 32x3 head kernel.
    assert pruning.sparsity() == pytest.approx(0.75, abs=0.01)
    with pytest.raises(ValueError, match="target_sparsity"):
        MagnitudePruning(1.0)


def test_quantized_exports_are_smaller_and_close(tmp_path):
    model, graph = _tiny_model_and_graph()
    si = ServingInput("n", "x", "e", 64)
    expected = model(graph).numpy()
    sizes = {}
    for mode in ("float32", "int8"):
        result = export_model(model, tmp_path / mode, serving_input=si, quantize=mode)
        sizes[mode] = saved_model_size(result.version_dir)
        loaded = tf.saved_model.load(str(result.version_dir))
        out = loaded.signatures["predict_dense"](
            node_features=graph.node_sets["n"]["x"][None],
            source=tf.constant([[0, 1, 2]], tf.int64),
            target=tf.constant([[1, 2, 3]], tf.int64),
            num_nodes=tf.constant([4], tf.int64),
            num_edges=tf.constant([3], tf.int64),
        )
        atol = 1e-5 if mode == "float32" else 2e-2
        np.testing.assert_allclose(out["logits"].numpy()[0], expected, atol=atol)
    assert result.quantized_variables  # The 64x32 kernel.
    assert sizes["int8"] < sizes["float32"]
