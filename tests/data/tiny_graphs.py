"""Tiny hand-built tables shared by the data tests."""

from __future__ import annotations

import pandas as pd

# A 3-feature citation schema: small enough to write every value by hand.
TINY_SCHEMA = """
node_sets {
  key: "paper"
  value {
    features { key: "feat" value { dtype: DT_FLOAT shape { dim { size: 3 } } } }
    features { key: "label" value { dtype: DT_INT64 } }
  }
}
edge_sets {
  key: "cites"
  value {
    source: "paper"
    target: "paper"
    features { key: "weight" value { dtype: DT_FLOAT } }
  }
}
"""


def papers(ids=("a", "b", "c")) -> pd.DataFrame:
    """Node table: paper i has feat [i, i+1, i+2] and label i % 2."""
    n = len(ids)
    return pd.DataFrame(
        {
            "id": list(ids),
            "feat": [[float(i), float(i + 1), float(i + 2)] for i in range(n)],
            "label": [i % 2 for i in range(n)],
        }
    )


def cites(pairs=(("a", "b"), ("b", "c"))) -> pd.DataFrame:
    """Edge table: edge j has weight j + 0.5."""
    return pd.DataFrame(
        {
            "source": [s for s, _ in pairs],
            "target": [t for _, t in pairs],
            "weight": [j + 0.5 for j in range(len(pairs))],
        }
    )
