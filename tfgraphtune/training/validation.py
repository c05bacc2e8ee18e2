"""Validation over one iterator kept for the whole ``fit`` (sampled inputs).

Keras' ``fit`` re-creates the validation data set's iterator for every validation pass.
For a plain data set that is cheap; for sampled subgraphs it is not: the iterator
instantiates TF-GNN's sampling function (thousands of ops) again, 2-4 s per epoch on Cora
against 0.1 s for the validation steps themselves. Keras has no option to keep a
validation iterator, so this callback runs the model's own compiled test function over an
iterator made once, and adds the ``val_`` metrics to the epoch's logs before the callbacks
after it (early stopping, checkpoints, history) read them.
"""

from __future__ import annotations

import tensorflow as tf


class PersistentValidation(tf.keras.callbacks.Callback):
    """Validates at the end of each epoch over one iterator of `data`.

    Put it before every callback that reads ``val_`` logs.

    Args:
      data: What ``model.fit`` would take as ``validation_data`` (a repeating data set,
        plain or distributed).
      steps: Steps of one validation pass.
    """

    def __init__(self, data, *, steps: int):
        super().__init__()
        self.data = data
        self.steps = int(steps)
        self._iterator = None

    def on_train_begin(self, logs=None):
        self._iterator = iter(self.data)

    def on_epoch_end(self, epoch, logs=None):
        model = self.model
        test_function = model.make_test_function()
        model.reset_metrics()
        results = {}
        for _ in range(self.steps):
            results = test_function(self._iterator)
        if logs is not None:
            logs.update({f"val_{name}": float(value) for name, value in results.items()})
