"""GraphMAE: masked node-feature reconstruction with a re-masking GNN decoder."""

from __future__ import annotations

import tensorflow as tf

from tfgraphtune.checks import rate
from tfgraphtune.layers import propagation
from tfgraphtune.layers.gat_conv import GATConv
from tfgraphtune.layers.gatv2_conv import GATv2Conv
from tfgraphtune.models.backbone import Backbone
from tfgraphtune.pretrain.base import PretrainModel, node_features, replace_node_feature

DECODERS = ("gcn", "gat", "gatv2")


def scaled_cosine_error(targets, predictions, alpha: float = 2.0) -> tf.Tensor:
    """GraphMAE's SCE loss ``mean_i (1 - cos(x_i, z_i))^alpha`` over rows."""
    targets = tf.math.l2_normalize(targets, axis=-1)
    predictions = tf.math.l2_normalize(predictions, axis=-1)
    cosine = tf.reduce_sum(targets * predictions, axis=-1)
    return tf.reduce_mean(tf.pow(1.0 - cosine, alpha))


class GraphMAE(PretrainModel):
    """Hou et al., "GraphMAE: Self-Supervised Masked Graph Autoencoders" (KDD 2022).

    A random `mask_rate` of the nodes is masked: most get a learned ``[MASK]`` token as
    input features, a `replace_rate` share get another random node's features. The
    encoder's output is mapped by a bias-free linear layer, the masked rows are set to zero
    again (re-masking), and a one-layer GNN decoder reconstructs the input features; the
    loss is the scaled cosine error on the masked nodes only.

    Args:
      backbone: The encoder.
      mask_rate: Fraction of nodes masked per step, in (0, 1).
      replace_rate: Fraction of the masked nodes given random features instead of the token.
      alpha: Exponent ``alpha >= 1`` of the scaled cosine error.
      decoder: ``"gcn"``, ``"gat"`` (the paper's) or ``"gatv2"`` (single-head) for the
        decoder layer. The GCN
        decoder computes ``(A_hat H) W + b`` and projects the masked rows only (the same
        values as ``A_hat (H W) + b``, at about half the cost for ``mask_rate=0.5``).
      mask_token: ``"learned"`` (GraphMAE's trainable ``[MASK]`` vector) or ``"zeros"``
        (masked rows become zero, which keeps sparse bag-of-words inputs sparse: with
        ``sparse_inputs=True`` the encoder's first product stays a sparse one).
    """

    def __init__(
        self,
        backbone: Backbone,
        *,
        mask_rate: float = 0.5,
        replace_rate: float = 0.05,
        alpha: float = 2.0,
        decoder: str = "gcn",
        mask_token: str = "learned",
        **kwargs,
    ):
        super().__init__(backbone, **kwargs)
        if not 0.0 < mask_rate < 1.0:
            raise ValueError(
                f"Received an invalid value for mask_rate, expected a rate in (0, 1). "
                f"Received: mask_rate={mask_rate!r}"
            )
        rate("replace_rate", replace_rate)
        if alpha < 1.0:
            raise ValueError(
                f"Received an invalid value for alpha, expected a number >= 1. Received: "
                f"alpha={alpha!r}"
            )
        if decoder not in DECODERS:
            raise ValueError(
                f"Received an invalid value for decoder, expected one of {list(DECODERS)}. "
                f"Received: decoder={decoder!r}"
            )
        if mask_token not in ("learned", "zeros"):
            raise ValueError(
                f"Received an invalid value for mask_token, expected 'learned' or 'zeros'. "
                f"Received: mask_token={mask_token!r}"
            )
        self.mask_token_kind = mask_token
        self.mask_rate = float(mask_rate)
        self.replace_rate = float(replace_rate)
        self.alpha = float(alpha)
        self.decoder_kind = decoder
        self.encoder_to_decoder = tf.keras.layers.Dense(
            backbone.output_units, use_bias=False, name="encoder_to_decoder"
        )
        self.mask_token = None
        self.decoder = None

    def _ensure_decoder(self, num_features: int):
        if self.decoder is not None:
            return
        self.mask_token = self.add_weight(
            name="mask_token",
            shape=(1, num_features),
            initializer="zeros",
            trainable=self.mask_token_kind == "learned",
        )
        edge_set = self.backbone.edge_set
        if self.decoder_kind == "gcn":
            self.decoder = tf.keras.layers.Dense(num_features, name="decoder")
        else:
            attention = GATConv if self.decoder_kind == "gat" else GATv2Conv
            options = self.backbone.conv_options if self.backbone.conv == self.decoder_kind else {}
            self.decoder = attention(
                num_features,
                num_heads=1,
                edge_set_name=edge_set,
                attention_dropout=options.get("attention_dropout", 0.0),
                name="decoder",
            )

    def mask_nodes(self, features):
        """``(masked features, mask [N] bool)`` for one step."""
        num_nodes = tf.shape(features)[0]
        order = self.shuffle(tf.range(num_nodes))
        num_masked = tf.cast(tf.cast(num_nodes, tf.float32) * self.mask_rate, tf.int32)
        num_replaced = tf.cast(tf.cast(num_masked, tf.float32) * self.replace_rate, tf.int32)
        masked_ids = order[:num_masked]
        token_ids = masked_ids[num_replaced:]
        replaced_ids = masked_ids[:num_replaced]
        mask = tf.scatter_nd(masked_ids[:, None], tf.ones([num_masked], tf.bool), [num_nodes])
        token_rows = tf.scatter_nd(
            token_ids[:, None], tf.ones([num_masked - num_replaced]), [num_nodes]
        )[:, None]
        sources = self.random.uniform([num_replaced], 0, num_nodes, dtype=tf.int32)
        replaced = tf.tensor_scatter_nd_update(
            features, replaced_ids[:, None], tf.gather(features, sources)
        )
        masked = replaced * (1.0 - token_rows) + token_rows * self.mask_token
        return masked, mask

    def pretrain_loss(self, graph, training=None):
        features = node_features(graph, self.backbone)
        self._ensure_decoder(int(features.shape[-1]))
        masked, mask = self.mask_nodes(features)
        masked_graph = replace_node_feature(
            graph, self.backbone.node_set, self.backbone.feature, masked
        )
        hidden = self.backbone(masked_graph, training=training)
        hidden = self.encoder_to_decoder(hidden)
        hidden = tf.where(mask[:, None], tf.zeros_like(hidden), hidden)  # Re-mask.
        if self.decoder_kind == "gcn":
            propagated = gcn_propagate(graph, self.backbone.edge_set, hidden)
            reconstructed = self.decoder(tf.boolean_mask(propagated, mask))
        else:
            if training and self.backbone.dropout > 0:
                # The paper's GAT decoder drops its input like every encoder layer does.
                hidden = tf.nn.dropout(hidden, self.backbone.dropout)
            reconstructed = self.decoder.outputs_for(
                hidden, graph=graph, targets=tf.where(mask)[:, 0], training=training
            )
        return scaled_cosine_error(tf.boolean_mask(features, mask), reconstructed, self.alpha)


def gcn_propagate(graph, edge_set_name, states):
    """``D^-1/2 (A + I) D^-1/2 states`` (stored coefficients used when present)."""
    edge_set_name = propagation.single_edge_set(graph, edge_set_name)
    edge_set = graph.edge_sets[edge_set_name]
    node_set = graph.node_sets[edge_set.adjacency.target_name]
    if (
        propagation.GCN_EDGE_WEIGHT in edge_set.features
        and propagation.GCN_SELF_WEIGHT in node_set.features
    ):
        weights, self_weights = (
            edge_set[propagation.GCN_EDGE_WEIGHT],
            node_set[propagation.GCN_SELF_WEIGHT],
        )
    else:
        weights, self_weights = propagation.gcn_normalization(graph, edge_set_name)
    aggregated = propagation.aggregate(
        states,
        source=edge_set.adjacency.source,
        target=edge_set.adjacency.target,
        weights=weights,
        num_targets=node_set.total_size,
    )
    return aggregated + tf.cast(self_weights, states.dtype)[:, None] * states
