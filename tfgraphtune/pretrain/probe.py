"""Linear probe: how linearly separable the classes are in frozen embeddings."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

# The two published protocols, as keyword arguments of `linear_probe_accuracy`.
PROBE_PROTOCOLS = {
    # Veličković et al., DGI (ICLR 2019), and PyG's DGI example: fixed 100 epochs.
    "dgi": {"epochs": 100, "learning_rate": 0.01, "weight_decay": 0.0, "select_on": None},
    # Hou et al., GraphMAE (KDD 2022), Cora: 300 epochs, weight decay 1e-4, and the test
    # accuracy of the epoch with the best validation accuracy (their "estp_test_acc").
    "graphmae": {
        "epochs": 300,
        "learning_rate": 0.01,
        "weight_decay": 1e-4,
        "select_on": "validation",
    },
}


def linear_probe_accuracy(
    embeddings,
    labels,
    train_ids,
    test_ids,
    *,
    validation_ids=None,
    runs: int = 50,
    epochs: int = 100,
    learning_rate: float = 0.01,
    weight_decay: float = 0.0,
    select_on: str | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Test accuracy of `runs` logistic regressions trained on frozen embeddings.

    A linear layer with Glorot weights and zero bias, Adam at `learning_rate`, `epochs`
    full-batch steps of softmax cross-entropy on the training nodes; each run has its own
    initialisation, and the runs train together as one batched problem. `weight_decay`
    adds ``weight_decay * w`` to every gradient (PyTorch's ``Adam(weight_decay=...)``, on
    weights and bias). `PROBE_PROTOCOLS` holds DGI's and GraphMAE's settings.

    Args:
      embeddings: ``[N, D]`` frozen node embeddings.
      labels: ``[N]`` integer classes.
      train_ids: Nodes the probe trains on.
      test_ids: Nodes it is scored on.
      validation_ids: Nodes for ``select_on="validation"``.
      runs: Number of independent initialisations.
      epochs: Full-batch training steps.
      learning_rate: Adam's learning rate.
      weight_decay: Coupled L2 weight decay, >= 0.
      select_on: None scores the last epoch; ``"validation"`` scores, per run, the last
        epoch whose validation accuracy is the best so far (GraphMAE's ``>=`` rule).
      seed: Seed of the first run's initialisation (run ``r`` uses ``seed + r``).

    Returns:
      ``[runs]`` test accuracies.

    Raises:
      ValueError: ``select_on="validation"`` without `validation_ids`, or an unknown
        `select_on`.
    """
    if select_on not in (None, "validation"):
        raise ValueError(
            "Received an invalid value for select_on, expected None or 'validation'. "
            f"Received: select_on={select_on!r}"
        )
    if select_on == "validation" and validation_ids is None:
        raise ValueError("select_on='validation' needs validation_ids.")
    x = tf.constant(np.asarray(embeddings, np.float32))
    y = np.asarray(labels)
    num_classes = int(y.max()) + 1
    x_train, y_train = tf.gather(x, train_ids), tf.constant(y[train_ids])
    dim = int(x.shape[-1])
    weights = tf.Variable(
        tf.stack(
            [
                tf.keras.initializers.GlorotUniform(seed=seed + run)((dim, num_classes))
                for run in range(runs)
            ]
        )
    )
    bias = tf.Variable(tf.zeros((runs, 1, num_classes)))
    optimizer = tf.keras.optimizers.Adam(learning_rate)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            logits = tf.einsum("nd,rdc->rnc", x_train, weights) + bias
            labels_r = tf.broadcast_to(y_train, [runs, len(train_ids)])
            loss = tf.reduce_sum(
                tf.reduce_mean(
                    tf.nn.sparse_softmax_cross_entropy_with_logits(labels_r, logits), axis=1
                )
            )
            if weight_decay:
                loss += 0.5 * weight_decay * (tf.reduce_sum(weights**2) + tf.reduce_sum(bias**2))
        optimizer.apply_gradients(zip(tape.gradient(loss, [weights, bias]), [weights, bias]))

    def accuracy(ids):
        logits = (tf.einsum("nd,rdc->rnc", tf.gather(x, ids), weights) + bias).numpy()
        return (logits.argmax(-1) == y[ids][None, :]).mean(axis=1)

    validation_history, test_history = [], []
    for _ in range(epochs):
        step()
        if select_on == "validation":
            validation_history.append(accuracy(validation_ids))
            test_history.append(accuracy(test_ids))
    if select_on == "validation":
        return select_by_validation(np.stack(validation_history), np.stack(test_history))
    return accuracy(test_ids)


def select_by_validation(validation: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Per run, the test score of the last epoch with the best validation score.

    Args:
      validation: ``[epochs, runs]`` validation scores.
      test: ``[epochs, runs]`` test scores.

    Returns:
      ``[runs]`` test scores (ties go to the later epoch, as GraphMAE's ``>=``).
    """
    validation, test = np.asarray(validation), np.asarray(test)
    last_best = validation.shape[0] - 1 - np.argmax(validation[::-1], axis=0)
    return test[last_best, np.arange(validation.shape[1])]
