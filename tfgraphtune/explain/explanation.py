"""One explained prediction: importances, tables, JSON and the neighbourhood picture."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np


@dataclasses.dataclass
class Explanation:
    """Feature and edge importances of one prediction.

    Attributes:
      kind: ``"node"`` or ``"graph"``.
      index: The explained node id (a row of the graph's node set) or graph index.
      method: ``"ig"`` or ``"gnnexplainer"``.
      output: The explained output column (the predicted class unless asked otherwise).
      prediction: The model's outputs for the explained row (logits or values).
      feature_importance: ``[F]`` per input feature: for IG the attributions summed over
        the nodes (signed), for GNNExplainer the learned feature mask.
      edge_importance: ``[E]`` per edge: IG attribution (signed) or the edge mask.
      node_importance: ``[N]`` per node: IG attributions summed over its features (signed);
        for GNNExplainer the masked feature mass ``sum_f |x_nf| sigma(F_f)`` of nodes in scope.
      source, target: ``[E]`` edge endpoints (node ids).
      hops: ``[N]`` hop distance of every node from the explained node (-1: unreachable);
        for a graph, 0 everywhere.
      details: Method facts (IG's end scores and completeness error, GNNExplainer's loss).
    """

    kind: str
    index: int
    method: str
    output: int
    prediction: np.ndarray
    feature_importance: np.ndarray
    edge_importance: np.ndarray
    node_importance: np.ndarray
    source: np.ndarray
    target: np.ndarray
    hops: np.ndarray
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    def top_features(self, k: int = 10) -> list[tuple[int, float]]:
        """``(feature, importance)`` of the `k` features of largest absolute importance."""
        order = np.argsort(-np.abs(self.feature_importance), kind="stable")[:k]
        return [(int(f), float(self.feature_importance[f])) for f in order]

    def top_edges(self, k: int = 10) -> list[tuple[int, int, int, float]]:
        """``(edge, source, target, importance)`` of the `k` edges of largest absolute
        importance (edges that cannot reach the explained row are left out)."""
        candidates = np.flatnonzero(self.edge_importance != 0)
        order = candidates[np.argsort(-np.abs(self.edge_importance[candidates]), kind="stable")]
        return [
            (int(e), int(self.source[e]), int(self.target[e]), float(self.edge_importance[e]))
            for e in order[:k]
        ]

    def to_json(self, k: int = 10) -> dict[str, Any]:
        """The explanation's summary (top features and edges) as JSON-ready values."""
        return {
            "kind": self.kind,
            "index": self.index,
            "method": self.method,
            "output": self.output,
            "prediction": [float(v) for v in self.prediction],
            "top_features": [{"feature": f, "importance": v} for f, v in self.top_features(k)],
            "top_edges": [
                {"edge": e, "source": s, "target": t, "importance": v}
                for e, s, t, v in self.top_edges(k)
            ],
            "details": self.details,
        }

    def table(self, k: int = 10) -> str:
        """The top features and edges as two text tables."""
        what = "attribution" if self.method == "ig" else "mask"
        lines = [
            f"{self.kind} {self.index}: output {self.output} "
            f"(score {float(self.prediction[self.output]):.4f}), method {self.method}",
            "",
            f"{'rank':>4}  {'feature':>8}  {what:>12}",
        ]
        for rank, (feature, value) in enumerate(self.top_features(k), 1):
            lines.append(f"{rank:>4}  {feature:>8}  {value:>12.5f}")
        lines += ["", f"{'rank':>4}  {'source':>8}  {'target':>8}  {what:>12}"]
        for rank, (_, source, target, value) in enumerate(self.top_edges(k), 1):
            lines.append(f"{rank:>4}  {source:>8}  {target:>8}  {value:>12.5f}")
        if "completeness_error" in self.details:
            d = self.details
            lines += [
                "",
                f"completeness: sum of attributions {d['attribution_sum']:.5f}, "
                f"f(input) - f(baseline) = {d['score'] - d['baseline_score']:.5f} "
                f"(error {d['completeness_error']:.2e})",
            ]
        return "\n".join(lines)

    def save(self, out: str | Path, *, k: int = 10, max_nodes: int = 80) -> dict[str, Path]:
        """Writes ``explanation.json`` and ``explanation.png`` into `out`.

        Returns:
          ``{"json": path, "png": path}``.
        """
        from tfgraphtune.explain.picture import draw_neighbourhood

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"json": out / "explanation.json", "png": out / "explanation.png"}
        paths["json"].write_text(json.dumps(self.to_json(k), indent=2))
        draw_neighbourhood(self, paths["png"], max_nodes=max_nodes)
        return paths
