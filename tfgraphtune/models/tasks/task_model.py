"""`TaskModel`: what every task's Keras model shares (a backbone inside, built by a call)."""

from __future__ import annotations

import tensorflow as tf


def serialize_unbuilt(layer: tf.keras.layers.Layer) -> dict:
    """``tf.keras.layers.serialize`` without the build config.

    A built backbone records its input shape, and deserializing would build it from a
    symbolic tensor instead of a GraphTensor; the weights are created on the first call.
    """
    config = tf.keras.layers.serialize(layer)
    config.pop("build_config", None)
    return config


class TaskModel(tf.keras.Model):
    """Base of `NodeModel`, `GraphModel` and `LinkModel`: a ``backbone`` plus task layers.

    Subclasses list their own options in `task_config` (everything but the backbone);
    `get_config` / `from_config` round-trip the backbone for them.
    """

    def task_config(self) -> dict:
        """The constructor arguments other than the backbone."""
        raise NotImplementedError

    def get_config(self) -> dict:
        return {
            "name": self.name,
            "backbone": serialize_unbuilt(self.backbone),
            **self.task_config(),
        }

    def get_build_config(self):
        # Built by its first call on a GraphTensor; an input shape cannot rebuild it.
        return None

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        config["backbone"] = tf.keras.layers.deserialize(config["backbone"])
        return cls(**config)


class HeadedModel(TaskModel):
    """A `TaskModel` whose task layers are one `Head` (node and graph models).

    Args:
      backbone: The `Backbone`.
      units: Number of classes (classification) or targets (regression).
      head: The `Head` kind.
      head_dropout: Dropout rate on the head's input.
      head_hidden_units: Hidden width of an ``"mlp"`` head.
      target_mean: Regression only: the head predicts ``target_mean + target_std * z``
        (see `Head`); None for classification.
      target_std: See `target_mean`.
    """

    def __init__(
        self,
        backbone,
        units: int,
        *,
        head: str = "linear",
        head_dropout: float = 0.0,
        head_hidden_units: int = 64,
        target_mean: float | None = None,
        target_std: float | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        from tfgraphtune.models.tasks.heads import Head

        self.backbone = backbone
        self.units = units
        self.head = Head(
            units,
            kind=head,
            hidden_units=head_hidden_units,
            dropout=head_dropout,
            target_mean=target_mean,
            target_std=target_std,
            name="head",
        )

    def task_config(self) -> dict:
        return {
            "units": self.units,
            "head": self.head.kind,
            "head_dropout": self.head.dropout,
            "head_hidden_units": self.head.hidden_units,
            "target_mean": self.head.target_mean,
            "target_std": self.head.target_std,
        }
