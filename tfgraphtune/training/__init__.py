"""Optimizers, losses, callbacks and evaluation for `model.fit` training."""
