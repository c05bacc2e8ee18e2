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
    # Models and layers.
    "Backbone": "tfgraphtune.models.backbone",
    "NodeModel": "tfgraphtune.models.tasks.node_classification",
    "GraphModel": "tfgraphtune.models.tasks.graph_classification",
    "LinkModel": "tfgraphtune.models.tasks.link_prediction",
    "Head": "tfgraphtune.models.tasks.heads",
    "GCNConv": "tfgraphtune.layers.gcn_conv",
    "full_batch_inputs": "tfgraphtune.models.tasks.node_classification",
    "graph_batches": "tfgraphtune.models.tasks.graph_classification",
    "split_edges": "tfgraphtune.models.tasks.link_prediction",
    # Data.
    "load_dataset": "tfgraphtune.data.datasets.registry",
    "load_schema": "tfgraphtune.data.schema",
    "graph_from_tables": "tfgraphtune.data.tables",
    "Preprocessing": "tfgraphtune.data.preprocessing",
    "ValidationError": "tfgraphtune.data.errors",
    # Tasks and the one training path.
    "Task": "tfgraphtune.tasks.base",
    "TaskData": "tfgraphtune.tasks.base",
    "get_task": "tfgraphtune.tasks",
    "task_names": "tfgraphtune.tasks",
    "load_config": "tfgraphtune.training.config",
    "ConfigError": "tfgraphtune.training.config",
    "train": "tfgraphtune.training.train",
    "evaluate_run": "tfgraphtune.training.train",
    "RunResult": "tfgraphtune.training.train",
    "load_run": "tfgraphtune.training.run_folder",
    "run_pipeline": "tfgraphtune.training.pipeline",
    "FineTuneStrategy": "tfgraphtune.finetune.strategies",
    # Not "pretrain": that name is the subpackage `tfgraphtune.pretrain`, which shadows a
    # lazy attribute once imported.
    "pretrain_backbone": "tfgraphtune.pretrain.runner:pretrain",
    # Serving.
    "export_model": "tfgraphtune.serving.exporter",
    "export_run": "tfgraphtune.serving.exporter",
    # Notebooks and scripts.
    "quiet_tensorflow": "tfgraphtune.quiet",
    "set_progress": "tfgraphtune.training.progress",
    "write_report": "tfgraphtune.reporting.html_report",
}

__all__ = ["KerasVersionError", "__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, _, attribute = _LAZY[name].partition(":")
        return getattr(importlib.import_module(module), attribute or name)
    raise AttributeError(f"module 'tfgraphtune' has no attribute {name!r}")
