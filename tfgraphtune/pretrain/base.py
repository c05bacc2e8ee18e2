"""What the pre-training objectives share: a Keras model around a backbone whose loss is
computed from an unlabelled graph, so plain ``model.fit`` on a data set of graphs trains it."""

from __future__ import annotations

import random

import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.models.backbone import Backbone


def graph_data(graph: tfgnn.GraphTensor) -> tf.data.Dataset:
    """The one-element, repeating data set ``fit(..., steps_per_epoch=1)`` trains on."""
    return tf.data.Dataset.from_tensors(graph).repeat()


def replace_node_feature(graph: tfgnn.GraphTensor, node_set: str, feature: str, value):
    """A new graph with one node feature replaced (the input graph is not changed)."""
    features = dict(graph.node_sets[node_set].features)
    features[feature] = value
    return graph.replace_features(node_sets={node_set: features})


def node_features(graph: tfgnn.GraphTensor, backbone: Backbone) -> tf.Tensor:
    values = graph.node_sets[backbone.node_set][backbone.feature]
    return tf.cast(values, tf.float32)


class PretrainModel(tf.keras.Model):
    """Base of the objectives: ``call`` gives the backbone's embeddings, ``train_step``
    minimises `pretrain_loss` (plus any regularization losses).

    Subclasses implement ``pretrain_loss(graph, training) -> scalar``. A data element is a
    GraphTensor (or a tuple whose first entry is one; labels are ignored).

    Args:
      backbone: The `Backbone` to pre-train.
      weight_decay: Coupled L2 decay on every trainable variable, ``weight_decay * w``
        added to each gradient (PyTorch's ``Adam(weight_decay=...)``, which GraphMAE's
        published configs use), >= 0.

    Raises:
      ValueError: `weight_decay` is negative.
    """

    def __init__(self, backbone: Backbone, *, weight_decay: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if weight_decay < 0:
            raise ValueError(
                "Received an invalid value for weight_decay, expected a number >= 0. "
                f"Received: weight_decay={weight_decay!r}"
            )
        self.backbone = backbone
        self.weight_decay = float(weight_decay)
        self.loss_tracker = tf.keras.metrics.Mean(name="loss")
        # The objective's random numbers (masks, corruptions, negatives): a generator whose
        # state is a variable, so a crash-safe backup restores it (seeded from Python's
        # `random`, which `tf.keras.utils.set_random_seed` seeds).
        self.random = tf.random.Generator.from_seed(random.randint(1, 2**31 - 1))

    def shuffle(self, values: tf.Tensor) -> tf.Tensor:
        """`values` with its rows in a random order (``tf.random.shuffle`` from `random`)."""
        return tf.gather(values, tf.argsort(self.random.uniform(tf.shape(values)[:1])))

    @property
    def metrics(self):
        return [self.loss_tracker]

    def call(self, graph, training=None):
        return self.backbone(graph, training=training)

    def pretrain_loss(self, graph, training=None) -> tf.Tensor:
        raise NotImplementedError

    @staticmethod
    def _graph(data):
        return data[0] if isinstance(data, (tuple, list)) else data

    def train_step(self, data):
        graph = self._graph(data)
        with tf.GradientTape() as tape:
            loss = self.pretrain_loss(graph, training=True)
            objective = loss
            if self.losses:
                loss += tf.add_n(self.losses)
            if self.weight_decay:
                squares = [tf.reduce_sum(tf.square(v)) for v in self.trainable_variables]
                loss += 0.5 * self.weight_decay * tf.add_n(squares)
            # Replicas' gradients are summed: each contributes its share of the mean loss.
            scaled = loss / tf.distribute.get_strategy().num_replicas_in_sync
        self.optimizer.minimize(scaled, self.trainable_variables, tape=tape)
        self.loss_tracker.update_state(objective if self.weight_decay else loss)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data):
        self.loss_tracker.update_state(self.pretrain_loss(self._graph(data), training=False))
        return {"loss": self.loss_tracker.result()}

    def get_build_config(self):
        return None
