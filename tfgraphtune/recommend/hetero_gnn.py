"""A GCN / GraphSAGE encoder over a heterogeneous user-item GraphTensor (TF-GNN layers).

The graph has node sets ``user`` and ``item`` and two edge sets, ``rated`` (user -> item)
and its reverse ``rated_by`` (item -> user). Each layer is one `tfgnn.keras.layers.GraphUpdate`
with a `NodeSetUpdate` per node set: users receive over ``rated_by``, items over ``rated``
(message passing per edge set), and the next state concatenates a node's own state with
what it received (``NextStateFromConcat``, a separate self weight as in GraphSAGE).

* ``"gcn"``: messages are the sender's state times the GCN coefficient of the bipartite
  adjacency, ``1 / sqrt(d_u d_i)`` (Kipf & Welling 2017; the same normalisation LightGCN
  uses), summed (`WeightedSumConv`, stored on the edges as feature ``"weight"``).
* ``"sage"``: `tfgnn.keras.layers.SimpleConv` with a Dense message and mean pooling
  (Hamilton et al., NeurIPS 2017).

Node sets without features start from a learned per-id embedding; node sets with side
features (item genres, user attributes) start from a Dense projection of them.
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_gnn as tfgnn

HETERO_CONVS = ("gcn", "sage")
USER, ITEM, RATED, RATED_BY = "user", "item", "rated", "rated_by"


@tf.keras.utils.register_keras_serializable(package="tfgraphtune")
class WeightedSumConv(tfgnn.keras.layers.AnyToAnyConvolutionBase):
    """Sum of sender states times a scalar edge weight (the GCN aggregation of one edge set).

    TF-GNN's ``GCNConv`` needs one node set on both ends of its edge set; over the
    bipartite user->item edge set the symmetric coefficient ``1/sqrt(d_u d_i)`` is stored
    on the edges instead and this convolution only weights and sums.

    Args:
      receiver_tag: `tfgnn.SOURCE` or `tfgnn.TARGET`.
      weight_feature: The edge feature holding the coefficient.
    """

    def __init__(self, *, receiver_tag, weight_feature: str = "weight", **kwargs):
        kwargs.setdefault("receiver_feature", None)
        kwargs.setdefault("sender_edge_feature", weight_feature)
        super().__init__(receiver_tag=receiver_tag, **kwargs)
        self.weight_feature = weight_feature

    def get_config(self):
        config = super().get_config()
        config.pop("sender_edge_feature", None)
        config.pop("receiver_feature", None)
        return {**config, "weight_feature": self.weight_feature}

    def convolve(
        self,
        *,
        sender_node_input,
        sender_edge_input,
        receiver_input,
        broadcast_from_sender_node,
        broadcast_from_receiver,
        pool_to_receiver,
        extra_receiver_ops=None,
        training,
    ):
        messages = broadcast_from_sender_node(sender_node_input) * sender_edge_input[:, None]
        return pool_to_receiver(messages, reduce_type="sum")


def bipartite_graph(
    users: tf.Tensor,
    items: tf.Tensor,
    user_state: tf.Tensor,
    item_state: tf.Tensor,
) -> tfgnn.GraphTensor:
    """The user/item GraphTensor with ``rated`` and ``rated_by`` edge sets.

    Args:
      users: ``[E]`` user rows of the training interactions.
      items: ``[E]`` their item rows.
      user_state: ``[U, d]`` initial user states.
      item_state: ``[I, d]`` initial item states.

    Returns:
      A scalar GraphTensor; each edge set carries ``"weight"`` = ``1/sqrt(d_u d_i)``.
    """
    num_users, num_items = tf.shape(user_state)[0], tf.shape(item_state)[0]
    users, items = tf.cast(users, tf.int32), tf.cast(items, tf.int32)
    ones = tf.ones_like(users, tf.float32)
    user_degree = tf.math.unsorted_segment_sum(ones, users, num_users)
    item_degree = tf.math.unsorted_segment_sum(ones, items, num_items)
    weight = tf.math.rsqrt(
        tf.maximum(tf.gather(user_degree, users) * tf.gather(item_degree, items), 1.0)
    )
    num_edges = tf.shape(users)[:1]

    def edges(source, target, source_ids, target_ids):
        return tfgnn.EdgeSet.from_fields(
            sizes=num_edges,
            adjacency=tfgnn.Adjacency.from_indices((source, source_ids), (target, target_ids)),
            features={"weight": weight},
        )

    return tfgnn.GraphTensor.from_pieces(
        node_sets={
            USER: tfgnn.NodeSet.from_fields(
                sizes=tf.shape(user_state)[:1], features={tfgnn.HIDDEN_STATE: user_state}
            ),
            ITEM: tfgnn.NodeSet.from_fields(
                sizes=tf.shape(item_state)[:1], features={tfgnn.HIDDEN_STATE: item_state}
            ),
        },
        edge_sets={
            RATED: edges(USER, ITEM, users, items),
            RATED_BY: edges(ITEM, USER, items, users),
        },
    )


def graph_update(
    conv: str, units: int, *, activation: str | None = "relu"
) -> tf.keras.layers.Layer:
    """One heterogeneous message-passing layer: users <- rated_by, items <- rated."""

    def node_set_update(edge_set: str):
        if conv == "gcn":
            convolution = WeightedSumConv(receiver_tag=tfgnn.TARGET)
        else:
            convolution = tfgnn.keras.layers.SimpleConv(
                tf.keras.layers.Dense(units), "mean", receiver_tag=tfgnn.TARGET
            )
        return tfgnn.keras.layers.NodeSetUpdate(
            {edge_set: convolution},
            tfgnn.keras.layers.NextStateFromConcat(
                tf.keras.layers.Dense(units, activation=activation)
            ),
        )

    return tfgnn.keras.layers.GraphUpdate(
        node_sets={USER: node_set_update(RATED_BY), ITEM: node_set_update(RATED)}
    )


@tf.keras.utils.register_keras_serializable(package="tfgraphtune")
class HeteroGNNEncoder(tf.keras.layers.Layer):
    """Final user and item embeddings from `num_layers` heterogeneous GraphUpdates.

    Args:
      conv: ``"gcn"`` or ``"sage"``.
      units: Width of every layer (the last one is linear: its output is dot-scored).
      num_layers: Message-passing layers (at least 1).

    Call args:
      inputs: ``(users, items, user_state, item_state)`` (see `bipartite_graph`).

    Returns:
      ``(user_embeddings [U, units], item_embeddings [I, units])``.
    """

    def __init__(self, *, conv: str = "gcn", units: int = 64, num_layers: int = 2, **kwargs):
        super().__init__(**kwargs)
        if conv not in HETERO_CONVS:
            raise ValueError(
                f"Received an invalid value for conv, expected one of {list(HETERO_CONVS)}. "
                f"Received: conv={conv!r}"
            )
        self.conv, self.units, self.num_layers = conv, int(units), int(num_layers)
        self.graph_updates = [
            graph_update(conv, self.units, activation="relu" if i < num_layers - 1 else None)
            for i in range(self.num_layers)
        ]

    def get_config(self):
        return {
            **super().get_config(),
            "conv": self.conv,
            "units": self.units,
            "num_layers": self.num_layers,
        }

    def call(self, inputs, training=None):
        users, items, user_state, item_state = inputs
        graph = bipartite_graph(users, items, user_state, item_state)
        for update in self.graph_updates:
            graph = update(graph, training=training)
        return (
            graph.node_sets[USER][tfgnn.HIDDEN_STATE],
            graph.node_sets[ITEM][tfgnn.HIDDEN_STATE],
        )
