"""Full-ranking top-K evaluation of recommenders, the way the field reports it.

For every user with test events, all items are scored, the user's training items are
masked out, and the top K of the rest are compared with the held-out items (He et al.,
LightGCN, SIGIR 2020, section 4.1: "all items that the user has not interacted with are
the candidates"). Metrics, averaged over those users, with binary relevance:

- Recall@K = hits in top K / |test items of the user|;
- Precision@K = hits in top K / K;
- HitRate@K = 1 if any hit in the top K, else 0;
- NDCG@K = DCG / IDCG with DCG = sum over ranks r (1-based) of hit_r / log2(r + 1) and
  IDCG the DCG of min(K, |test items|) hits at the top;
- MRR@K = 1 / rank of the first hit within the top K, 0 if none;
- coverage@K (catalogue coverage) = distinct items in anybody's top K / all items.

Users are scored in chunks, so no dense users x items matrix is built beyond a chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from tfgraphtune.data.errors import ValidationError
from tfgraphtune.recommend.splits import RecommendationSplit

ScoreFn = Callable[[np.ndarray], np.ndarray]
# Scores at most this many (user, item) cells at a time (100 MB of float32).
_CHUNK_CELLS = 25_000_000


def as_score_fn(scores) -> ScoreFn:
    """Returns a function user indices -> [n, I] scores from a function or a [U, I] array.

    A model with a ``score_fn()`` method (the recommenders here) gives its own.
    """
    if hasattr(scores, "score_fn") and callable(scores.score_fn):
        return scores.score_fn()
    if callable(scores):
        return scores
    matrix = np.asarray(scores, dtype=np.float32)
    if matrix.ndim != 2:
        raise ValidationError(
            f"Expected scores of shape [num_users, num_items]; received shape {matrix.shape}."
        )
    return lambda users: matrix[np.asarray(users)]


def _chunks(users: np.ndarray, num_items: int, chunk_size: int | None):
    size = chunk_size or max(1, min(4096, _CHUNK_CELLS // max(num_items, 1)))
    for start in range(0, len(users), size):
        yield users[start : start + size]


def _ranked(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top k columns of each row, best first; ties broken by the lower item index."""
    k = min(k, scores.shape[1])
    if k < scores.shape[1]:
        candidates = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        candidates = np.broadcast_to(np.arange(scores.shape[1]), scores.shape)
    picked = np.take_along_axis(scores, candidates, axis=1)
    order = np.lexsort((candidates, -picked), axis=1)
    items = np.take_along_axis(candidates, order, axis=1)
    return items, np.take_along_axis(picked, order, axis=1)


def _chunk_scores(score_fn: ScoreFn, users: np.ndarray, num_items: int, seen, exclude_seen):
    scores = np.array(score_fn(users), dtype=np.float32, copy=True)
    if scores.shape != (len(users), num_items):
        raise ValidationError(
            f"The score function returned shape {scores.shape} for {len(users)} users; "
            f"expected ({len(users)}, {num_items})."
        )
    if exclude_seen:
        rows = seen[users]
        scores[np.repeat(np.arange(len(users)), np.diff(rows.indptr)), rows.indices] = -np.inf
    return scores


def top_k(
    scores,
    split: RecommendationSplit,
    users: Sequence[int] | np.ndarray,
    k: int,
    *,
    exclude_seen: bool = True,
    chunk_size: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The k best items for each user, best first.

    Args:
      scores: A function user indices -> [n, I] scores, a [U, I] array, or a model
        with ``score_fn()``.
      split: Gives the training items to exclude and the catalogue size.
      users: User indices.
      k: List length.
      exclude_seen: Mask the user's training items (they are never returned).
      chunk_size: Users scored at a time (default: fits ~25M cells).

    Returns:
      ``(items, scores)``, int32 and float32 arrays [n, k]. When a user has fewer than
      k candidate items, the tail holds item -1 with score -inf.
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValidationError(f"Received an invalid value for k, expected k >= 1. Received: {k!r}")
    score_fn = as_score_fn(scores)
    users = np.asarray(users, dtype=np.int32).reshape(-1)
    seen = split.train_matrix()
    out_items = np.full((len(users), k), -1, dtype=np.int32)
    out_scores = np.full((len(users), k), -np.inf, dtype=np.float32)
    done = 0
    for chunk in _chunks(users, split.num_items, chunk_size):
        block = _chunk_scores(score_fn, chunk, split.num_items, seen, exclude_seen)
        items, values = _ranked(block, k)
        items = np.where(np.isneginf(values), -1, items)
        out_items[done : done + len(chunk), : items.shape[1]] = items
        out_scores[done : done + len(chunk), : items.shape[1]] = values
        done += len(chunk)
    return out_items, out_scores


def _check_ks(ks) -> tuple[int, ...]:
    ks = (ks,) if isinstance(ks, int) else tuple(ks)
    if not ks or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in ks):
        raise ValidationError(
            f"Received an invalid value for ks, expected ints >= 1. Received: ks={ks}"
        )
    return tuple(sorted(set(ks)))


