"""The explained node's neighbourhood with the important edges drawn heavier (matplotlib).

The layout is concentric by hop distance (the explained node in the centre, its 1-hop
neighbours on the first ring, ...; an explained graph's nodes on one circle), computed
here: it needs no graph-layout library and reads directly as "how far is this evidence
from the prediction".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _layout(nodes: np.ndarray, hops: np.ndarray) -> dict[int, tuple[float, float]]:
    positions = {}
    for hop in np.unique(hops[nodes]):
        ring = nodes[hops[nodes] == hop]
        angles = np.linspace(0.0, 2 * np.pi, len(ring), endpoint=False) + 0.3 * hop
        # A node's explained node sits alone in the centre; a graph's nodes (all hop 0)
        # go on one circle.
        radius = float(hop) if hop > 0 or len(ring) == 1 else 1.0
        for node, angle in zip(ring, angles, strict=True):
            positions[int(node)] = (radius * np.cos(angle), radius * np.sin(angle))
    return positions


def kept_nodes(explanation, max_nodes: int) -> np.ndarray:
    """The nodes drawn: the reachable ones, the most important first when there are more
    than `max_nodes` (the explained node and the top edges' endpoints always kept)."""
    reachable = np.flatnonzero(explanation.hops >= 0)
    if len(reachable) <= max_nodes:
        return reachable
    must = {explanation.index} if explanation.kind == "node" else set()
    for _, source, target, _ in explanation.top_edges(max_nodes // 4):
        must |= {source, target}
    rest = [n for n in reachable if n not in must]
    rest.sort(key=lambda n: -abs(explanation.node_importance[n]))
    return np.array(sorted(must | set(rest[: max(max_nodes - len(must), 0)])), np.int64)


def draw_neighbourhood(explanation, path: str | Path, *, max_nodes: int = 80) -> Path:
    """Draws the explanation's neighbourhood to a PNG at `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nodes = kept_nodes(explanation, max_nodes)
    positions = _layout(nodes, np.maximum(explanation.hops, 0))
    keep = set(int(n) for n in nodes)
    importance = np.abs(explanation.edge_importance)
    scale = float(importance.max()) or 1.0
    fig, ax = plt.subplots(figsize=(7, 7))
    edges = [
        e
        for e in np.argsort(importance, kind="stable")  # Heaviest drawn last (on top).
        if int(explanation.source[e]) in keep and int(explanation.target[e]) in keep
    ]
    for e in edges:
        s, t = int(explanation.source[e]), int(explanation.target[e])
        weight = importance[e] / scale
        positive = explanation.edge_importance[e] >= 0
        ax.annotate(
            "",
            xy=positions[t],
            xytext=positions[s],
            arrowprops={
                "arrowstyle": "-|>",
                "lw": 0.3 + 5.0 * weight,
                "alpha": 0.15 + 0.85 * weight,
                "color": "tab:red" if positive else "tab:blue",
                "shrinkA": 6,
                "shrinkB": 6,
            },
        )
    node_values = explanation.node_importance[nodes]
    node_scale = float(np.abs(node_values).max()) or 1.0
    xy = np.array([positions[int(n)] for n in nodes])
    ax.scatter(
        xy[:, 0],
        xy[:, 1],
        s=60 + 240 * np.abs(node_values) / node_scale,
        c=node_values,
        cmap="coolwarm",
        vmin=-node_scale,
        vmax=node_scale,
        edgecolors="black",
        linewidths=0.5,
        zorder=3,
    )
    if explanation.kind == "node" and explanation.index in keep:
        cx, cy = positions[explanation.index]
        ax.scatter([cx], [cy], s=400, facecolors="none", edgecolors="black", lw=2, zorder=4)
    for n in nodes[: min(len(nodes), 40)]:
        x, y = positions[int(n)]
        ax.text(x, y, str(int(n)), fontsize=6, ha="center", va="center", zorder=5)
    ax.set_title(
        f"{explanation.kind} {explanation.index}, output {explanation.output}: "
        f"{explanation.method} (edge width = importance; red +, blue -)",
        fontsize=9,
    )
    ax.set_axis_off()
    ax.set_aspect("equal")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
