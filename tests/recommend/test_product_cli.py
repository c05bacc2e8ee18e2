"""The recommendation product end to end: finetune -> evaluate -> recommend -> export ->
TensorFlow-only reload answering identically; bad inputs end with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tests.recommend.product_helpers import CONFIG, TF_ONLY_WORKER, cli, write_table
from tfgraphtune.cli.main import main

pytestmark = pytest.mark.xdist_group("rec-product")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("rec")
    table = write_table(root / "events.csv")
    out = root / "run"
    argv = ["finetune", "--config", str(CONFIG), "--out", str(out)]
    for override in (f"data.interactions.path={table}", "train.epochs=8", "model.embedding_dim=16"):
        argv += ["--set", override]
    assert main(argv) == 0
    return out


def _training_pairs(run_dir) -> set[tuple[str, str]]:
    table = pd.read_csv(run_dir / "train_interactions.csv", dtype=str)
    return set(zip(table["user"], table["item"]))


def test_finetune_writes_a_self_contained_run_and_beats_popularity(run_dir):
    for name in ("model.json", "users.csv", "items.csv", "train_interactions.csv", "metrics.json"):
        assert (run_dir / name).exists()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["test"]["num_users"] > 100
    # Planted groups: even 8 epochs of LightGCN rank far better than popularity.
    assert metrics["test"]["recall@10"] > metrics["test_popularity"]["recall@10"] + 0.1


def test_evaluate_reproduces_the_training_metrics(run_dir, capsys):
    assert main(["evaluate", str(run_dir), "--json"]) == 0
    reevaluated = json.loads(capsys.readouterr().out)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert reevaluated["test"] == pytest.approx(metrics["test"])
    assert reevaluated["test_popularity"] == pytest.approx(metrics["test_popularity"])


def test_recommend_all_users_never_repeats_a_training_item(run_dir, tmp_path):
    out = tmp_path / "recs.csv"
    assert main(["recommend", str(run_dir), "--users", "all", "--k", "7", "--out", str(out)]) == 0
    recs = pd.read_csv(out, dtype={"user": str, "item": str})
    assert list(recs.columns) == ["user", "rank", "item", "score"]
    users = pd.read_csv(run_dir / "users.csv", dtype=str)["id"]
    assert sorted(recs["user"].unique()) == sorted(users)
    assert (recs.groupby("user")["rank"].apply(list) == [list(range(1, 8))] * len(users)).all()
    assert not set(zip(recs["user"], recs["item"])) & _training_pairs(run_dir)
    # Best first within every user.
    assert (recs.groupby("user")["score"].diff().dropna() <= 0).all()


def _tf_only(saved_model, requests: dict[str, tuple[str, dict]], root) -> dict[str, dict]:
    """Runs named (signature, inputs) requests in one TensorFlow-only process."""
    argv = []
    for name, (signature, inputs) in requests.items():
        np.savez(root / f"{name}.in.npz", **inputs)
        argv.append(f"{signature}:{root / f'{name}.in.npz'}:{root / f'{name}.out.npz'}")
    process = subprocess.run(
        [sys.executable, str(TF_ONLY_WORKER), str(saved_model), *argv],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert process.returncode == 0, process.stderr[-2000:]
    answers = {}
    for name in requests:
        with np.load(root / f"{name}.out.npz", allow_pickle=False) as arrays:
            answers[name] = {key: arrays[key] for key in arrays.files}
    return answers


def test_export_answers_identically_in_a_tensorflow_only_process(run_dir, tmp_path):
    users = ["u3", "u17", "u0", "newbie"]
    history = ["i1", "i5", "i8"]
    recs_path = tmp_path / "recs.csv"
    argv = ["recommend", str(run_dir), "--users", ",".join(users), "--k", "5"]
    assert main([*argv, "--history", ",".join(history), "--out", str(recs_path)]) == 0
    recs = pd.read_csv(recs_path, dtype={"user": str, "item": str})
    assert main(["export", str(run_dir), "--out", str(tmp_path / "export")]) == 0
    saved_model = tmp_path / "export" / "1"
    answers = _tf_only(
        saved_model,
        {
            "history": (
                "recommend_with_history",
                {
                    "users": np.array(users),
                    "history": np.array([history] * len(users)),
                    "k": np.array(5, np.int32),
                },
            ),
            "plain": ("recommend", {"users": np.array(users[:3]), "k": np.array(5, np.int32)}),
            "items": ("item_embeddings", {}),
            "vectors": ("user_embeddings", {"users": np.array(users[:3])}),
        },
        tmp_path,
    )
    answer, plain = answers["history"], answers["plain"]
    assert answer["items"].shape == (4, 5)
    for row, user in enumerate(users):
        expected = recs[recs["user"] == user]
        assert list(answer["items"][row]) == list(expected["item"])
        np.testing.assert_allclose(answer["scores"][row], expected["score"], rtol=1e-5)
    # The ANN signatures give the same ranking by dot product, seen items left out.
    items, vectors = answers["items"], answers["vectors"]
    scores = vectors["embeddings"] @ items["embeddings"].T
    for row in range(3):
        best = [items["item_ids"][i] for i in np.argsort(-scores[row], kind="stable")]
        seen = {item for user, item in _training_pairs(run_dir) if user == users[row]}
        seen |= set(history)  # recommend_with_history also excluded the history.
        unseen = [item for item in best if item not in seen][:5]
        assert list(answer["items"][row]) == unseen
        unseen_plain = [item for item in best if item not in seen - set(history)][:5]
        assert list(plain["items"][row]) == unseen_plain


def test_unknown_user_exits_2_without_traceback(run_dir, tmp_path):
    result = cli("recommend", str(run_dir), "--users", "nobody", "--out", str(tmp_path / "r.csv"))
    assert result.returncode == 2
    assert "'nobody'" in result.stderr and "--history" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "r.csv").exists()


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--users", "nobody"], "'nobody' is not in the training data"),
        (["--users", "nobody", "--history", "i1,zz"], "'zz'"),
        (["--users", "all", "--history", "i1"], "--users all"),
        (["--users", "u0,,u1"], "empty id"),
        (["--users", "u0", "--k", "0"], "--k"),
    ],
)
def test_bad_inputs_exit_2_naming_the_fix(run_dir, tmp_path, capsys, extra, fragment):
    out = tmp_path / "recs.csv"
    assert main(["recommend", str(run_dir), "--out", str(out), *extra]) == 2
    assert fragment in capsys.readouterr().err
    assert not out.exists()


def test_output_path_is_checked_before_any_work(run_dir, tmp_path, capsys):
    out = tmp_path / "recs.csv"
    out.write_text("keep")
    assert main(["recommend", str(run_dir), "--users", "u0", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert out.read_text() == "keep"
    missing = tmp_path / "nofolder" / "r.csv"
    assert main(["recommend", str(run_dir), "--users", "u0", "--out", str(missing)]) == 2
    assert "does not exist" in capsys.readouterr().err
    # Checked before the run folder is read: a bad run folder is not what is reported.
    assert main(["recommend", str(tmp_path / "norun"), "--users", "u0", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["recommend", str(run_dir), "--users", "u0", "--out", str(out), "--overwrite"]) == 0
    assert pd.read_csv(out)["rank"].tolist() == list(range(1, 11))


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        (["model.side_features=true"], "model.side_features"),
        (["data.dataset=cora"], "data.dataset"),
        (["model.conv=gat"], "model.conv"),
        (["data.interactions.split=fixed"], "train_path"),
        (["data.interactions.format=movielens"], "movielens_dir"),
        (["train.distribution=mirrored"], "train.distribution"),
        (["model.recommender=svd"], "model.recommender"),
    ],
)
def test_settings_the_task_cannot_honour_fail_at_config_load(overrides, fragment, tmp_path):
    from tfgraphtune.training.config import ConfigError, load_config
    from tfgraphtune.training.train import check_run_config

    with pytest.raises(ConfigError, match=fragment):
        check_run_config(load_config(CONFIG, [*overrides, f"out={tmp_path / 'r'}"]))
    assert not (tmp_path / "r").exists()


def test_other_tasks_reject_recommendation_keys(tmp_path):
    from tfgraphtune.training.config import ConfigError, load_config
    from tfgraphtune.training.train import check_run_config

    config = load_config(None, ["task=node_classification", "model.recommender=mf"])
    with pytest.raises(ConfigError, match="model.recommender"):
        check_run_config(config)


def test_fold_in_from_a_users_own_history_reproduces_its_list(run_dir):
    from tfgraphtune.recommend.run_index import RetrievalIndex

    index = RetrievalIndex.from_run(run_dir)
    users = np.arange(len(index.user_ids))
    own, _ = index.recommend(users, 10)
    splits = index.seen_splits
    history = np.full((len(users), int(np.diff(splits).max())), -1, np.int32)
    for user in users:
        seen = index.seen_items[splits[user] : splits[user + 1]]
        history[user, : len(seen)] = seen
    # Every user treated as new, its training items as the history.
    folded, _ = index.recommend(np.full(len(users), -1), 10, history)
    overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(own, folded)])
    # Random lists would share about 10 / 80 = 0.125 of the items; measured 0.86 here.
    assert overlap > 0.6, overlap
