"""Keras layers over GraphTensors."""

from tfgraphtune.layers.adapter import Adapter
from tfgraphtune.layers.gat_conv import GATConv
from tfgraphtune.layers.gatv2_conv import GATv2Conv
from tfgraphtune.layers.gcn_conv import GCNConv
from tfgraphtune.layers.gin_conv import GINConv
from tfgraphtune.layers.lora_gcn_conv import LoRAGCNConv
from tfgraphtune.layers.propagation import precompute_gcn_normalization
from tfgraphtune.layers.sage_conv import SAGEConv
from tfgraphtune.layers.sparse_dropout import SparseInputDropout

__all__ = [
    "Adapter",
    "GATConv",
    "GATv2Conv",
    "GCNConv",
    "GINConv",
    "LoRAGCNConv",
    "SAGEConv",
    "SparseInputDropout",
    "precompute_gcn_normalization",
]
