"""Graph regression: a real-valued target per graph (ESOL solubility, FreeSolv, your tables)."""

from __future__ import annotations

from tfgraphtune.tasks.graph_task import GraphTask
from tfgraphtune.tasks.kinds import Regression


class GraphRegression(Regression, GraphTask):
    """A number per graph (see `Regression`); folds drawn at random (no classes)."""

    name = "graph_regression"
    serving_outputs_doc = (
        "`predictions` [B,1], `embeddings` [B,D] (the pooled readout), `num_nodes` [B]; one "
        "row per request graph."
    )
