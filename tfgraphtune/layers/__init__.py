"""Keras layers over GraphTensors."""

from tfgraphtune.layers.gatv2_conv import GATv2Conv
from tfgraphtune.layers.gcn_conv import GCNConv
from tfgraphtune.layers.gin_conv import GINConv
from tfgraphtune.layers.propagation import precompute_gcn_normalization
from tfgraphtune.layers.sage_conv import SAGEConv
from tfgraphtune.layers.sparse_dropout import SparseInputDropout

__all__ = [
    "GATv2Conv",
    "GCNConv",
    "GINConv",
    "SAGEConv",
    "SparseInputDropout",
    "precompute_gcn_normalization",
]
