"""LoRA helpers: the LoRA layer itself is `tfgraphtune.layers.LoRAGCNConv`."""

from __future__ import annotations

from tfgraphtune.layers.lora_gcn_conv import LoRAGCNConv
from tfgraphtune.models.backbone import Backbone


def merge_lora(backbone: Backbone, graph) -> Backbone:
    """A plain backbone (no LoRA) whose kernels are ``W + (alpha/r) A B``.

    The same function with no extra inference cost, loadable without LoRA (export).

    Args:
      backbone: A built backbone with ``lora_rank > 0``.
      graph: Any GraphTensor the backbone accepts (builds the new weights).

    Raises:
      ValueError: The backbone has no LoRA layers.
    """
    from tfgraphtune.models.checkpoint import _copy_layer_weights

    if not backbone.lora_rank:
        raise ValueError("the backbone has no LoRA layers (lora_rank=0); nothing to merge.")
    merged = Backbone.from_config({**backbone.get_config(), "lora_rank": 0})
    merged(graph, training=False)
    for source, target in zip(backbone.conv_layers, merged.conv_layers):
        target.kernel.assign(source.merged_kernel())
        if source.use_bias:
            target.bias.assign(source.bias)
    for group in ("norm_layers", "activation_layers", "adapter_layers"):
        for source, target in zip(getattr(backbone, group), getattr(merged, group)):
            _copy_layer_weights(source, target)
    return merged


__all__ = ["LoRAGCNConv", "merge_lora"]
