"""Full-ranking metrics checked by hand, seen-item masking and chunking."""

from __future__ import annotations

import numpy as np
import pytest

from tfgraphtune.recommend.evaluation import evaluate_rankings, top_k
from tfgraphtune.recommend.interactions import Interactions
from tfgraphtune.recommend.splits import RecommendationSplit, random_split
from tfgraphtune.recommend.synthetic import synthetic_interactions


def _split(train_pairs, test_pairs, num_users, num_items) -> RecommendationSplit:
    def events(pairs):
        users, items = (np.asarray(column) for column in zip(*pairs))
        return Interactions(
            users=users, items=items, user_ids=np.arange(num_users), item_ids=np.arange(num_items)
        )

    return RecommendationSplit(train=events(train_pairs), test=events(test_pairs))


# Three users, six items. Training: u0 saw item 0, u1 item 1, u2 item 2 (each given the
# top score, so they must be masked). Test: u0 {3, 4}, u1 {5}, u2 {0}.
SPLIT = _split([(0, 0), (1, 1), (2, 2)], [(0, 3), (0, 4), (1, 5), (2, 0)], 3, 6)
SCORES = np.array(
    [
        [9, 5, 4, 3, 2, 1],  # u0 ranks 1, 2, 3, 4, 5: test items at ranks 3 and 4
        [8, 100, 7, 6, 5, 10],  # u1 ranks 5, 0, 2, 3, 4: its test item at rank 1
        [8, 9, 100, 7, 6, 5],  # u2 ranks 1, 0, 3, 4, 5: its test item at rank 2
    ],
    dtype=np.float32,
)


def test_three_user_example_by_hand():
    metrics = evaluate_rankings(SCORES, SPLIT, ks=(1, 3))
    # @1: only u1 hits (rank 1): every metric is (0 + 1 + 0) / 3.
    for name in ("recall", "ndcg", "precision", "hit_rate", "mrr"):
        assert metrics[f"{name}@1"] == pytest.approx(1 / 3)
    # Recall@3: u0 finds 1 of 2 test items, u1 1 of 1, u2 1 of 1 -> (0.5 + 1 + 1) / 3.
    assert metrics["recall@3"] == pytest.approx(2.5 / 3)
    # NDCG@3: u0 DCG = 1/log2(3 + 1) = 0.5, IDCG = 1 + 1/log2(3) = 1.63093 (2 relevant)
    # -> 0.306574; u1 = 1; u2 DCG = 1/log2(2 + 1) = 0.630930, IDCG = 1 -> 0.630930.
    # Mean (0.306574 + 1 + 0.630930) / 3 = 0.645835.
    assert metrics["ndcg@3"] == pytest.approx(0.645835, abs=1e-6)
    assert metrics["precision@3"] == pytest.approx(1 / 3)  # one hit each in 3
    assert metrics["hit_rate@3"] == pytest.approx(1.0)
    # MRR@3: first hits at ranks 3, 1, 2 -> (1/3 + 1 + 1/2) / 3 = 0.611111.
    assert metrics["mrr@3"] == pytest.approx(0.611111, abs=1e-6)
    # Coverage: top-1 items {1, 5, 1} -> 2 of 6; top-3 {1,2,3} | {5,0,2} | {1,0,3} -> 5 of 6.
    assert metrics["coverage@1"] == pytest.approx(2 / 6)
    assert metrics["coverage@3"] == pytest.approx(5 / 6)
    assert metrics["num_users"] == 3


def test_top_k_never_returns_seen_items_and_pads_short_lists():
    items, scores = top_k(SCORES, SPLIT, [0, 1, 2], 6)
    assert items[:, :5].tolist() == [[1, 2, 3, 4, 5], [5, 0, 2, 3, 4], [1, 0, 3, 4, 5]]
    # Each user has 5 unseen items: the sixth slot is empty.
    assert items[:, 5].tolist() == [-1, -1, -1] and np.isneginf(scores[:, 5]).all()
    assert scores[1, :2].tolist() == [10.0, 8.0]
    kept, _ = top_k(SCORES, SPLIT, [1], 1, exclude_seen=False)
    assert kept.tolist() == [[1]]  # the seen item when masking is off


def test_seen_items_never_recommended_on_a_larger_split():
    events = synthetic_interactions(num_users=80, num_items=50, seed=2)
    split = random_split(events, test_ratio=0.2, seed=0)
    # Scores that prefer exactly the training items: the mask must remove them all.
    favour_seen = split.train_matrix().toarray() * 100.0 + np.random.default_rng(0).random((80, 50))
    items, _ = top_k(favour_seen, split, np.arange(80), 20, chunk_size=7)
    seen = split.train_matrix()
    for user in range(80):
        assert not set(items[user]) & set(seen[user].indices)


def test_chunking_does_not_change_metrics():
    events = synthetic_interactions(num_users=90, num_items=40, seed=3)
    split = random_split(events, test_ratio=0.3, seed=1)
    scores = np.random.default_rng(1).random((90, 40)).astype(np.float32)
    whole = evaluate_rankings(scores, split, ks=(5, 10))
    chunked = evaluate_rankings(lambda users: scores[users], split, ks=(5, 10), chunk_size=8)
    assert whole == pytest.approx(chunked)


def test_perfect_scores_reach_one():
    events = synthetic_interactions(num_users=30, num_items=40, seed=4)
    split = random_split(events, test_ratio=0.2, seed=0)
    oracle = split.test_matrix().toarray().astype(np.float32)
    metrics = evaluate_rankings(oracle, split, ks=(20,))
    # Users have at most 20 events (num_items // 2), so at most 4 test items: all fit.
    assert metrics["recall@20"] == pytest.approx(1.0)
    assert metrics["ndcg@20"] == pytest.approx(1.0)
    assert metrics["mrr@20"] == pytest.approx(1.0)
