"""Linear probe: how linearly separable the classes are in frozen embeddings."""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def linear_probe_accuracy(
    embeddings,
    labels,
    train_ids,
    test_ids,
    *,
    runs: int = 50,
    epochs: int = 100,
    learning_rate: float = 0.01,
    seed: int = 0,
) -> np.ndarray:
    """Test accuracy of `runs` logistic regressions trained on frozen embeddings.

    DGI's protocol (Veličković et al., 2019, as in their code): a linear layer with Glorot
    weights and zero bias, Adam at `learning_rate` without weight decay, `epochs` full-batch
    steps of softmax cross-entropy on the training nodes; each run has its own
    initialisation. The runs train together as one batched problem.

    Returns:
      ``[runs]`` test accuracies.
    """
    x = tf.constant(np.asarray(embeddings, np.float32))
    y = np.asarray(labels)
    num_classes = int(y.max()) + 1
    x_train, y_train = tf.gather(x, train_ids), tf.constant(y[train_ids])
    x_test, y_test = tf.gather(x, test_ids), y[test_ids]
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
        optimizer.apply_gradients(zip(tape.gradient(loss, [weights, bias]), [weights, bias]))

    for _ in range(epochs):
        step()
    logits = (tf.einsum("nd,rdc->rnc", x_test, weights) + bias).numpy()
    return (logits.argmax(-1) == y_test[None, :]).mean(axis=1)
