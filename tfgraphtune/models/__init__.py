"""The Backbone, its checkpoints, and the task models (heads) built on it."""

from tfgraphtune.models.backbone import Backbone
from tfgraphtune.models.mlp_backbone import MLPBackbone
from tfgraphtune.models.tasks.graph_classification import GraphModel
from tfgraphtune.models.tasks.heads import Head
from tfgraphtune.models.tasks.link_prediction import LinkModel
from tfgraphtune.models.tasks.node_classification import NodeModel

__all__ = ["Backbone", "GraphModel", "Head", "LinkModel", "MLPBackbone", "NodeModel"]
