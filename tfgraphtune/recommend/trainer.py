"""Training of embedding recommenders with BPR (and optionally SimGCL) through `model.fit`."""

from __future__ import annotations

import math
import time

import numpy as np
import tensorflow as tf

from tfgraphtune.data.errors import ValidationError
from tfgraphtune.recommend.contrastive import simgcl_loss
from tfgraphtune.recommend.losses import bpr_loss, l2_embedding_loss
from tfgraphtune.recommend.negatives import triples_dataset


class _PairwiseTrainer(tf.keras.Model):
    """Wraps a recommender with the BPR (+ L2, + contrastive) `train_step`.

    The wrapper is not saved; only the recommender it trains is.
    """

    def __init__(
        self,
        recommender,
        *,
        l2: float,
        bpr_weight: float,
        contrastive_weight: float,
        noise_eps: float,
        temperature: float,
    ):
        super().__init__()
        self.recommender = recommender
        self.l2 = l2
        self.bpr_weight = bpr_weight
        self.contrastive_weight = contrastive_weight
        self.noise_eps = noise_eps
        self.temperature = temperature

    def call(self, inputs, training=None):
        return self.recommender(inputs, training=training)

    def train_step(self, data):
        users, positives, negatives = data
        model = self.recommender
        with tf.GradientTape() as tape:
            user_final, item_final = model.propagate(training=True)
            user_vectors = tf.gather(user_final, users)
            positive = tf.reduce_sum(user_vectors * tf.gather(item_final, positives), -1)
            negative = tf.reduce_sum(user_vectors * tf.gather(item_final, negatives), -1)
            ranking = bpr_loss(positive, negative)
            regularizer = l2_embedding_loss(
                tf.gather(model.user_embeddings, users),
                tf.gather(model.item_embeddings, positives),
                tf.gather(model.item_embeddings, negatives),
                batch_size=tf.shape(users)[0],
            )
            loss = self.bpr_weight * ranking + self.l2 * regularizer
            contrastive = tf.constant(0.0)
            if self.contrastive_weight:
                contrastive = simgcl_loss(
                    model,
                    users,
                    positives,
                    noise_eps=self.noise_eps,
                    temperature=self.temperature,
                )
                loss += self.contrastive_weight * contrastive
        variables = model.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return {
            "loss": loss,
            "bpr_loss": ranking,
            "l2_loss": regularizer,
            "contrastive_loss": contrastive,
        }


class EpochTimer(tf.keras.callbacks.Callback):
    """Records the wall-clock seconds of every epoch in ``seconds``."""

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def _check(name: str, value, *, minimum: float, integer: bool = False) -> None:
    kind = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, kind) or value < minimum:
        what = "an integer" if integer else "a number"
        raise ValidationError(
            f"Received an invalid value for {name}, expected {what} >= {minimum}. "
            f"Received: {name}={value!r}"
        )


def fit_recommender(
    model,
    split,
    *,
    epochs: int = 50,
    batch_size: int = 2048,
    learning_rate: float = 1e-3,
    l2: float = 1e-4,
    contrastive_weight: float = 0.0,
    bpr_weight: float = 1.0,
    noise_eps: float = 0.1,
    temperature: float = 0.2,
    seed: int = 0,
    callbacks=None,
    verbose: int = 0,
) -> tf.keras.callbacks.History:
    """Trains an embedding recommender on a split's training pairs with `model.fit`.

    Each epoch visits every training pair once as a (user, positive, negative) triple,
    in a fresh order with fresh negatives (`negatives.triples_dataset`), and minimises

        bpr_weight * BPR + l2 * L2(ego embeddings of the batch)
        + contrastive_weight * SimGCL InfoNCE

    with Adam (He et al.'s LightGCN setup: Adam, lr 1e-3, L2 1e-4, batch 2048).
    Given the seed, the data order, the negatives, the initial weights (if the model
    is created after `tf.keras.utils.set_random_seed(seed)`) and the noise are fixed.

    Args:
      model: An `EmbeddingRecommender` (LightGCN, MatrixFactorization) sized for the split.
      split: A `RecommendationSplit`.
      epochs: Passes over the training pairs.
      batch_size: Triples per step.
      learning_rate: Adam's learning rate.
      l2: Weight of the L2 penalty on the batch's ego embeddings.
      contrastive_weight: Weight lambda of SimGCL's loss (0 = off).
      bpr_weight: Weight of the BPR loss; 0 with contrastive_weight > 0 is
        contrastive pre-training.
      noise_eps: SimGCL's noise magnitude.
      temperature: SimGCL's InfoNCE temperature.
      seed: Fixes data order, negatives and noise.
      callbacks: Extra Keras callbacks.
      verbose: Keras `fit` verbosity.

    Returns:
      The Keras History; ``history.history["epoch_seconds"]`` holds each epoch's seconds.
    """
    _check("epochs", epochs, minimum=1, integer=True)
    _check("batch_size", batch_size, minimum=1, integer=True)
    for name, value in (
        ("learning_rate", learning_rate),
        ("l2", l2),
        ("contrastive_weight", contrastive_weight),
        ("bpr_weight", bpr_weight),
        ("noise_eps", noise_eps),
    ):
        _check(name, value, minimum=0.0)
    _check("temperature", temperature, minimum=1e-6)
    if bpr_weight == 0 and contrastive_weight == 0:
        raise ValidationError("bpr_weight and contrastive_weight are both 0: nothing to train.")
    if model.num_users != split.num_users or model.num_items != split.num_items:
        raise ValidationError(
            f"The model is sized for {model.num_users} users and {model.num_items} items; "
            f"the split has {split.num_users} and {split.num_items}. Build it with "
            "from_split(split)."
        )
    tf.random.set_seed(seed)
    trainer = _PairwiseTrainer(
        model,
        l2=float(l2),
        bpr_weight=float(bpr_weight),
        contrastive_weight=float(contrastive_weight),
        noise_eps=float(noise_eps),
        temperature=float(temperature),
    )
    trainer.compile(optimizer=tf.keras.optimizers.Adam(learning_rate))
    dataset = triples_dataset(split, batch_size=batch_size, seed=seed, epochs=epochs)
    pairs = int(
        np.sum(
            np.bincount(split.train.users, minlength=split.num_users)[split.train.users]
            < split.num_items
        )
    )
    timer = EpochTimer()
    history = trainer.fit(
        dataset,
        epochs=epochs,
        steps_per_epoch=math.ceil(pairs / batch_size),
        callbacks=[timer, *(callbacks or [])],
        verbose=verbose,
    )
    history.history["epoch_seconds"] = list(timer.seconds)
    return history
