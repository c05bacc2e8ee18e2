"""Exact ROC-AUC and average precision against values worked out by hand."""

from __future__ import annotations

import pytest

from tfgraphtune.training.ranking_metrics import average_precision, roc_auc


@pytest.mark.parametrize(
    "labels, scores, auc, ap",
    [
        # Positives 0.35, 0.8 against negatives 0.1, 0.4: 3 of 4 pairs ordered -> 0.75.
        # Ranked 0.8+ 0.4- 0.35+ 0.1-: AP = 0.5 * 1 + 0.5 * 2/3 = 5/6.
        ([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 0.75, 5 / 6),
        # A tie counts one half; one threshold: precision 1/2 at recall 1.
        ([0, 1], [0.5, 0.5], 0.5, 0.5),
        # Perfect and reversed rankings.
        ([0, 1, 1], [0.0, 1.0, 2.0], 1.0, 1.0),
        # Positive 1.0 below negatives 2, 3: AUC 0; AP = precision 1/3 at recall 1.
        ([1, 0, 0], [1.0, 2.0, 3.0], 0.0, 1 / 3),
        # Tie between a positive and a negative at the top (2+, 2-), then 1+:
        # pairs: (2+ vs 2-) 1/2, (1+ vs 2-) 0 -> AUC 1/4; thresholds: 2 -> P 1/2 R 1/2,
        # 1 -> P 2/3 R 1 -> AP = 1/4 + 1/3 = 7/12.
        ([1, 0, 1], [2.0, 2.0, 1.0], 0.25, 7 / 12),
    ],
    ids=["brief_example", "tie", "perfect", "reversed", "tie_at_top"],
)
def test_hand_values(labels, scores, auc, ap):
    assert roc_auc(labels, scores) == pytest.approx(auc)
    assert average_precision(labels, scores) == pytest.approx(ap)


@pytest.mark.parametrize(
    "labels, scores, message",
    [
        ([1, 1], [0.1, 0.2], "both positive and negative"),
        ([0, 1], [0.1], "same length"),
        ([0, 2], [0.1, 0.2], "must be 0 or 1"),
        ([0, 1], [0.1, float("nan")], "finite"),
    ],
    ids=["one_class", "lengths", "labels", "nan"],
)
def test_invalid_inputs_raise(labels, scores, message):
    for metric in (roc_auc, average_precision):
        with pytest.raises(ValueError, match=message):
            metric(labels, scores)
