"""Fine-tuning strategies: which parts of a pre-trained backbone move, and how fast.

A strategy is a transform of any task's model, written once: it only touches
``model.backbone`` (the head always trains). The one training path applies it in three
steps, for every task kind:

1. `transform_backbone`: the structure (LoRA factors on the GCN kernels, adapters after
   each level), with the pre-trained weights copied in;
2. `apply`: trainability, extra losses (L2-SP), callbacks (gradual unfreezing);
3. `wrap_optimizer`: per-layer learning rates (discriminative).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import tensorflow as tf

from tfgraphtune.finetune.l2sp import add_l2sp_loss
from tfgraphtune.finetune.multi_optimizer import DiscriminativeOptimizer, layerwise_multipliers
from tfgraphtune.finetune.unfreezing import GradualUnfreezing, backbone_blocks

STRATEGIES = (
    "full",
    "linear_probe",
    "top_k",
    "gradual",
    "discriminative",
    "lora",
    "adapter",
    "l2sp",
)


@dataclasses.dataclass
class FineTuneStrategy:
    """One fine-tuning strategy and its knobs.

    Attributes:
      name: One of `STRATEGIES`:
        ``full`` every weight trains; ``linear_probe`` the backbone is frozen (only the
        head trains); ``top_k`` the top `top_k` backbone levels train; ``gradual`` levels
        unfreeze top-down every `unfreeze_every` epochs (`GradualUnfreezing`);
        ``discriminative`` backbone level ``i`` of ``L`` trains at ``layer_decay ** (L-i)``
        times the learning rate, the head 1 (`DiscriminativeOptimizer`); ``lora``
        rank-`lora_rank` updates on frozen GCN kernels (`LoRAGCNConv`, initialised by
        `lora_init`: PiSSA or Gaussian); ``adapter``
        bottleneck adapters of width `adapter_units` after every level, the rest frozen;
        ``l2sp`` full fine-tuning with ``l2sp_alpha/2 ||w - w0||^2`` toward the
        pre-trained weights.
    """

    name: str = "full"
    top_k: int = 1
    unfreeze_every: int = 10
    layer_decay: float = 0.5
    lora_rank: int = 8
    lora_alpha: float = 16.0
    lora_init: str = "pissa"
    adapter_units: int = 32
    l2sp_alpha: float = 0.01

    def __post_init__(self):
        if self.name not in STRATEGIES:
            raise ValueError(
                f"Received an invalid value for strategy, expected one of {list(STRATEGIES)}. "
                f"Received: strategy={self.name!r}"
            )
        if not isinstance(self.top_k, int) or self.top_k < 0:
            raise ValueError(
                f"Received an invalid value for top_k, expected an integer >= 0. Received: "
                f"top_k={self.top_k!r}"
            )

    @classmethod
    def from_config(cls, config: dict) -> FineTuneStrategy:
        """The strategy of a config's ``finetune`` section."""
        fields = {field.name for field in dataclasses.fields(cls)} - {"name"}
        finetune = config["finetune"]
        return cls(name=finetune["strategy"], **{k: finetune[k] for k in fields if k in finetune})

    def check(self, backbone_config: dict) -> list[str]:
        """Problems applying this strategy to a backbone of that config (empty if none)."""
        if self.name == "lora" and backbone_config.get("conv") != "gcn":
            return [
                f"config key 'finetune.strategy' is 'lora', which wraps GCN kernels, but the "
                f"backbone's conv is {backbone_config.get('conv')!r}; use strategy 'adapter' "
                "or a GCN backbone"
            ]
        return []

    def transform_backbone(self, backbone, graph, *, pretrained: bool):
        """The backbone with this strategy's structure (LoRA/adapters), weights copied in.

        Args:
          backbone: A built `Backbone`.
          graph: A graph the backbone accepts (builds the new layers).
          pretrained: Whether `backbone` holds pre-trained weights (PiSSA then starts the
            LoRA factors from the kernels' top singular vectors).

        Returns:
          `backbone` itself when nothing changes, else a new built `Backbone`.
        """
        from tfgraphtune.models.backbone import Backbone
        from tfgraphtune.models.checkpoint import transfer_weights

        config = backbone.get_config()
        changes = {k: v for k, v in self.backbone_overrides().items() if config.get(k) != v}
        if not changes:
            return backbone
        new = Backbone.from_config({**config, **changes})
        new(graph, training=False)
        transfer_weights(backbone, new)
        if new.lora_rank and not backbone.lora_rank and pretrained:
            for layer in new.conv_layers:
                layer.initialize_from_kernel()
        return new

    def backbone_overrides(self) -> dict[str, Any]:
        """Backbone options this strategy needs (for `Backbone.from_pretrained`)."""
        if self.name == "lora":
            return {
                "lora_rank": self.lora_rank,
                "lora_alpha": self.lora_alpha,
                "lora_init": self.lora_init,
            }
        if self.name == "adapter":
            return {"adapter_units": self.adapter_units}
        return {}

    def apply(self, model: tf.keras.Model) -> list[tf.keras.callbacks.Callback]:
        """Sets the trainability of ``model.backbone`` (and adds losses); returns callbacks.

        Call it on the built model before compiling.
        """
        backbone = model.backbone
        blocks = backbone_blocks(backbone)
        backbone.trainable = True
        for block in blocks:
            for layer in block:
                layer.trainable = True
        if self.name == "linear_probe":
            backbone.trainable = False
        elif self.name == "top_k":
            for block in blocks[: max(len(blocks) - self.top_k, 0)]:
                for layer in block:
                    layer.trainable = False
        elif self.name == "lora":
            if not backbone.lora_rank:
                raise ValueError(
                    "strategy 'lora' needs a backbone built with lora_rank > 0; load it "
                    "with Backbone.from_pretrained(path, **strategy.backbone_overrides())."
                )
            for block in blocks:
                for layer in block[1:]:
                    layer.trainable = False  # LoRAGCNConv freezes its own kernel and bias.
        elif self.name == "adapter":
            if not backbone.adapter_units:
                raise ValueError(
                    "strategy 'adapter' needs a backbone built with adapter_units > 0; load "
                    "it with Backbone.from_pretrained(path, **strategy.backbone_overrides())."
                )
            for block in blocks:
                for layer in block:
                    layer.trainable = layer in backbone.adapter_layers
        elif self.name == "l2sp":
            add_l2sp_loss(model, backbone, self.l2sp_alpha)
        if self.name == "gradual":
            return [GradualUnfreezing(backbone, every=self.unfreeze_every)]
        return []

    def wrap_optimizer(self, optimizer, model: tf.keras.Model):
        """The optimizer to compile with (per-layer rates for ``discriminative``)."""
        if self.name != "discriminative":
            return optimizer
        return DiscriminativeOptimizer(
            optimizer, layerwise_multipliers(model.backbone, self.layer_decay)
        )


def get_strategy(name: str, **options) -> FineTuneStrategy:
    """`FineTuneStrategy` by name, e.g. ``get_strategy("lora", lora_rank=4)``."""
    return FineTuneStrategy(name=name, **options)


def count_params(variables) -> int:
    return int(sum(np.prod(v.shape) for v in variables))


def trainable_fraction(model: tf.keras.Model) -> float:
    """Trainable parameters / all parameters of the model (head included)."""
    total = count_params(model.weights)
    return count_params(model.trainable_weights) / max(total, 1)
