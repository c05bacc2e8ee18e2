"""Per-user hold-out splits of interactions into training and test events.

The field's protocol (e.g. He et al., LightGCN, SIGIR 2020; Wang et al., NGCF, SIGIR
2019): every user keeps most of their events for training and holds out the rest; a
model then ranks, for each user, all items not seen in training, and the held-out items
are the relevant ones. Three ways to cut:

- `random_split`: a seeded random ``test_ratio`` of each user's events;
- `time_split`: each user's last ``test_per_user`` events by time (leave-last-out);
- `fixed_split`: a test table given by the user, mapped through the training id maps.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.sparse as sp

from tfgraphtune.data.cleaning import CleaningReport, StepReport
from tfgraphtune.data.errors import ValidationError
from tfgraphtune.recommend.interactions import (
    SET_NAME,
    Interactions,
    map_ids,
    unknown_ids_step,
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecommendationSplit:
    """Training and test interactions over one pair of id maps.

    Attributes:
      train: Training events (`Interactions`; their id maps are the split's).
      test: Held-out events over the same id maps, none of them a training pair.
      report: What was dropped while splitting (unknown ids, test pairs already in
        training, users without training events).
    """

    train: Interactions
    test: Interactions
    report: CleaningReport = dataclasses.field(default_factory=lambda: CleaningReport([]))

    def __post_init__(self):
        if self.train.num_users != self.test.num_users or (
            self.train.num_items != self.test.num_items
        ):
            raise ValidationError("A split's train and test interactions must share id maps.")

    @property
    def num_users(self) -> int:
        return self.train.num_users

    @property
    def num_items(self) -> int:
        return self.train.num_items

    @property
    def user_ids(self) -> np.ndarray:
        """User index -> original id."""
        return self.train.user_ids

    @property
    def item_ids(self) -> np.ndarray:
        """Item index -> original id."""
        return self.train.item_ids

    @property
    def train_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(users, items) int32 index arrays of the training events."""
        return self.train.users, self.train.items

    @property
    def test_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(users, items) int32 index arrays of the test events."""
        return self.test.users, self.test.items

    def train_matrix(self) -> sp.csr_matrix:
        """Binary [U, I] CSR matrix of training pairs, column indices sorted per row."""
        return _binary_csr(self.train.users, self.train.items, self.num_users, self.num_items)

    def test_matrix(self) -> sp.csr_matrix:
        """Binary [U, I] CSR matrix of test pairs, column indices sorted per row."""
        return _binary_csr(self.test.users, self.test.items, self.num_users, self.num_items)

    def test_users(self) -> np.ndarray:
        """Sorted indices of the users with at least one test event."""
        return np.unique(self.test.users).astype(np.int32)


def _binary_csr(users, items, num_users: int, num_items: int) -> sp.csr_matrix:
    data = np.ones(len(users), dtype=np.float32)
    matrix = sp.csr_matrix((data, (users, items)), shape=(num_users, num_items))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    matrix.sort_indices()
    return matrix


def _check_positive_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValidationError(
            f"Received an invalid value for {name}, expected an integer >= 1. "
            f"Received: {name}={value!r}"
        )


def _from_mask(interactions: Interactions, test: np.ndarray, step: StepReport):
    train = interactions.select(~test)
    counts = np.bincount(train.users, minlength=interactions.num_users)
    no_train = np.flatnonzero(counts == 0)
    if len(no_train):
        step.notes.append(
            f"{len(no_train)} users have no training interactions and cannot be ranked; "
            f"e.g. {interactions.user_ids[no_train[:5]].tolist()}"
        )
    return RecommendationSplit(
        train=train, test=interactions.select(test), report=CleaningReport([step])
    )


def random_split(
    interactions: Interactions, *, test_ratio: float = 0.2, seed: int = 0
) -> RecommendationSplit:
    """Holds out a random share of every user's events.

    Each user with n >= 2 events holds out ``round(test_ratio * n)`` of them, at least 1
    and at most n - 1, so every user keeps a training event; users with one event keep
    it for training (reported).

    Args:
      interactions: The events, without duplicate pairs (as `read_interaction_table`
        gives them).
      test_ratio: Share of each user's events held out, in (0, 1).
      seed: Fixes the choice.

    Returns:
      The split.
    """
    if not 0.0 < float(test_ratio) < 1.0:
        raise ValidationError(
            "Received an invalid value for test_ratio, expected a number in (0, 1). "
            f"Received: test_ratio={test_ratio!r}"
        )
    rng = np.random.default_rng(seed)
    # Random rank of each event within its user: sort by (user, random key).
    keys = rng.random(len(interactions))
    order = np.lexsort((keys, interactions.users))
    return _hold_out_last(interactions, order, lambda n: np.rint(test_ratio * n), "random")


def time_split(interactions: Interactions, *, test_per_user: int = 1) -> RecommendationSplit:
    """Holds out each user's last events by time (leave-last-out).

    Ties in time keep the table's order (the later row is the later event). Users with
    at most `test_per_user` events keep them all for training (reported).

    Args:
      interactions: The events, with timestamps.
      test_per_user: How many of each user's latest events are held out.

    Returns:
      The split.

    Raises:
      ValidationError: The interactions have no timestamps.
    """
    _check_positive_int("test_per_user", test_per_user)
    if interactions.timestamps is None:
        raise ValidationError(
            "A time split needs timestamps, but the interactions have none; add a "
            "'timestamp' column (or pass timestamp_col=<name>) or use a random split."
        )
    position = np.arange(len(interactions))
    order = np.lexsort((position, interactions.timestamps, interactions.users))
    return _hold_out_last(interactions, order, lambda n: np.full_like(n, test_per_user), "time")


def _hold_out_last(interactions: Interactions, order: np.ndarray, count, kind: str):
    """Marks the last `count(n)` events of each user, in `order`, as test events."""
    users = interactions.users[order]
    sizes = np.bincount(users, minlength=interactions.num_users)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.arange(len(users)) - starts[users]  # position within the user's events
    held = np.clip(count(sizes).astype(np.int64), 1, np.maximum(sizes - 1, 0))
    test = np.zeros(len(interactions), dtype=bool)
    test[order] = rank >= (sizes - held)[users]
    step = StepReport(f"{kind.capitalize()}Split()")
    lonely = np.flatnonzero((sizes > 0) & (held == 0))
    if len(lonely):
        step.notes.append(
            f"{len(lonely)} users have too few events to hold one out; all their events are "
            f"training events (e.g. {interactions.user_ids[lonely[:5]].tolist()})"
        )
    return _from_mask(interactions, test, step)


def fixed_split(train: Interactions, test: Interactions) -> RecommendationSplit:
    """Combines a training and a test table read separately.

    Test ids are mapped through the training id maps. Test events of users or items
    that have no training interaction, and test pairs that are already training pairs
    (they can never be recommended), are dropped and reported.

    Args:
      train: The training events; their id maps become the split's.
      test: The test events, with their own id maps.

    Returns:
      The split, with its report.
    """
    users = map_ids(test.user_ids[test.users], train.user_ids)
    items = map_ids(test.item_ids[test.items], train.item_ids)
    steps = []
    for name, codes, raw in (
        ("users", users, test.user_ids[test.users]),
        ("items", items, test.item_ids[test.items]),
    ):

        def note(unknown, name=name, raw=raw):
            distinct = np.unique(raw[unknown].astype(str))
            return (
                f"{int(unknown.sum())} test rows name {len(distinct)} {name} with no training "
                f"interactions; dropped (e.g. {distinct[:5].tolist()})"
            )

        steps.append(unknown_ids_step(f"DropTestUnknown{name.capitalize()}()", codes, raw, note))
    known = (users >= 0) & (items >= 0)
    seen_step = StepReport("DropTestPairsSeenInTraining()")
    train_keys = np.unique(train.users.astype(np.int64) * train.num_items + train.items)
    keys = users.astype(np.int64) * train.num_items + items
    seen = known & np.isin(keys, train_keys)
    seen_step.record(
        SET_NAME,
        "removed",
        seen.sum(),
        list(zip(test.user_ids[test.users][seen][:5], test.item_ids[test.items][seen][:5])),
    )
    steps.append(seen_step)
    keep = known & ~seen
    mapped = Interactions(
        users=users[keep],
        items=items[keep],
        user_ids=train.user_ids,
        item_ids=train.item_ids,
        ratings=None if test.ratings is None else test.ratings[keep],
        timestamps=None if test.timestamps is None else test.timestamps[keep],
        user_features=train.user_features,
        item_features=train.item_features,
    )
    return RecommendationSplit(train=train, test=mapped, report=CleaningReport(steps))
