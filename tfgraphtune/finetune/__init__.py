"""Fine-tuning strategies for pre-trained backbones, selectable by name, with any head."""

from tfgraphtune.finetune.l2sp import add_l2sp_loss
from tfgraphtune.finetune.lora import merge_lora
from tfgraphtune.finetune.multi_optimizer import DiscriminativeOptimizer, layerwise_multipliers
from tfgraphtune.finetune.report import before_after, strategy_table, to_markdown
from tfgraphtune.finetune.strategies import (
    STRATEGIES,
    FineTuneStrategy,
    get_strategy,
    trainable_fraction,
)
from tfgraphtune.finetune.unfreezing import GradualUnfreezing

__all__ = [
    "STRATEGIES",
    "DiscriminativeOptimizer",
    "FineTuneStrategy",
    "GradualUnfreezing",
    "add_l2sp_loss",
    "before_after",
    "get_strategy",
    "layerwise_multipliers",
    "merge_lora",
    "strategy_table",
    "to_markdown",
    "trainable_fraction",
]
