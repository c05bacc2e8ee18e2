"""Link prediction: node embeddings scored pairwise, an edge split and training inputs."""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.checks import positive_int, rate
from tfgraphtune.layers import propagation
from tfgraphtune.models.backbone import Backbone
from tfgraphtune.models.tasks.task_model import TaskModel

DECODERS = ("dot", "mlp")


@tf.keras.utils.register_keras_serializable(package="tfgraphtune")
class LinkModel(TaskModel):
    """Backbone embeddings ``z`` and a decoder scoring node pairs: one logit per pair.

    ``"dot"`` is the inner-product decoder of the graph auto-encoder (Kipf & Welling,
    "Variational Graph Auto-Encoders", NeurIPS workshop 2016): ``s(u, v) = z_u . z_v``.
    ``"mlp"`` scores the Hadamard product: ``s(u, v) = MLP(z_u * z_v)`` with one hidden
    ReLU layer. Both are symmetric in ``u, v``. Train with
    `tfgraphtune.training.losses.PairBinaryCrossentropy` (one loss per pair, so
    sample weights apply).

    Args:
      backbone: The `Backbone` computing node embeddings.
      decoder: ``"dot"`` or ``"mlp"``.
      hidden_units: Hidden width of the ``"mlp"`` decoder.
      dropout: Dropout rate on the Hadamard product of the ``"mlp"`` decoder.

    Call args:
      inputs: ``(graph, pairs)``: a scalar `tfgnn.GraphTensor` and ``[P, 2]`` integer node
        indices into the backbone's node set.

    Returns:
      ``[P]`` logits.

    Raises:
      ValueError: An invalid `decoder`, `hidden_units` or `dropout`.

    Example:
      >>> backbone = Backbone(node_set="paper", feature="feat", hidden_units=[32, 16],
      ...                     final_activation="linear", dropout=0.0)
      >>> model = LinkModel(backbone, decoder="dot")
      >>> logits = model((graph, tf.constant([[0, 1], [2, 3]])))  # [2]
    """

    def __init__(
        self,
        backbone: Backbone,
        *,
        decoder: str = "dot",
        hidden_units: int = 64,
        dropout: float = 0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if decoder not in DECODERS:
            raise ValueError(
                f"Received an invalid value for decoder, expected one of {list(DECODERS)}. "
                f"Received: decoder={decoder!r}"
            )
        self.backbone = backbone
        self.decoder = decoder
        self.hidden_units = positive_int("hidden_units", hidden_units)
        self.dropout = rate("dropout", dropout)
        if decoder == "mlp":
            self.decoder_dropout = tf.keras.layers.Dropout(self.dropout)
            self.decoder_hidden = tf.keras.layers.Dense(
                hidden_units, activation="relu", name="decoder_hidden"
            )
            self.decoder_output = tf.keras.layers.Dense(1, name="decoder_output")

    def call(self, inputs, training=None):
        graph, pairs = inputs
        return self.decode(self.backbone(graph, training=training), pairs, training=training)

    def decode(self, embeddings: tf.Tensor, pairs: tf.Tensor, training=None) -> tf.Tensor:
        """``[P]`` logits of node pairs ``[P, 2]`` from node embeddings ``[N, D]``."""
        pairs = tf.cast(pairs, tf.int32)
        source = tf.gather(embeddings, pairs[:, 0])
        target = tf.gather(embeddings, pairs[:, 1])
        if self.decoder == "dot":
            return tf.reduce_sum(source * target, axis=-1)
        states = self.decoder_dropout(source * target, training=training)
        return tf.squeeze(self.decoder_output(self.decoder_hidden(states)), axis=-1)

    def train_step(self, data):
        x, y, sample_weight = tf.keras.utils.unpack_x_y_sample_weight(data)
        if y.shape.rank != 2:
            return super().train_step(data)
        # Dense labels: the whole adjacency is reconstructed (see `full_reconstruction_loss`).
        if self.decoder != "dot":
            raise ValueError("full-adjacency training needs decoder='dot'.")
        graph, _ = x
        with tf.GradientTape() as tape:
            embeddings = self.backbone(graph, training=True)
            logits = tf.matmul(embeddings, embeddings, transpose_b=True)
            loss = full_reconstruction_loss(y, logits)
            if self.losses:
                loss += tf.add_n(self.losses)
            # Every replica computes the same whole loss; their gradients are summed.
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            scaled = loss / replicas
        variables = self.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(scaled, variables), variables))
        return {"loss": loss}

    def task_config(self) -> dict:
        return {
            "decoder": self.decoder,
            "hidden_units": self.hidden_units,
            "dropout": self.dropout,
        }


