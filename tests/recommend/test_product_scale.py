"""`recommend` for every user of a 1,000-user, 2,000-item synthetic set (batched top-K).

The timing is reported in /work/notes and docs/recommendation.md, not asserted here.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.recommend.product_helpers import train_run, write_table
from tfgraphtune.cli.main import main

pytestmark = pytest.mark.xdist_group("rec-product")


def test_recommend_for_all_users_of_a_1000_by_2000_set(tmp_path):
    table = write_table(tmp_path / "events.csv", num_users=1000, num_items=2000)
    train_run(
        table,
        tmp_path / "run",
        "train.epochs=1",
        "train.batch_size=4096",
        "model.num_layers=2",
    )
    out = tmp_path / "recs.csv"
    argv = ["recommend", str(tmp_path / "run"), "--users", "all", "--k", "20", "--out", str(out)]
    assert main(argv) == 0
    recs = pd.read_csv(out, dtype={"user": str, "item": str})
    assert len(recs) == 1000 * 20 and recs["user"].nunique() == 1000
    seen = pd.read_csv(tmp_path / "run" / "train_interactions.csv", dtype=str)
    assert not set(zip(recs["user"], recs["item"])) & set(zip(seen["user"], seen["item"]))
