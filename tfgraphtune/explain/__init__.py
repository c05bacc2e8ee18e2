"""Why a model predicted what it did: feature and edge attributions for one prediction.

Two methods, both over the node features and a per-edge weight that every convolution
multiplies its messages by (`tfgraphtune.layers.propagation.EDGE_MASK`):

* integrated gradients (Sundararajan et al., ICML 2017), `integrated_gradients`;
* a GNNExplainer-style learned soft mask (Ying et al., NeurIPS 2019), `gnn_explainer`.

`explain_run` explains one node (node tasks) or one graph (graph tasks) of a run folder;
`Explanation` holds the result, its tables, JSON and picture.
"""

from tfgraphtune.explain.explanation import Explanation
from tfgraphtune.explain.gnnexplainer import gnn_explainer
from tfgraphtune.explain.integrated_gradients import integrated_gradients
from tfgraphtune.explain.run import METHODS, explain_model, explain_run

__all__ = [
    "METHODS",
    "Explanation",
    "explain_model",
    "explain_run",
    "gnn_explainer",
    "integrated_gradients",
]
