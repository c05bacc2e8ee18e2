"""Interaction tables, the MovieLens-100K format, cleaning reports and splits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tfgraphtune.data.errors import ValidationError
from tfgraphtune.recommend.interactions import Interactions, read_interaction_table
from tfgraphtune.recommend.movielens import GENRES, read_movielens_100k
from tfgraphtune.recommend.splits import fixed_split, random_split, time_split
from tfgraphtune.recommend.synthetic import synthetic_interactions

FIXTURE = Path(__file__).parent / "fixtures" / "ml100k"


def _removed(report, step_prefix: str) -> int:
    return sum(sum(s.removed.values()) for s in report.steps if s.step.startswith(step_prefix))


def test_table_with_string_ids_duplicates_and_missing_values(tmp_path):
    # 6 rows: row 3 repeats (alice, x) later in time, row 4 has no item.
    path = tmp_path / "events.csv"
    pd.DataFrame(
        {
            "user": ["alice", "alice", "bob", "alice", "carol", "bob"],
            "item": ["x", "y", "x", "x", None, "z"],
            "rating": [1.0, 5.0, 4.0, 5.0, 3.0, 2.0],
            "timestamp": [10, 11, 12, 13, 14, 15],
        }
    ).to_csv(path, index=False)
    events, report = read_interaction_table(path)
    # Missing item drops carol's only row; the duplicate (alice, x) keeps the later one.
    assert _removed(report, "DropMissingValues") == 1
    assert _removed(report, "DropDuplicateInteractions") == 1
    assert report.total_removed == 2
    assert events.user_ids.tolist() == ["alice", "bob"]
    assert events.item_ids.tolist() == ["x", "y", "z"]
    assert len(events) == 4
    frame = events.to_frame().sort_values(["user", "item"]).reset_index(drop=True)
    assert frame.to_dict("list") == {
        "user": ["alice", "alice", "bob", "bob"],
        "item": ["x", "y", "x", "z"],
        "rating": [5.0, 5.0, 4.0, 2.0],  # alice's x is the later row, rated 5
        "timestamp": [13, 11, 12, 15],
    }
    assert "DropDuplicateInteractions" in str(report)
    assert "column 'item'" in str(report)


def test_missing_ratings_and_timestamps_are_dropped_and_reported(tmp_path):
    path = tmp_path / "events.csv"
    # Line 3 has no rating, line 4 no timestamp.
    path.write_text("user,item,rating,timestamp\n1,2,5,10\n1,3,,11\n2,2,4,\n2,3,1,13\n")
    events, report = read_interaction_table(path)
    assert len(events) == 2 and events.timestamps.tolist() == [10, 13]
    assert _removed(report, "DropMissingValues") == 2
    text = str(report)
    assert "column 'rating' dropped (first file lines [3])" in text
    assert "column 'timestamp' dropped (first file lines [4])" in text


def test_rating_threshold_keeps_liked_events(tmp_path):
    path = tmp_path / "events.parquet"
    pd.DataFrame({"user": [1, 1, 2, 2], "item": [7, 8, 7, 9], "rating": [5, 2, 4, 3]}).to_parquet(
        path
    )
    events, report = read_interaction_table(path, rating_threshold=4)
    # Ratings 2 and 3 fall below 4: two rows removed, items 8 and 9 never indexed.
    assert _removed(report, "RatingThreshold") == 2
    assert events.user_ids.tolist() == [1, 2]
    assert events.item_ids.tolist() == [7]
    assert events.ratings.tolist() == [5.0, 4.0]


def test_missing_column_names_file_column_and_fix(tmp_path):
    path = tmp_path / "events.csv"
    pd.DataFrame({"customer": [1], "item": [2]}).to_csv(path, index=False)
    with pytest.raises(ValidationError) as error:
        read_interaction_table(path)
    message = str(error.value)
    assert str(path) in message and "'user'" in message and "user_col=" in message
    events, _ = read_interaction_table(path, user_col="customer")
    assert events.user_ids.tolist() == [1]


def test_non_numeric_rating_names_row_and_column(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("user,item,rating\n1,2,5\n1,3,great\n")
    with pytest.raises(ValidationError) as error:
        read_interaction_table(path)
    # The bad value is on line 3 of the file (line 1 is the header).
    assert "row 3" in str(error.value) and "'rating'" in str(error.value)
    assert error.value.rows == [1]


def test_threshold_without_rating_column_is_refused():
    with pytest.raises(ValidationError, match="rating column"):
        read_interaction_table(pd.DataFrame({"user": [1], "item": [2]}), rating_threshold=4)


def test_movielens_fixture_counts_and_side_features():
    events, report = read_movielens_100k(FIXTURE)
    # u.data: 30 lines, (1, 1) rated twice -> 29 events; users 1-5, items 1-8.
    assert len(events) == 29
    assert _removed(report, "DropDuplicateInteractions") == 1
    assert (events.num_users, events.num_items) == (5, 8)
    assert events.user_ids.tolist() == [1, 2, 3, 4, 5]
    assert events.timestamps.dtype == np.int64
    # The later (1, 1) event (rating 4 at t=103) is kept.
    first = (events.user_ids[events.users] == 1) & (events.item_ids[events.items] == 1)
    assert events.ratings[first].tolist() == [4.0] and events.timestamps[first].tolist() == [103]
    genres = events.item_features["genres"]
    assert genres.shape == (8, len(GENRES)) == (8, 19)
    toy_story = int(np.flatnonzero(events.item_ids == 1)[0])
    assert [GENRES[g] for g in np.flatnonzero(genres[toy_story])] == [
        "Animation",
        "Children's",
        "Comedy",
    ]
    users = events.user_features
    assert users["age"].tolist() == [24.0, 53.0, 23.0, 24.0, 33.0]
    assert users["gender"].tolist() == [1, 0, 1, 1, 0]
    vocabulary = users["occupation_vocabulary"].tolist()
    # User 6 (executive) rated nothing, but the vocabulary is the file's.
    assert vocabulary == ["executive", "other", "technician", "writer"]
    assert [vocabulary[o] for o in users["occupation"]] == [
        "technician", "other", "writer", "technician", "other",
    ]  # fmt: skip


def test_movielens_rating_threshold():
    events, report = read_movielens_100k(FIXTURE, rating_threshold=4)
    # 16 of 30 lines are rated >= 4; (1, 1) is among them twice -> 15 events.
    assert _removed(report, "RatingThreshold") == 14
    assert len(events) == 15
    assert np.bincount(events.users).tolist() == [2, 3, 4, 3, 3]


def test_movielens_short_line_names_file_line_and_column(tmp_path):
    (tmp_path / "u.data").write_text("1\t2\t5\t100\n1\t3\t4\n")
    with pytest.raises(ValidationError) as error:
        read_movielens_100k(tmp_path)
    message = str(error.value)
    assert "u.data" in message and "line 2" in message and "'timestamp'" in message
    # Without u.item/u.user the events load without side features.
    (tmp_path / "u.data").write_text("1\t2\t5\t100\n1\t3\t4\t101\n")
    events, _ = read_movielens_100k(tmp_path)
    assert len(events) == 2 and events.item_features is None


def _events(users, items, timestamps=None, user_ids=None, item_ids=None):
    users, items = np.asarray(users), np.asarray(items)
    return Interactions(
        users=users,
        items=items,
        user_ids=np.asarray(user_ids if user_ids is not None else np.arange(users.max() + 1)),
        item_ids=np.asarray(item_ids if item_ids is not None else np.arange(items.max() + 1)),
        timestamps=timestamps,
    )


def test_random_split_holds_out_per_user_and_is_seeded():
    events = synthetic_interactions(num_users=60, num_items=40, seed=1)
    split = random_split(events, test_ratio=0.25, seed=3)
    again = random_split(events, test_ratio=0.25, seed=3)
    other = random_split(events, test_ratio=0.25, seed=4)
    assert np.array_equal(split.test.items, again.test.items)
    assert not np.array_equal(split.test.items, other.test.items)
    train_counts = np.bincount(split.train.users, minlength=60)
    test_counts = np.bincount(split.test.users, minlength=60)
    total = train_counts + test_counts
    assert np.array_equal(test_counts, np.clip(np.rint(0.25 * total), 1, total - 1))
    assert train_counts.min() >= 1
    train_keys = set(zip(split.train.users, split.train.items))
    assert not train_keys & set(zip(split.test.users, split.test.items))
    assert len(split.train) + len(split.test) == len(events)


def test_time_split_holds_out_the_latest_events():
    # User 0: times 5, 1, 9 -> item 2 (t=9) is the latest; user 1 has one event only.
    events = _events([0, 0, 0, 1], [0, 1, 2, 0], timestamps=[5, 1, 9, 3])
    split = time_split(events)
    assert list(zip(split.test.users, split.test.items)) == [(0, 2)]
    assert sorted(zip(split.train.users, split.train.items)) == [(0, 0), (0, 1), (1, 0)]
    assert "too few events" in str(split.report)
    with pytest.raises(ValidationError, match="timestamps"):
        time_split(_events([0, 0], [0, 1]))


def test_fixed_split_maps_ids_and_reports_unknown_ones():
    # Training: a saw x and y, b saw y.
    train = _events([0, 0, 1], [0, 1, 1], user_ids=["a", "b"], item_ids=["x", "y"])
    # Test rows, as ids: (a, x) already a training pair; (b, x) new; (c, x) user c has
    # no training interactions; (b, z) item z has none. The test table has its own maps.
    test = _events([0, 1, 2, 1], [0, 0, 0, 1], user_ids=["a", "b", "c"], item_ids=["x", "z"])
    split = fixed_split(train, test)
    assert split.user_ids.tolist() == ["a", "b"] and split.item_ids.tolist() == ["x", "y"]
    assert list(zip(split.test.users.tolist(), split.test.items.tolist())) == [(1, 0)]  # (b, x)
    assert _removed(split.report, "DropTestUnknownUsers") == 1
    assert _removed(split.report, "DropTestUnknownItems") == 1
    assert _removed(split.report, "DropTestPairsSeenInTraining") == 1
    text = str(split.report)
    assert "no training interactions" in text and "'c'" in text and "'z'" in text


def test_clean_against_fixed_id_maps_drops_unknown_ids():
    from tfgraphtune.recommend.interactions import clean_interactions

    frame = pd.DataFrame({"user": [7, 8, 9], "item": ["x", "y", "x"]})
    # Maps from elsewhere: users [9, 7], items ["x"]. Row (8, y) has an unknown user and
    # an unknown item: each check reports it; the rows (7, x), (9, x) map to (1, 0), (0, 0).
    events, report = clean_interactions(
        frame, source="t.csv", user_ids=np.array([9, 7]), item_ids=np.array(["x"])
    )
    assert list(zip(events.users.tolist(), events.items.tolist())) == [(1, 0), (0, 0)]
    assert _removed(report, "DropUnknownUsers") == 1 and _removed(report, "DropUnknownItems") == 1
    assert "no training interactions" in str(report)
