"""Synthetic interaction tables with planted preferences, for tests and benchmarks.

Users and items belong to latent groups; item popularity follows a power law (Zipf).
Each user draws a number of distinct items; each draw comes, with probability
``in_group``, from the items of the user's own group (weighted by popularity), else from
the whole catalogue (weighted by popularity). A recommender that finds the groups beats
one that only counts popularity; a graph recommender finds them from fewer events per
user than matrix factorisation does, because it borrows evidence from the neighbours
of a user's items.
"""

from __future__ import annotations

import numpy as np

from tfgraphtune.data.errors import ValidationError
from tfgraphtune.recommend.interactions import Interactions


def synthetic_interactions(
    *,
    num_users: int = 500,
    num_items: int = 300,
    num_groups: int = 8,
    mean_interactions: float = 12.0,
    min_interactions: int = 3,
    in_group: float = 0.8,
    popularity_exponent: float = 1.0,
    seed: int = 0,
) -> Interactions:
    """Interactions with planted user/item groups and power-law item popularity.

    Args:
      num_users: Users; ids ``"u0"``, ``"u1"``, ...
      num_items: Items; ids ``"i0"``, ``"i1"``, ...
      num_groups: Latent groups (each user and item belongs to one).
      mean_interactions: Mean distinct items per user; counts are
        ``min_interactions`` + geometric, so a few users are very active.
      min_interactions: Fewest items per user.
      in_group: Probability that a draw comes from the user's own group.
      popularity_exponent: Zipf exponent s: the item of popularity rank r has weight
        r^-s (ranks assigned at random).
      seed: Fixes everything.

    Returns:
      Interactions with ratings (in-group items 4-5, others 1-3 stars), increasing
      timestamps per user, and the planted groups as the ``group`` user and item
      feature (int32).
    """
    if num_groups < 1 or num_items < num_groups or min_interactions < 1:
        raise ValidationError(
            "synthetic_interactions needs num_groups >= 1, num_items >= num_groups and "
            f"min_interactions >= 1; received {num_groups}, {num_items}, {min_interactions}."
        )
    if mean_interactions < min_interactions:
        raise ValidationError("mean_interactions must be >= min_interactions.")
    rng = np.random.default_rng(seed)
    user_group = rng.integers(0, num_groups, size=num_users).astype(np.int32)
    item_group = rng.permutation(np.arange(num_items) % num_groups).astype(np.int32)
    weight = (1.0 + rng.permutation(num_items)) ** -float(popularity_exponent)
    extra = mean_interactions - min_interactions
    counts = min_interactions + (rng.geometric(1.0 / (extra + 1.0), size=num_users) - 1)
    counts = np.minimum(counts, num_items // 2)
    users, items, ratings = [], [], []
    for user in range(num_users):
        own = item_group == user_group[user]
        n_in = min(int(rng.binomial(counts[user], in_group)), int(own.sum()))
        picked = rng.choice(
            np.flatnonzero(own), size=n_in, replace=False, p=weight[own] / weight[own].sum()
        )
        others = np.setdiff1d(np.arange(num_items), picked)
        rest = rng.choice(
            others, size=counts[user] - n_in, replace=False, p=weight[others] / weight[others].sum()
        )
        chosen = rng.permutation(np.concatenate([picked, rest]))
        liked = item_group[chosen] == user_group[user]
        stars = np.where(liked, rng.integers(4, 6, len(chosen)), rng.integers(1, 4, len(chosen)))
        users.append(np.full(len(chosen), user))
        items.append(chosen)
        ratings.append(stars)
    users = np.concatenate(users)
    start = rng.integers(0, 10**6, size=num_users)
    steps = rng.integers(1, 1000, size=len(users))
    # Per-user increasing times: a running sum of positive steps within each user.
    order_in_user = np.concatenate([np.arange(c) for c in counts])
    cumulative = np.cumsum(steps) - np.repeat(np.cumsum(steps)[np.cumsum(counts) - counts], counts)
    timestamps = 1_600_000_000 + start[users] + cumulative + order_in_user
    return Interactions(
        users=users,
        items=np.concatenate(items),
        user_ids=np.asarray([f"u{i}" for i in range(num_users)], dtype=object),
        item_ids=np.asarray([f"i{i}" for i in range(num_items)], dtype=object),
        ratings=np.concatenate(ratings).astype(np.float32),
        timestamps=timestamps.astype(np.int64),
        user_features={"group": user_group},
        item_features={"group": item_group},
    )
