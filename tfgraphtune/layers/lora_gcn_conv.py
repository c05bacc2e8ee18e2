"""GCNConv with a trainable low-rank update of its frozen kernel (LoRA, PiSSA)."""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from tfgraphtune.checks import positive_int
from tfgraphtune.layers.conv_base import project
from tfgraphtune.layers.gcn_conv import GCNConv

LORA_INITS = ("pissa", "gaussian")


@tf.keras.utils.register_keras_serializable(package="tfgraphtune")
class LoRAGCNConv(GCNConv):
    """`GCNConv` whose projection is ``H (W + (alpha / r) A B)`` with ``W`` (and ``b``) frozen.

    Hu et al., "LoRA: Low-Rank Adaptation of Large Language Models" (ICLR 2022): the
    pre-trained kernel ``W [F, units]`` stays fixed and only ``A [F, r]`` (random) and
    ``B [r, units]`` (zeros) train, so the layer starts as the pre-trained function and
    trains ``r (F + units)`` instead of ``F units`` parameters. ``H A`` runs before ``B``
    so the extra cost is two thin products.

    Two initialisations of ``A`` and ``B``:

    * ``"pissa"`` (Meng et al., "PiSSA: Principal Singular Values and Singular Vectors
      Adaptation of Large Language Models", NeurIPS 2024): once the pre-trained kernel is
      in place, `initialize_from_kernel` sets ``A = U_r sqrt(S_r / s)``,
      ``B = sqrt(S_r / s) V_r^T`` from the top ``r`` singular triplets of ``W`` (``s`` the
      scale) and freezes the residual ``W - s A B``. The function is unchanged, and the
      update starts in the subspace that carries most of ``W``. `Backbone.from_pretrained`
      calls it. Before that call (e.g. training from scratch) the layer is plain LoRA.
    * ``"gaussian"``: Hu et al.'s init (``A`` random, ``B`` zero). The first updates are
      then ``A A^T`` times the full gradient, a random rank-``r`` projection of it. On
      sparse bag-of-words inputs (Cora's 1433 word features) that spreads each word's
      gradient over every word. With 5 labels per class it fell below full fine-tuning
      (``benchmarks/finetune_strategies.py``).

    Args:
      units: Output channels.
      rank: The rank ``r`` of the update, a positive integer.
      alpha: Scale numerator; the update is multiplied by ``alpha / rank``.
      train_bias: Whether the bias stays trainable (LoRA freezes it by default).
      init: ``"pissa"`` or ``"gaussian"`` (see above).
      **kwargs: Everything `GCNConv` accepts.

    Raises:
      ValueError: `rank`, `alpha` or `init` is invalid.
    """

    def __init__(
        self,
        units: int,
        *,
        rank: int = 8,
        alpha: float = 16.0,
        train_bias: bool = False,
        init: str = "pissa",
        **kwargs: Any,
    ):
        super().__init__(units, **kwargs)
        positive_int("rank", rank)
        if alpha <= 0:
            raise ValueError(
                f"Received an invalid value for alpha, expected a number > 0. Received: "
                f"alpha={alpha!r}"
            )
        if init not in LORA_INITS:
            raise ValueError(
                f"Received an invalid value for init, expected one of {list(LORA_INITS)}. "
                f"Received: init={init!r}"
            )
        self.rank = rank
        self.init = init
        self.alpha = float(alpha)
        self.train_bias = bool(train_bias)

    @property
    def scale(self) -> float:
        return self.alpha / self.rank

    def build(self, input_shape):
        input_dim = self.input_width(input_shape)
        # The pre-trained weights keep their names (kernel, bias) so checkpoints map onto them.
        self.kernel = self.add_kernel(
            "kernel", (input_dim, self.units), fresh=False, trainable=False
        )
        if self.use_bias:
            self.bias = self.add_bias(
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                trainable=self.train_bias,
            )
        # A random and B zero: the product starts at zero and both factors get gradients.
        self.lora_a = self.add_weight(
            name="lora_a",
            shape=(input_dim, self.rank),
            # U(+-1/sqrt(fan_in)), the init of PEFT's LoRA (kaiming_uniform with a=sqrt(5)).
            initializer=tf.keras.initializers.VarianceScaling(1.0 / 3.0, "fan_in", "uniform"),
        )
        self.lora_b = self.add_weight(
            name="lora_b", shape=(self.rank, self.units), initializer="zeros"
        )
        self.built = True

    def project(self, node_states):
        base = project(node_states, self.kernel)
        return base + self.scale * tf.matmul(project(node_states, self.lora_a), self.lora_b)

    def initialize_from_kernel(self) -> None:
        """Moves the top-``rank`` singular part of the current kernel into ``A`` and ``B``.

        For ``init="pissa"``: call it once the pre-trained kernel is loaded. The layer's
        function does not change: ``kernel`` becomes the residual ``W - s A B``. With
        ``init="gaussian"`` it does nothing.

        Raises:
          ValueError: The layer is not built, or ``rank`` exceeds the kernel's rank.
        """
        if self.init != "pissa":
            return
        if not self.built:
            raise ValueError(f"{self.name}: build the layer before initialize_from_kernel().")
        kernel = self.kernel.numpy().astype(np.float64)
        if self.rank > min(kernel.shape):
            raise ValueError(
                f"{self.name}: rank={self.rank} exceeds min{kernel.shape} of the kernel; "
                "choose a smaller lora_rank."
            )
        left, singular, right = np.linalg.svd(kernel, full_matrices=False)
        root = np.sqrt(singular[: self.rank] / self.scale)
        factor_a = left[:, : self.rank] * root
        factor_b = root[:, None] * right[: self.rank]
        self.lora_a.assign(factor_a.astype(self.lora_a.dtype.as_numpy_dtype))
        self.lora_b.assign(factor_b.astype(self.lora_b.dtype.as_numpy_dtype))
        residual = kernel - self.scale * (factor_a @ factor_b)
        self.kernel.assign(residual.astype(self.kernel.dtype.as_numpy_dtype))

    def merged_kernel(self) -> tf.Tensor:
        """``W + (alpha / r) A B``: the kernel of an equivalent plain `GCNConv`."""
        return self.kernel + self.scale * tf.matmul(self.lora_a, self.lora_b)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "rank": self.rank,
            "alpha": self.alpha,
            "train_bias": self.train_bias,
            "init": self.init,
        }
