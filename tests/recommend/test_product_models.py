"""The product's model pieces by hand: fold-in, top-K exclusion, the heterogeneous GCN
aggregation, config round trips, side features and the contrastive loss."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import assert_config_round_trip
from tests.recommend.product_helpers import CONFIG, train_run, write_table
from tfgraphtune.recommend.hetero_gnn import (
    ITEM,
    RATED,
    USER,
    WeightedSumConv,
    bipartite_graph,
)
from tfgraphtune.recommend.recommender_model import RECOMMENDERS, RecommenderModel
from tfgraphtune.recommend.retrieval import fold_in, top_k_excluding
from tfgraphtune.recommend.run_index import RetrievalIndex

ML100K = Path(__file__).parent / "fixtures" / "ml100k"


def test_fold_in_is_the_gcn_normalised_sum_of_history_items():
    items = tf.constant([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    degrees = tf.constant([1.0, 4.0, 2.0])
    # History {0, 1}: |H| = 2, so e = [1,0]/sqrt(2*1) + [0,1]/sqrt(2*4) = [0.7071, 0.3536].
    # History {2} alone: [1,1]/sqrt(1*2). Padding (-1) counts nothing.
    vectors = fold_in(items, degrees, tf.constant([[0, 1, -1], [2, -1, -1], [-1, -1, -1]]))
    expected = [[0.70710677, 0.35355338], [0.70710677, 0.70710677], [0.0, 0.0]]
    np.testing.assert_allclose(vectors.numpy(), expected, rtol=1e-6)


def test_top_k_leaves_out_excluded_items_and_marks_what_is_left():
    users = tf.constant([[1.0, 0.0], [0.0, 1.0]])
    items = tf.constant([[3.0, 0.0], [2.0, 1.0], [1.0, 2.0], [0.0, 0.0]])
    # User 0 scores 3, 2, 1, 0 and excludes item 0; user 1 scores 0, 1, 2, 0, excludes 2, 3.
    exclude = tf.ragged.constant([[0], [2, 3]], dtype=tf.int32)
    scores, found = top_k_excluding(users, items, exclude, 5)
    assert found.numpy().tolist() == [[1, 2, 3, -1], [1, 0, -1, -1]]
    assert scores.numpy()[0, :3].tolist() == [2.0, 1.0, 0.0]
    assert np.isneginf(scores.numpy()[1, 2:]).all()


def test_weighted_sum_conv_uses_the_bipartite_gcn_coefficients():
    # Edges (u0,i0), (u0,i1), (u1,i1): d_u = [2, 1], d_i = [1, 2].
    # Item 0 receives 1/sqrt(2*1) * h_u0; item 1 receives 1/sqrt(2*2) * h_u0 + 1/sqrt(1*2) * h_u1.
    graph = bipartite_graph(
        tf.constant([0, 0, 1]),
        tf.constant([0, 1, 1]),
        tf.constant([[1.0], [10.0]]),
        tf.constant([[0.0], [0.0]]),
    )
    np.testing.assert_allclose(
        graph.edge_sets[RATED]["weight"].numpy(), [0.70710677, 0.5, 0.70710677], rtol=1e-6
    )
    received = WeightedSumConv(receiver_tag=1)(graph, edge_set_name=RATED)
    np.testing.assert_allclose(received.numpy(), [[0.70710677], [0.5 + 7.0710677]], rtol=1e-6)
    assert set(graph.node_sets) == {USER, ITEM}


@pytest.mark.parametrize("recommender", RECOMMENDERS)
def test_config_round_trip(recommender):
    features = 3 if recommender in ("gcn", "sage") else 0
    model = RecommenderModel(
        num_users=3,
        num_items=4,
        num_interactions=5,
        recommender=recommender,
        embedding_dim=4,
        num_layers=2,
        item_feature_dim=features,
    )
    assert_config_round_trip(model, build=lambda m: m(tf.zeros([1, 3], tf.int32)))


def _model(**options) -> RecommenderModel:
    model = RecommenderModel(
        num_users=3, num_items=4, num_interactions=5, embedding_dim=4, **options
    )
    model(tf.zeros([1, 3], tf.int32))
    model.set_interactions(users=[0, 0, 1, 2, 2], items=[0, 1, 1, 2, 3])
    return model


def test_the_model_carries_its_training_graph():
    model = _model()
    assert model.seen_items().to_list() == [[0, 1], [1], [2, 3]]
    assert model.item_degrees().numpy().tolist() == [1.0, 2.0, 1.0, 1.0]


def test_fold_in_recommendations_for_a_new_user_follow_the_rule():
    model = _model(recommender="mf")
    index = RetrievalIndex.from_model(model, ["a", "b", "c"], ["w", "x", "y", "z"])
    found, scores = index.recommend(np.array([-1]), 4, np.array([[1, 3]], np.int32))
    items = model.embeddings()[1].numpy()
    vector = items[1] / np.sqrt(2 * 2) + items[3] / np.sqrt(2 * 1)  # degrees 2 and 1
    expected = [i for i in np.argsort(-(items @ vector), kind="stable") if i not in (1, 3)]
    assert found[0].tolist() == expected + [-1, -1]  # The history itself is never recommended.
    np.testing.assert_allclose(scores[0, :2], (items @ vector)[expected], rtol=1e-5)


def test_contrastive_weight_adds_simgcls_loss():
    triplets = tf.constant([[0, 0, 2], [1, 1, 3], [2, 2, 0]])
    plain = _model(l2=0.0)
    plain(triplets, training=True)
    assert plain.losses == []
    contrastive = _model(l2=0.0, contrastive_weight=0.5)
    contrastive(triplets, training=True)
    (loss,) = contrastive.losses
    # InfoNCE over 3 users and 3 items: each term lies in (0, 2 log 3 + 2/t] and is > 0.
    assert 0.0 < float(loss) < 0.5 * 2 * (np.log(3) + 2 / 0.2)


def test_gcn_with_movielens_side_features_trains_evaluates_and_recommends(tmp_path):
    from tfgraphtune.training.config import load_config
    from tfgraphtune.training.train import evaluate_run, train

    config = load_config(
        CONFIG,
        [
            "data.interactions.path=null",
            "data.interactions.format=movielens",
            f"data.interactions.movielens_dir={ML100K}",
            "data.interactions.split=time",
            "model.recommender=gcn",
            "model.side_features=true",
            "model.num_layers=2",
            "model.embedding_dim=8",
            "train.epochs=2",
            f"out={tmp_path / 'run'}",
        ],
    )
    result = train(config)
    model = result.model
    split = result.data.inputs.split
    genres = split.train.item_features["genres"]
    # Item side features = the 19 genre flags (titles are text and left out); users get
    # age plus one-hot gender and occupation.
    np.testing.assert_array_equal(model.item_features.numpy()[:, -19:], genres)
    assert model.item_feature_dim >= 19 and model.user_feature_dim > 1
    assert model.user_embedding is None  # Features, not per-id embeddings.
    assert evaluate_run(tmp_path / "run")["test"] == pytest.approx(result.metrics["test"])
    index = RetrievalIndex.from_run(tmp_path / "run")
    found, _ = index.recommend(np.arange(split.num_users), 3)
    for user, row in enumerate(found):
        seen = set(split.train.items[split.train.users == user].tolist())
        assert not seen & set(row[row >= 0].tolist())


def test_simgcl_pretraining_then_bpr_fine_tuning_through_resume(tmp_path):
    from tfgraphtune.data.errors import ValidationError
    from tfgraphtune.training.config import ConfigError

    table = write_table(tmp_path / "events.csv")
    pre = train_run(table, tmp_path / "pre", "train.bpr_weight=0", "train.contrastive_weight=1")
    assert pre.history["loss"][-1] < pre.history["loss"][0]  # The contrastive loss trains.
    resume = f"finetune.resume={tmp_path / 'pre'}"
    tuned = train_run(table, tmp_path / "tuned", resume)
    # Fine-tuning starts from the pre-trained weights: a model built from the resumed
    # one has exactly its embeddings.
    start = tuned.task.build_model(pre.model, tuned.data, load_tuned_config(table, tmp_path))
    for before, after in zip(pre.model.embeddings(), start.embeddings()):
        np.testing.assert_array_equal(before.numpy(), after.numpy())
    assert tuned.metrics["test"]["recall@10"] > pre.metrics["test"]["recall@10"]
    with pytest.raises(ValidationError, match="embedding_dim=16"):
        train_run(table, tmp_path / "bad", resume, "model.embedding_dim=8")
    with pytest.raises(ConfigError, match="nothing to train"):
        train_run(table, tmp_path / "none", "train.bpr_weight=0")


def load_tuned_config(table, tmp_path):
    from tfgraphtune.training.config import load_config

    return load_config(
        CONFIG,
        [f"data.interactions.path={table}", "model.embedding_dim=16", f"out={tmp_path / 'x'}"],
    )


def test_side_feature_matrix_by_hand():
    from tfgraphtune.tasks.recommendation import side_feature_matrix

    features = {
        "age": np.array([20.0, 30.0, 40.0], np.float32),  # leaves [0, 1]: standardized
        "flags": np.array([[0, 1], [1, 0], [1, 1]], np.float32),  # kept as they are
        "occupation": np.array([0, 2, 1], np.int32),  # one-hot
        "title": np.array(["a", "b", "c"]),  # text: left out
    }
    z = np.sqrt(1.5)  # (40 - 30) / std([20, 30, 40]) = 10 / sqrt(200 / 3)
    expected = [
        [-z, 0, 1, 1, 0, 0],
        [0, 1, 0, 0, 0, 1],
        [z, 1, 1, 0, 1, 0],
    ]
    np.testing.assert_allclose(side_feature_matrix(features, 3), expected, rtol=1e-6)
    assert side_feature_matrix({"title": features["title"]}, 3) is None
