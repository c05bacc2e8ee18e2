"""tfgraphtune: pre-train and fine-tune graph neural networks on TensorFlow/Keras.

Importing this package selects Keras 2 (tf_keras) for ``tf.keras`` before TensorFlow is
imported, so TF-GNN GraphTensors work whatever ``TF_USE_LEGACY_KERAS`` was set to. The
names below load on first use, so ``import tfgraphtune`` itself stays cheap.
"""

from tfgraphtune import _keras_setup  # noqa: F401  (must run before TensorFlow is imported)
from tfgraphtune._keras_setup import KerasVersionError

__version__ = "0.1.0"

# Public name -> module that defines it.
_LAZY = {
    "Backbone": "tfgraphtune.models.backbone",
    "NodeModel": "tfgraphtune.models.tasks.node_classification",
    "GraphModel": "tfgraphtune.models.tasks.graph_classification",
    "LinkModel": "tfgraphtune.models.tasks.link_prediction",
    "GCNConv": "tfgraphtune.layers.gcn_conv",
    "load_dataset": "tfgraphtune.data.datasets.registry",
    "load_schema": "tfgraphtune.data.schema",
    "graph_from_tables": "tfgraphtune.data.tables",
    "ValidationError": "tfgraphtune.data.errors",
    "load_config": "tfgraphtune.training.config",
    "train": "tfgraphtune.training.runner",
    "evaluate": "tfgraphtune.training.runner",
}

__all__ = ["KerasVersionError", "__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tfgraphtune' has no attribute {name!r}")
