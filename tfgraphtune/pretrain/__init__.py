"""Self-supervised pre-training objectives and pre-trained backbone checkpoints.

Each objective is a `tf.keras.Model` holding a `Backbone`; ``model.compile(optimizer)`` and
``model.fit`` on a data set of graphs (`graph_data` for one graph, `batched_graphs` for
many) train it, and ``backbone.save_pretrained(path, schema=...)`` writes the checkpoint
that `Backbone.from_pretrained` reads.
"""

from tfgraphtune.models.checkpoint import (
    SchemaMismatchError,
    check_schema_compatible,
    read_pretrained,
    save_pretrained,
)
from tfgraphtune.pretrain.attr_mask import AttributeMasking
from tfgraphtune.pretrain.augment import drop_nodes, mask_features, perturb_edges
from tfgraphtune.pretrain.base import PretrainModel, graph_data
from tfgraphtune.pretrain.dgi import DeepGraphInfomax
from tfgraphtune.pretrain.gae import GraphAutoEncoder
from tfgraphtune.pretrain.graph_contrastive import GraphContrastive
from tfgraphtune.pretrain.graph_data import batched_graphs
from tfgraphtune.pretrain.graphmae import GraphMAE
from tfgraphtune.pretrain.probe import linear_probe_accuracy
from tfgraphtune.pretrain.runner import pretrain

__all__ = [
    "AttributeMasking",
    "DeepGraphInfomax",
    "GraphAutoEncoder",
    "GraphContrastive",
    "GraphMAE",
    "PretrainModel",
    "SchemaMismatchError",
    "batched_graphs",
    "check_schema_compatible",
    "drop_nodes",
    "graph_data",
    "linear_probe_accuracy",
    "mask_features",
    "perturb_edges",
    "pretrain",
    "read_pretrained",
    "save_pretrained",
]