def full_reconstruction_loss(adjacency: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """The GAE paper's loss: weighted cross-entropy over every node pair.

    ``norm * mean(pos_weight * A * -log s(L) + (1 - A) * -log(1 - s(L)))`` with
    ``pos_weight = (N^2 - |A|) / |A|`` and ``norm = N^2 / (2 (N^2 - |A|))`` (Kipf & Welling,
    2016), so edges and non-edges weigh the same in total.

    Args:
      adjacency: ``[N, N]`` 0/1 labels (training edges plus self loops).
      logits: ``[N, N]`` pair logits ``z z^T``.
    """
    adjacency = tf.cast(adjacency, logits.dtype)
    total = tf.cast(tf.size(adjacency), logits.dtype)
    positives = tf.reduce_sum(adjacency)
    pos_weight = (total - positives) / positives
    norm = total / (2.0 * (total - positives))
    return norm * tf.reduce_mean(
        tf.nn.weighted_cross_entropy_with_logits(adjacency, logits, pos_weight)
    )


@dataclasses.dataclass(frozen=True)
class LinkSplit:
    """Held-out edges for link prediction and the graph that message passing may see.

    Attributes:
      train_graph: The input graph keeping only the training edges of `edge_set` (both
        directions when it is symmetric), so no held-out edge leaks into message passing.
      train_pos: ``[P, 2]`` int64 training edges, one row per undirected edge (``u < v``)
        when the edge set is symmetric.
      val_pairs: ``[V, 2]`` int64 validation pairs, positives first, then as many
        negatives; `val_labels` ``[V]`` float32 1/0.
      test_pairs: ``[T, 2]`` test pairs like `val_pairs`; `test_labels` their labels.
      node_set: The node set the pairs index.
      edge_set: The split edge set.
      num_nodes: Number of nodes in `node_set`.
      symmetric: Whether the edge set was treated as undirected.
    """

    train_graph: tfgnn.GraphTensor
    train_pos: np.ndarray
    val_pairs: np.ndarray
    val_labels: np.ndarray
    test_pairs: np.ndarray
    test_labels: np.ndarray
    node_set: str
    edge_set: str
    num_nodes: int
    symmetric: bool


def _sample_non_edges(
    rng: np.random.Generator,
    count: int,
    num_nodes: int,
    edge_keys: np.ndarray,
    *,
    symmetric: bool,
) -> np.ndarray:
    """Samples `count` distinct pairs ``u != v`` that are not edges (``u < v`` if symmetric)."""
    chosen = np.zeros(0, dtype=np.int64)
    while chosen.size < count:
        draw = max(2 * (count - chosen.size), 64)
        u = rng.integers(0, num_nodes, draw)
        v = rng.integers(0, num_nodes, draw)
        if symmetric:
            u, v = np.minimum(u, v), np.maximum(u, v)
        keys = u * num_nodes + v
        keys = keys[(u != v) & ~np.isin(keys, edge_keys) & ~np.isin(keys, chosen)]
        # Keep first occurrences in draw order, so the result depends only on the seed.
        _, first = np.unique(keys, return_index=True)
        chosen = np.concatenate([chosen, keys[np.sort(first)]])
    chosen = chosen[:count]
    return np.stack([chosen // num_nodes, chosen % num_nodes], axis=1)


def _keep_edges(
    graph: tfgnn.GraphTensor, edge_set_name: str, keep: np.ndarray
) -> tfgnn.GraphTensor:
    """A copy of `graph` whose edge set keeps the rows where `keep` is True."""
    edge_set = graph.edge_sets[edge_set_name]
    adjacency = edge_set.adjacency
    node_set = graph.node_sets[adjacency.target_name]
    rows = np.flatnonzero(keep)
    # Each kept edge stays in its component: the one of its target node.
    component_of_node = np.repeat(
        np.arange(node_set.sizes.shape[0]), node_set.sizes.numpy().astype(np.int64)
    )
    component = component_of_node[adjacency.target.numpy()[rows]]
    sizes = np.bincount(component, minlength=edge_set.sizes.shape[0]).astype(
        edge_set.sizes.dtype.as_numpy_dtype
    )
    # GCN coefficients cached on the graph describe the full edge set: drop them.
    features = {
        name: tf.gather(value, rows)
        for name, value in edge_set.features.items()
        if name != propagation.GCN_EDGE_WEIGHT
    }
    edge_sets = dict(graph.edge_sets)
    edge_sets[edge_set_name] = tfgnn.EdgeSet.from_fields(
        sizes=tf.constant(sizes),
        features=features,
        adjacency=tfgnn.Adjacency.from_indices(
            source=(adjacency.source_name, tf.gather(adjacency.source, rows)),
            target=(adjacency.target_name, tf.gather(adjacency.target, rows)),
        ),
    )
    node_sets = dict(graph.node_sets)
    node_features = dict(node_set.features)
    if node_features.pop(propagation.GCN_SELF_WEIGHT, None) is not None:
        node_sets[adjacency.target_name] = tfgnn.NodeSet.from_fields(
            sizes=node_set.sizes, features=node_features
        )
    return tfgnn.GraphTensor.from_pieces(
        context=propagation.drop_cached_adjacency(graph).context,
        node_sets=node_sets,
        edge_sets=edge_sets,
    )


def split_edges(
    graph: tfgnn.GraphTensor,
    edge_set: str,
    *,
    val_fraction: float = 0.05,
    test_fraction: float = 0.1,
    seed: int = 0,
) -> LinkSplit:
    """Splits the edges of one edge set into train/validation/test for link prediction.

    The protocol of Kipf & Welling's graph auto-encoder (2016): when the edge set is
    symmetric (every ``(u, v)`` has its ``(v, u)``) the two directions are one undirected
    edge; ``floor(val_fraction * M)`` and ``floor(test_fraction * M)`` of the ``M`` edges
    are held out, the rest are training edges. The returned `train_graph` keeps only the
    training edges (both directions), so held-out edges never take part in message
    passing. Validation and test get as many negative pairs as positives, drawn uniformly
    from the pairs ``u != v`` that are not edges of the FULL graph, without duplicates
    (also none shared between validation and test). Self loops are never held out and
    stay in `train_graph`. Cached GCN coefficients (`precompute_gcn_normalization`) are
    dropped from `train_graph`, since they describe the full graph; recompute them on it.

    Args:
      graph: A scalar GraphTensor (any number of components).
      edge_set: The edge set to split; its source and target node set must be the same.
      val_fraction: Fraction of edges for validation, in ``[0, 1)``.
      test_fraction: Fraction of edges for test, in ``[0, 1)``; the two sum below 1.
      seed: Seed of the numpy generator; the same seed gives the same split.

    Returns:
      A `LinkSplit`.

    Raises:
      ValueError: Bad fractions, an unknown or bipartite edge set, or too few non-edges
        for the negatives.
    """
    for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0.0 <= value < 1.0:
            raise ValueError(
                f"Received an invalid value for {name}, expected a fraction in [0, 1). "
                f"Received: {name}={value!r}"
            )
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(
            "val_fraction + test_fraction must be below 1 to leave training edges; received "
            f"val_fraction={val_fraction!r}, test_fraction={test_fraction!r}."
        )
    if edge_set not in graph.edge_sets:
        raise ValueError(
            f"edge set {edge_set!r} is not in the graph; it has {sorted(graph.edge_sets)}."
        )
    adjacency = graph.edge_sets[edge_set].adjacency
    if adjacency.source_name != adjacency.target_name:
        raise ValueError(
            f"split_edges needs an edge set within one node set; {edge_set!r} goes from "
            f"{adjacency.source_name!r} to {adjacency.target_name!r}."
        )
    num_nodes = int(graph.node_sets[adjacency.target_name].total_size)
    source = adjacency.source.numpy().astype(np.int64)
    target = adjacency.target.numpy().astype(np.int64)
    keys = source * num_nodes + target
    symmetric = bool(np.all(np.isin(target * num_nodes + source, keys)))
    if symmetric:
        low, high = np.minimum(source, target), np.maximum(source, target)
        edge_keys = low * num_nodes + high
    else:
        edge_keys = keys
    loops = source == target
    candidates = np.unique(edge_keys[~loops])

    rng = np.random.default_rng(seed)
    shuffled = rng.permutation(candidates)
    num_val = int(np.floor(val_fraction * candidates.size))
    num_test = int(np.floor(test_fraction * candidates.size))
    val_keys = shuffled[:num_val]
    test_keys = shuffled[num_val : num_val + num_test]
    train_keys = np.sort(shuffled[num_val + num_test :])

    total_pairs = num_nodes * (num_nodes - 1) // (2 if symmetric else 1)
    if total_pairs - candidates.size < num_val + num_test:
        raise ValueError(
            f"edge set {edge_set!r} has too few non-edges ({total_pairs - candidates.size}) "
            f"for {num_val + num_test} negative pairs; lower val_fraction/test_fraction."
        )
    negatives = _sample_non_edges(
        rng, num_val + num_test, num_nodes, np.unique(edge_keys), symmetric=symmetric
    )

    def as_pairs(pair_keys: np.ndarray) -> np.ndarray:
        return np.stack([pair_keys // num_nodes, pair_keys % num_nodes], axis=1).astype(np.int64)

    def labelled(positive_keys: np.ndarray, negative_pairs: np.ndarray):
        pairs = np.concatenate([as_pairs(positive_keys), negative_pairs.astype(np.int64)])
        labels = np.r_[np.ones(len(positive_keys)), np.zeros(len(negative_pairs))]
        return pairs, labels.astype(np.float32)

    val_pairs, val_labels = labelled(val_keys, negatives[:num_val])
    test_pairs, test_labels = labelled(test_keys, negatives[num_val:])
    keep = loops | np.isin(edge_keys, train_keys)
    return LinkSplit(
        train_graph=_keep_edges(graph, edge_set, keep),
        train_pos=as_pairs(train_keys),
        val_pairs=val_pairs,
        val_labels=val_labels,
        test_pairs=test_pairs,
        test_labels=test_labels,
        node_set=adjacency.target_name,
        edge_set=edge_set,
        num_nodes=num_nodes,
        symmetric=symmetric,
    )


def uniform_negative_pairs(step_seed: tf.Tensor, count, num_nodes: int) -> tf.Tensor:
    """``[count, 2]`` int64 node pairs drawn uniformly without self pairs, from `step_seed`
    (stateless: the same seed gives the same pairs)."""
    seeds = tf.random.experimental.stateless_split(tf.stack([step_seed, 0]), 2)
    source = tf.random.stateless_uniform([count], seeds[0], maxval=num_nodes, dtype=tf.int64)
    # Drawing from N - 1 nodes and skipping the source avoids self pairs.
    target = tf.random.stateless_uniform([count], seeds[1], maxval=num_nodes - 1, dtype=tf.int64)
    target += tf.cast(target >= source, tf.int64)
    return tf.stack([source, target], axis=1)


def pair_labels_and_weights(num_positives, negatives_per_positive: int, *, scale: float = 1.0):
    """Labels (1 for the positives, then 0) and loss weights of positives followed by
    ``num_positives * negatives_per_positive`` negatives.

    Positives weigh as much as all their negatives together, so more negatives lower the
    variance of the loss without shifting it towards "no edge" (with one negative per
    positive every weight is 1).
    """
    num_negatives = num_positives * negatives_per_positive
    labels = tf.concat([tf.ones([num_positives]), tf.zeros([num_negatives])], axis=0)
    weights = scale * tf.concat(
        [tf.fill([num_positives], float(negatives_per_positive)), tf.ones([num_negatives])],
        axis=0,
    )
    return labels, weights


def link_inputs(
    split: LinkSplit,
    *,
    negatives_per_positive: int | str = 1,
    seed: int = 0,
    positives: np.ndarray | None = None,
    scale: float = 1.0,
) -> dict[str, tf.data.Dataset]:
    """One-element data sets ``((train_graph, pairs), labels[, weights])`` for `model.fit`.

    The ``"train"`` element pairs every training edge (label 1, sample weight
    `negatives_per_positive`) with `negatives_per_positive` fresh uniform pairs ``u != v``
    (label 0, weight 1), drawn in-graph every epoch, as in the GAE's negative sampling;
    like PyG's ``negative_sampling`` with ``force_undirected=False`` a negative may rarely
    be an edge (probability about the graph's density). ``"validation"`` and ``"test"``
    hold the fixed pairs of the split.
    All splits pass `split.train_graph` for message passing.

    Args:
      split: A `LinkSplit` from `split_edges`.
      negatives_per_positive: Negatives per training edge, a positive integer; or
        ``"all"`` for the GAE paper's full reconstruction: the ``"train"`` element then holds
        the dense ``[N, N]`` adjacency of the training edges plus self loops as labels, and
        `LinkModel` trains on every pair (`full_reconstruction_loss`; memory ``O(N^2)``,
        for graphs up to some ten thousand nodes).
      seed: Seed of the negatives; a fresh data set with the same seed repeats them, and
        every epoch (iteration) draws new ones.
      positives: The training edges to use (a replica's share); default all of them.
      scale: Multiplies every sample weight (``n`` replicas sharing the edges use ``n``,
        so their losses add up to the one-replica loss).

    Returns:
      ``{"train": ..., "validation": ..., "test": ...}`` `tf.data.Dataset`s.

    Raises:
      ValueError: A bad `negatives_per_positive`.
    """
    if negatives_per_positive == "all":
        return {"train": _full_adjacency_input(split), **_fixed_inputs(split)}
    if (
        not isinstance(negatives_per_positive, int)
        or isinstance(negatives_per_positive, bool)
        or negatives_per_positive <= 0
    ):
        raise ValueError(
            "Received an invalid value for negatives_per_positive, expected a positive "
            f"integer or 'all'. Received: negatives_per_positive={negatives_per_positive!r}"
        )
    graph = split.train_graph
    positive_pairs = split.train_pos if positives is None else np.asarray(positives)
    positives = tf.constant(positive_pairs.reshape(-1, 2), tf.int64)
    num_positives = int(positives.shape[0])
    num_negatives = num_positives * negatives_per_positive
    num_nodes = split.num_nodes
    labels, weights = pair_labels_and_weights(num_positives, negatives_per_positive, scale=scale)

    def with_negatives(step_seed: tf.Tensor):
        negative_pairs = uniform_negative_pairs(step_seed, num_negatives, num_nodes)
        return (graph, tf.concat([positives, negative_pairs], axis=0)), labels, weights

    # A stateful random op would repeat its numbers every epoch (each iteration restarts
    # it from the seed); a rerandomized seed stream gives new ones per epoch.
    train = (
        tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        .take(1)
        .map(with_negatives)
    )

    return {"train": train, **_fixed_inputs(split)}


def _fixed_inputs(split: LinkSplit) -> dict[str, tf.data.Dataset]:
    """The validation and test data sets: fixed pairs of the split."""

    def fixed(pairs: np.ndarray, pair_labels: np.ndarray) -> tf.data.Dataset:
        return tf.data.Dataset.from_tensors(
            (
                (split.train_graph, tf.constant(pairs, tf.int64)),
                tf.constant(pair_labels, tf.float32),
            )
        )

    return {
        "validation": fixed(split.val_pairs, split.val_labels),
        "test": fixed(split.test_pairs, split.test_labels),
    }


def _full_adjacency_input(split: LinkSplit) -> tf.data.Dataset:
    """``((train_graph, train_pos), A + I)`` with the dense training adjacency as labels."""
    adjacency = np.eye(split.num_nodes, dtype=np.float32)
    pos = split.train_pos
    adjacency[pos[:, 0], pos[:, 1]] = 1.0
    if split.symmetric:
        adjacency[pos[:, 1], pos[:, 0]] = 1.0
    return tf.data.Dataset.from_tensors(
        ((split.train_graph, tf.constant(pos, tf.int64)), tf.constant(adjacency))
    )