def ranking_metrics(ranked: np.ndarray, relevant, ks: Sequence[int]) -> dict[str, np.ndarray]:
    """Per-user metrics of ranked lists against relevant item sets.

    Args:
      ranked: int [n, K_max] item indices, best first (-1 = no item).
      relevant: [n, I] binary CSR matrix (or dense array) of each user's relevant items.
      ks: Cut-offs, each <= K_max.

    Returns:
      Name (``recall@K``, ``precision@K``, ``hit_rate@K``, ``ndcg@K``, ``mrr@K``) ->
      float64 [n] per-user values.
    """
    relevant_dense = relevant.toarray() if hasattr(relevant, "toarray") else np.asarray(relevant)
    valid = ranked >= 0
    hits = np.where(valid, np.take_along_axis(relevant_dense, np.maximum(ranked, 0), 1), 0) > 0
    counts = relevant_dense.sum(axis=1).astype(np.float64)
    discounts = 1.0 / np.log2(np.arange(2, ranked.shape[1] + 2))
    out = {}
    for k in ks:
        top = hits[:, :k]
        found = top.sum(axis=1).astype(np.float64)
        dcg = (top * discounts[:k]).sum(axis=1)
        ideal_hits = np.minimum(counts, k).astype(np.int64)
        idcg = np.concatenate([[0.0], np.cumsum(discounts[:k])])[ideal_hits]
        first = np.where(top.any(axis=1), top.argmax(axis=1) + 1, np.inf)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"recall@{k}"] = np.where(counts > 0, found / counts, 0.0)
            out[f"ndcg@{k}"] = np.where(idcg > 0, dcg / idcg, 0.0)
        out[f"precision@{k}"] = found / k
        out[f"hit_rate@{k}"] = (found > 0).astype(np.float64)
        out[f"mrr@{k}"] = 1.0 / first
    return out


def evaluate_rankings(
    scores,
    split: RecommendationSplit,
    *,
    ks: Sequence[int] = (10, 20),
    users: Sequence[int] | np.ndarray | None = None,
    chunk_size: int | None = None,
) -> dict[str, float]:
    """Full-ranking Recall/NDCG/HitRate/Precision/MRR@K and coverage@K on the test split.

    Args:
      scores: A function user indices -> [n, I] scores, a [U, I] array, or a model
        with ``score_fn()``.
      split: The split: training items are masked, test items are the relevant ones.
      ks: Cut-offs.
      users: The users to evaluate (default: every user with a test event); users
        without test events count 0 but are excluded from the averages.
      chunk_size: Users scored at a time (default: fits ~25M cells).

    Returns:
      ``{"recall@10": ..., "ndcg@10": ..., "hit_rate@10": ..., "precision@10": ...,
      "mrr@10": ..., "coverage@10": ..., ..., "num_users": n}`` (means over users).
    """
    ks = _check_ks(ks)
    score_fn = as_score_fn(scores)
    users = split.test_users() if users is None else np.asarray(users, dtype=np.int32)
    test = split.test_matrix()
    users = users[np.diff(test.indptr)[users] > 0]
    seen = split.train_matrix()
    totals: dict[str, float] = {}
    recommended = {k: np.zeros(split.num_items, dtype=bool) for k in ks}
    for chunk in _chunks(users, split.num_items, chunk_size):
        block = _chunk_scores(score_fn, chunk, split.num_items, seen, True)
        ranked, values = _ranked(block, max(ks))
        ranked = np.where(np.isneginf(values), -1, ranked)
        for name, per_user in ranking_metrics(ranked, test[chunk], ks).items():
            totals[name] = totals.get(name, 0.0) + float(per_user.sum())
        for k in ks:
            top = ranked[:, :k]
            recommended[k][top[top >= 0]] = True
    count = max(len(users), 1)
    result = {name: value / count for name, value in totals.items()}
    for k in ks:
        result[f"coverage@{k}"] = float(recommended[k].mean()) if split.num_items else 0.0
    ordered = {}
    for k in ks:
        for metric in ("recall", "ndcg", "hit_rate", "precision", "mrr", "coverage"):
            ordered[f"{metric}@{k}"] = result.get(f"{metric}@{k}", 0.0)
    ordered["num_users"] = len(users)
    return ordered
