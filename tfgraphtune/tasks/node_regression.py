"""Node regression: a real-valued target per node of one graph."""

from __future__ import annotations

from tfgraphtune.tasks.kinds import Regression
from tfgraphtune.tasks.node_task import NodeTask


class NodeRegression(Regression, NodeTask):
    """A number per node, fitted on the training nodes' targets (see `Regression`)."""

    name = "node_regression"
    serving_outputs_doc = (
        "`predictions` [B,N,1] (0 on padding), `embeddings` [B,N,H], `num_nodes` [B]."
    )
