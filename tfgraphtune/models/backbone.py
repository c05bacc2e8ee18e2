"""The GNN backbone: GraphTensor in, node embeddings out; it knows nothing about tasks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.layers.adapter import Adapter
from tfgraphtune.layers.dropout import PackedDropout
from tfgraphtune.layers.gat_conv import GATConv
from tfgraphtune.layers.gatv2_conv import GATv2Conv
from tfgraphtune.layers.gcn_conv import GCNConv
from tfgraphtune.layers.gin_conv import GINConv
from tfgraphtune.layers.lora_gcn_conv import LORA_INITS, LoRAGCNConv
from tfgraphtune.layers.sage_conv import SAGEConv
from tfgraphtune.layers.sparse_dropout import SparseInputDropout

CONVOLUTIONS = {
    "gcn": GCNConv,
    "sage": SAGEConv,
    "gin": GINConv,
    "gat": GATConv,
    "gatv2": GATv2Conv,
}
# Convolutions whose width is per attention head (``num_heads`` in `conv_options`).
ATTENTION_CONVOLUTIONS = ("gat", "gatv2")
NORMALIZATIONS = (None, "batch", "layer")


def _invalid(name: str, expected: str, value: Any) -> ValueError:
    return ValueError(
        f"Received an invalid value for {name}, expected {expected}. Received: {name}={value!r}"
    )


@tf.keras.utils.register_keras_serializable(package="tfgraphtune")
class Backbone(tf.keras.Model):
    """A stack of graph convolutions over one node set and one edge set.

    Each layer is ``dropout -> conv -> [normalization] -> activation [-> + residual]
    [-> adapter]``.
    With ``sparse_inputs=True`` the first dropout draws random numbers only for non-zero
    input entries (`SparseInputDropout`), the fast path for bag-of-words features.

    Args:
      node_set: The node set whose states are computed.
      feature: The node feature used as input.
      edge_set: The edge set to convolve over; None for the graph's only edge set.
      conv: ``"gcn"``, ``"sage"``, ``"gin"``, ``"gat"`` or ``"gatv2"``. For the attention
        convolutions `hidden_units` counts channels per head (``conv_options.num_heads``).
      hidden_units: Width of every layer (int), or one width per layer (list).
      num_layers: Number of layers when `hidden_units` is an int.
      activation: Keras activation after every layer, or ``"prelu"`` for a learned
        per-channel PReLU per layer (as DGI and GraphMAE use).
      final_activation: The last layer's activation instead of `activation`: None or True
        keep `activation`; False or ``"linear"`` give the linear embeddings of the graph
        auto-encoder's encoder (Kipf & Welling, "Variational Graph Auto-Encoders", 2016);
        any other Keras activation name applies that one.
      dropout: Dropout rate on the input of every layer after the first.
      input_dropout: Dropout rate on the input features; None means `dropout`.
      sparse_inputs: Use `SparseInputDropout` for the input features.
      residual: Add each layer's input to its output where widths match.
      normalization: None, ``"batch"`` or ``"layer"``.
      l2: L2 penalty ``l2 * sum(w^2)`` on every conv kernel (Kipf & Welling's weight decay
        ``wd`` equals ``l2 = wd / 2``).
      conv_options: Extra keyword arguments for every conv (e.g. ``{"num_heads": 8}``).
      lora_rank: 0, or the rank of a LoRA update on every GCN kernel (`LoRAGCNConv`; the
        pre-trained kernels and biases are then frozen). Needs ``conv="gcn"``.
      lora_alpha: LoRA scale numerator (the update is scaled by ``lora_alpha / lora_rank``).
      lora_init: ``"pissa"`` (the update starts on the kernel's top singular directions
        once pre-trained weights are loaded) or ``"gaussian"`` (Hu et al.); see
        `LoRAGCNConv`.
      adapter_units: 0, or the bottleneck width of an `Adapter` after every layer.

    Call args:
      graph: A `tfgnn.GraphTensor` (one or many components).

    Returns:
      ``[num_nodes, output_units]`` node embeddings of `node_set`.
    """

    def __init__(
        self,
        *,
        node_set: str,
        feature: str,
        edge_set: str | None = None,
        conv: str = "gcn",
        hidden_units: int | Sequence[int] = 64,
        num_layers: int = 2,
        activation: Any = "relu",
        dropout: float = 0.5,
        input_dropout: float | None = None,
        sparse_inputs: bool = False,
        residual: bool = False,
        normalization: str | None = None,
        l2: float = 0.0,
        conv_options: dict | None = None,
        final_activation: Any = None,
        lora_rank: int = 0,
        lora_alpha: float = 16.0,
        lora_init: str = "pissa",
        adapter_units: int = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if conv not in CONVOLUTIONS:
            raise _invalid("conv", f"one of {sorted(CONVOLUTIONS)}", conv)
        if isinstance(hidden_units, int):
            if not isinstance(num_layers, int) or num_layers <= 0:
                raise _invalid("num_layers", "a positive integer", num_layers)
            widths = [hidden_units] * num_layers
        else:
            widths = list(hidden_units)
            if not widths:
                raise _invalid("hidden_units", "a positive integer or a non-empty list", widths)
        if any(not isinstance(w, int) or isinstance(w, bool) or w <= 0 for w in widths):
            raise _invalid("hidden_units", "positive integers", hidden_units)
        for name, rate in (("dropout", dropout), ("input_dropout", input_dropout)):
            if rate is not None and not 0.0 <= rate < 1.0:
                raise _invalid(name, "a rate in [0, 1)", rate)
        if normalization not in NORMALIZATIONS:
            raise _invalid("normalization", f"one of {list(NORMALIZATIONS)}", normalization)
        if l2 < 0:
            raise _invalid("l2", "a number >= 0", l2)
        for name, value in (("lora_rank", lora_rank), ("adapter_units", adapter_units)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise _invalid(name, "an integer >= 0", value)
        if lora_init not in LORA_INITS:
            raise _invalid("lora_init", f"one of {list(LORA_INITS)}", lora_init)
        if lora_rank and conv != "gcn":
            raise _invalid(
                "lora_rank", f"0 for conv={conv!r} (LoRA wraps GCN kernels only)", lora_rank
            )
        self.node_set = node_set
        self.feature = feature
        self.edge_set = edge_set
        self.conv = conv
        self.hidden_units = hidden_units if isinstance(hidden_units, int) else list(widths)
        self.num_layers = len(widths)
        self.activation = (
            activation if activation == "prelu" else tf.keras.activations.get(activation)
        )
        if final_activation is True:
            final_activation = None
        elif final_activation is False:
            final_activation = "linear"
        self.final_activation = (
            None if final_activation is None else tf.keras.activations.get(final_activation)
        )
        self.lora_rank = int(lora_rank)
        self.lora_alpha = float(lora_alpha)
        self.lora_init = lora_init
        self.adapter_units = int(adapter_units)
        self.dropout = float(dropout)
        self.input_dropout = None if input_dropout is None else float(input_dropout)
        self.sparse_inputs = bool(sparse_inputs)
        self.residual = bool(residual)
        self.normalization = normalization
        self.l2 = float(l2)
        self.conv_options = dict(conv_options or {})
        self.widths = widths

        regularizer = tf.keras.regularizers.L2(self.l2) if self.l2 else None
        first_rate = self.dropout if self.input_dropout is None else self.input_dropout
        self.dropouts = []
        self.conv_layers = []
        self.norm_layers = []
        self.activation_layers = []
        self.adapter_layers = []
        for index, width in enumerate(widths):
            rate = first_rate if index == 0 else self.dropout
            if index == 0 and self.sparse_inputs:
                self.dropouts.append(SparseInputDropout(rate, name="input_dropout"))
            else:
                self.dropouts.append(PackedDropout(rate, name=f"dropout_{index}"))
            conv_class, lora = CONVOLUTIONS[conv], {}
            if self.lora_rank:
                conv_class = LoRAGCNConv
                lora = {"rank": self.lora_rank, "alpha": self.lora_alpha, "init": lora_init}
            self.conv_layers.append(
                conv_class(
                    width,
                    edge_set_name=edge_set,
                    kernel_regularizer=regularizer,
                    name=f"{conv}_{index}",
                    **lora,
                    **self.conv_options,
                )
            )
            if activation == "prelu":
                self.activation_layers.append(
                    tf.keras.layers.PReLU(
                        alpha_initializer=tf.keras.initializers.Constant(0.25),
                        name=f"prelu_{index}",
                    )
                )
            if self.adapter_units:
                self.adapter_layers.append(Adapter(self.adapter_units, name=f"adapter_{index}"))
            if normalization == "batch":
                # Synchronized: under several replicas the statistics are the global
                # batch's (a replica's few graphs alone can collapse training).
                self.norm_layers.append(
                    tf.keras.layers.BatchNormalization(synchronized=True, name=f"norm_{index}")
                )
            elif normalization == "layer":
                self.norm_layers.append(tf.keras.layers.LayerNormalization(name=f"norm_{index}"))

    @property
    def output_units(self) -> int:
        """Width of the embeddings the backbone returns."""
        last = self.widths[-1]
        if self.conv in ATTENTION_CONVOLUTIONS and self.conv_options.get("concat_heads", True):
            return last * self.conv_options.get("num_heads", 1)
        return last

    def call(self, graph: tfgnn.GraphTensor, training=None):
        node_set = graph.node_sets[self.node_set]
        states = node_set[self.feature]
        if states.dtype != tf.float32:
            states = tf.cast(states, tf.float32)
        for index, conv in enumerate(self.conv_layers):
            inputs = states
            states = conv(self.dropouts[index](states, training=training), graph=graph)
            if self.norm_layers:
                states = self.norm_layers[index](states, training=training)
            if index == len(self.conv_layers) - 1 and self.final_activation is not None:
                states = self.final_activation(states)
            elif self.activation_layers:
                states = self.activation_layers[index](states)
            else:
                states = self.activation(states)
            if self.residual and not isinstance(inputs, tf.SparseTensor):
                if inputs.shape[-1] == states.shape[-1]:
                    states += inputs
            if self.adapter_layers:
                states = self.adapter_layers[index](states)
        return states

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "node_set": self.node_set,
            "feature": self.feature,
            "edge_set": self.edge_set,
            "conv": self.conv,
            "hidden_units": self.hidden_units,
            "num_layers": self.num_layers,
            "activation": (
                "prelu"
                if self.activation == "prelu"
                else tf.keras.activations.serialize(self.activation)
            ),
            "dropout": self.dropout,
            "input_dropout": self.input_dropout,
            "sparse_inputs": self.sparse_inputs,
            "residual": self.residual,
            "normalization": self.normalization,
            "l2": self.l2,
            "conv_options": dict(self.conv_options),
            "final_activation": (
                None
                if self.final_activation is None
                else tf.keras.activations.serialize(self.final_activation)
            ),
            "lora_rank": self.lora_rank,
            "lora_alpha": self.lora_alpha,
            "lora_init": self.lora_init,
            "adapter_units": self.adapter_units,
        }

    def get_build_config(self):
        # Built by its first call on a GraphTensor; an input shape cannot rebuild it.
        return None

    @classmethod
    def from_config(cls, config: dict) -> Backbone:
        return cls(**config)

    def save_pretrained(self, path, *, schema, metadata: dict | None = None):
        """Writes a pre-trained backbone checkpoint (see `tfgraphtune.models.checkpoint`)."""
        from tfgraphtune.models.checkpoint import save_pretrained

        return save_pretrained(self, path, schema=schema, metadata=metadata)

    @classmethod
    def from_pretrained(cls, path, *, schema=None, **overrides) -> Backbone:
        """A built backbone with the weights of a checkpoint that `save_pretrained` wrote.

        Args:
          path: The checkpoint folder.
          schema: Optional GraphSchema of the data to fine-tune on; an incompatible one
            raises `SchemaMismatchError` naming the node set, edge set or feature.
          **overrides: Backbone options to change, e.g. ``dropout=0.5``, ``lora_rank=8``,
            ``adapter_units=32`` (the pre-trained weights are copied into the new layers).
        """
        from tfgraphtune.models.checkpoint import load_pretrained

        return load_pretrained(path, schema=schema, **overrides)
