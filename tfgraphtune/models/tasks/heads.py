"""Output heads shared by the tasks: a linear map, an MLP, or one more graph convolution."""

from __future__ import annotations

import tensorflow as tf

from tfgraphtune.checks import positive_int, rate
from tfgraphtune.layers.dropout import PackedDropout
from tfgraphtune.layers.gcn_conv import GCNConv

HEAD_KINDS = ("linear", "mlp", "gcn")


@tf.keras.utils.register_keras_serializable(package="tfgraphtune")
class Head(tf.keras.layers.Layer):
    """``dropout -> [Dense(hidden, relu) -> dropout] -> Dense(units)`` or a final GCNConv.

    Args:
      units: Output width (classes, 1 for regression).
      kind: ``"linear"``, ``"mlp"`` or ``"gcn"`` (a last GCN layer, as in Kipf & Welling's
        two-layer model; needs the graph at call time).
      hidden_units: Width of the MLP's hidden layer (``kind="mlp"``).
      dropout: Dropout rate on the head's input (and the MLP's hidden layer).
      target_mean: For regression: outputs are ``target_mean + target_std * z``, so the
        layers learn standardized targets while the model predicts in the data's units
        (the task sets both from the training labels only). None for classification.
      target_std: See `target_mean`.

    Call args:
      inputs: ``[rows, channels]`` embeddings.
      graph: The GraphTensor, required for ``kind="gcn"``.
    """

    def __init__(
        self,
        units: int,
        *,
        kind: str = "linear",
        hidden_units: int = 64,
        dropout: float = 0.0,
        target_mean: float | None = None,
        target_std: float | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if (target_mean is None) != (target_std is None):
            raise ValueError("target_mean and target_std must be given together.")
        if target_std is not None and not target_std > 0:
            raise ValueError(
                "Received an invalid value for target_std, expected a number > 0. "
                f"Received: target_std={target_std!r}"
            )
        if kind not in HEAD_KINDS:
            raise ValueError(
                f"Received an invalid value for head, expected one of {list(HEAD_KINDS)}. "
                f"Received: head={kind!r}"
            )
        rate("head_dropout", dropout)
        self.units = positive_int("units", units)
        self.kind = kind
        self.hidden_units = int(hidden_units)
        self.dropout = float(dropout)
        self.target_mean = None if target_mean is None else float(target_mean)
        self.target_std = None if target_std is None else float(target_std)
        self.input_dropout = PackedDropout(self.dropout)
        if kind == "gcn":
            self.output_layer = GCNConv(units, name="head_gcn")
        else:
            self.output_layer = tf.keras.layers.Dense(units, name="head_dense")
        if kind == "mlp":
            self.hidden_layer = tf.keras.layers.Dense(
                self.hidden_units, activation="relu", name="head_hidden"
            )
            self.hidden_dropout = PackedDropout(self.dropout)

    def call(self, inputs, *, graph=None, training=None):
        states = self.input_dropout(inputs, training=training)
        if self.kind == "mlp":
            states = self.hidden_dropout(self.hidden_layer(states), training=training)
        if self.kind == "gcn":
            if graph is None:
                raise ValueError("a 'gcn' head needs the graph: call it with graph=...")
            outputs = self.output_layer(states, graph=graph)
        else:
            outputs = self.output_layer(states)
        if self.target_std is not None:
            outputs = outputs * self.target_std + self.target_mean
        return outputs

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "units": self.units,
            "kind": self.kind,
            "hidden_units": self.hidden_units,
            "dropout": self.dropout,
            "target_mean": self.target_mean,
            "target_std": self.target_std,
        }
