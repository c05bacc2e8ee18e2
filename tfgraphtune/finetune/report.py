"""The "before / after" report: the same test metrics for several ways of training, side by side."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

BEFORE_AFTER = ("scratch", "linear_probe", "full")


def strategy_table(
    accuracies: Mapping[str, Sequence[float]],
    fractions: Mapping[str, float] | None = None,
    *,
    reference: str = "scratch",
) -> pd.DataFrame:
    """One row per strategy: mean, std and count of the per-seed test accuracies, the gain
    over `reference` in points, and the trainable-parameter fraction."""
    rows = []
    base = float(np.mean(accuracies[reference])) if reference in accuracies else None
    for name, values in accuracies.items():
        mean = float(np.mean(values))
        rows.append(
            {
                "strategy": name,
                "accuracy_mean": mean,
                "accuracy_std": float(np.std(values)),
                "seeds": len(values),
                f"vs_{reference}_points": None if base is None else 100 * (mean - base),
                "trainable_fraction": (fractions or {}).get(name),
            }
        )
    return pd.DataFrame(rows).set_index("strategy")


def before_after(accuracies: Mapping[str, Sequence[float]], fractions=None) -> pd.DataFrame:
    """The pre-trained-then-fine-tuned model (``full``), the from-scratch model and the frozen
    linear probe, side by side (the rows of `strategy_table` for those three).

    Raises:
      KeyError: One of the three is missing, naming it.
    """
    missing = [name for name in BEFORE_AFTER if name not in accuracies]
    if missing:
        raise KeyError(f"the before/after report needs results for {missing}.")
    return strategy_table({k: accuracies[k] for k in BEFORE_AFTER}, fractions)


def to_markdown(table: pd.DataFrame) -> str:
    """A markdown table (no extra dependency: pandas' own needs `tabulate`)."""
    header = ["strategy", *table.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, *row in table.itertuples():
        cells = []
        for value in row:
            if value is None or (isinstance(value, float) and np.isnan(value)):
                cells.append("–")
            elif isinstance(value, float):
                cells.append(f"{value:.4f}")
            else:
                cells.append(str(value))
        lines.append("| " + " | ".join([str(name), *cells]) + " |")
    return "\n".join(lines)
