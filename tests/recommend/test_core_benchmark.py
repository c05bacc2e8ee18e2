"""The recommendation benchmark on a tiny fixed split: JSON keys and top-K CSVs."""

from __future__ import annotations

import importlib
import json

import pandas as pd

from tests.conftest import REPO_ROOT


def test_benchmark_fixed_split_writes_json_and_recommendations(tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(REPO_ROOT / "benchmarks"))
    benchmark = importlib.import_module("recommendation")
    # Training: a saw p, q, r; b p, q; c r, s, t (item indices p0 q1 r2 s3 t4). Test:
    # a -> s, b -> p (a training pair: dropped), b -> t, d -> p (d has no training
    # events: dropped).
    pd.DataFrame(
        {"user": list("aaabbccc"), "item": list("pqrpqrst")}
    ).to_csv(tmp_path / "train.csv", index=False)  # fmt: skip
    pd.DataFrame({"user": list("abbd"), "item": list("sptp")}).to_csv(
        tmp_path / "test.csv", index=False
    )
    results = benchmark.main(
        [
            "--train", str(tmp_path / "train.csv"), "--test", str(tmp_path / "test.csv"),
            "--seeds", "1", "--epochs", "2", "--batch-size", "4", "--dim", "4", "--ks", "1,2",
            "--models", "popularity,lightgcn", "--recs-out", str(tmp_path / "recs"),
            "--json", str(tmp_path / "out.json"), "--threads", "1",  # conftest uses 1
        ]
    )  # fmt: skip
    saved = json.loads((tmp_path / "out.json").read_text())
    assert saved["split"] == "fixed" and saved["num_test"] == 2 and saved["num_test_users"] == 2
    assert set(saved["models"]) == {"popularity", "lightgcn"}
    lightgcn = saved["models"]["lightgcn"]["mean"]
    assert {"recall@1", "ndcg@2", "coverage@2", "seconds_per_epoch"} <= set(lightgcn)
    popularity = results["models"]["popularity"]["mean"]
    assert popularity["seconds_per_epoch"] is None and popularity["recall@2"] == 0.5
    assert "DropTestUnknownUsers" in saved["cleaning"]
    # Popularity: p, q, r have 2 events each, s and t 1 (ties go to the lower index).
    # a saw p, q, r -> s, t; b saw p, q -> r, s. Recall@2: a finds s, b misses t -> 0.5.
    recs = pd.read_csv(tmp_path / "recs" / "popularity.csv")
    assert list(recs.columns) == ["user", "rank", "item", "score"]
    assert recs[["user", "rank", "item"]].values.tolist() == [
        ["a", 1, "s"], ["a", 2, "t"], ["b", 1, "r"], ["b", 2, "s"],
    ]  # fmt: skip
    assert "| popularity |" in capsys.readouterr().out
