"""tf.distribute strategies, per-replica inputs and neighbour sampling for the train path."""

from tfgraphtune.distribute.strategy import (
    DISTRIBUTIONS,
    is_chief,
    split_cpu,
    strategy_from_config,
)

__all__ = ["DISTRIBUTIONS", "is_chief", "split_cpu", "strategy_from_config"]
