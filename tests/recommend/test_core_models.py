"""LightGCN, BPR-MF, popularity, losses, negatives, SimGCL and the trainer."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import assert_config_round_trip
from tfgraphtune.data.errors import ValidationError
from tfgraphtune.recommend.contrastive import add_uniform_noise, info_nce, simgcl_loss
from tfgraphtune.recommend.lightgcn import LightGCN, normalized_adjacency
from tfgraphtune.recommend.losses import bpr_loss, l2_embedding_loss
from tfgraphtune.recommend.matrix_factorization import MatrixFactorization
from tfgraphtune.recommend.negatives import sample_negatives, training_keys, triples_dataset
from tfgraphtune.recommend.popularity import Popularity
from tfgraphtune.recommend.splits import random_split
from tfgraphtune.recommend.synthetic import synthetic_interactions
from tfgraphtune.recommend.trainer import fit_recommender

# Two users, two items; pairs (u0, i0), (u0, i1), (u1, i1). Nodes: u0=0, u1=1, i0=2, i1=3.
# Degrees: u0 2, u1 1, i0 1, i1 2 -> weights 1/sqrt(2*1), 1/sqrt(2*2), 1/sqrt(1*2).
USERS, ITEMS = np.array([0, 0, 1]), np.array([0, 1, 1])
EXPECTED_A = np.array(
    [
        [0, 0, 1 / math.sqrt(2), 0.5],
        [0, 0, 0, 1 / math.sqrt(2)],
        [1 / math.sqrt(2), 0, 0, 0],
        [0.5, 1 / math.sqrt(2), 0, 0],
    ]
)


def test_normalized_adjacency_by_hand():
    indices, values = normalized_adjacency(USERS, ITEMS, 2, 2)
    dense = np.zeros((4, 4))
    dense[indices[:, 0], indices[:, 1]] = values
    np.testing.assert_allclose(dense, EXPECTED_A, rtol=1e-6)
    # Repeated pairs count once.
    again, _ = normalized_adjacency(np.r_[USERS, 0], np.r_[ITEMS, 0], 2, 2)
    assert np.array_equal(again, indices)


def test_lightgcn_is_the_mean_of_propagated_layers():
    model = LightGCN(2, 2, num_interactions=3, num_layers=2, embedding_dim=3)
    model.set_interactions(users=USERS, items=ITEMS)
    ego = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    model.user_embeddings.assign(ego[:2])
    model.item_embeddings.assign(ego[2:])
    # E = (E0 + A E0 + A^2 E0) / 3: no transform, no non-linearity.
    expected = (ego + EXPECTED_A @ ego + EXPECTED_A @ EXPECTED_A @ ego) / 3
    users, items = model.final_embeddings()
    np.testing.assert_allclose(np.vstack([users, items]), expected, rtol=1e-5)
    scores = model((tf.constant([0, 1]), tf.constant([1, 0]))).numpy()
    np.testing.assert_allclose(scores, [expected[0] @ expected[3], expected[1] @ expected[2]])
    np.testing.assert_allclose(model.score_users([1]).numpy(), [expected[1] @ expected[2:].T])


def test_lightgcn_refuses_a_graph_of_another_size():
    model = LightGCN(2, 2, num_interactions=2)
    with pytest.raises(ValidationError, match="num_interactions=2"):
        model.set_interactions(users=USERS, items=ITEMS)


@pytest.mark.parametrize(
    "make",
    [
        lambda: LightGCN(3, 4, num_interactions=3, num_layers=2, embedding_dim=5),
        lambda: MatrixFactorization(3, 4, embedding_dim=5),
        lambda: Popularity(4, num_users=3),
    ],
    ids=["lightgcn", "mf", "popularity"],
)
def test_config_round_trip_and_weight_reload(make, tmp_path):
    model = make()
    if hasattr(model, "set_interactions"):
        model.set_interactions(users=[0, 1, 2], items=[0, 3, 3])
    restored = assert_config_round_trip(model)
    model.save_weights(str(tmp_path / "weights"))
    restored.load_weights(str(tmp_path / "weights"))
    np.testing.assert_allclose(restored.score_users([0, 2]), model.score_users([0, 2]))


def test_bpr_and_l2_by_hand():
    # softplus(0 - 2) = ln(1 + e^-2) = 0.126928; softplus(1 - 1) = ln 2 = 0.693147.
    assert float(bpr_loss([2.0, 1.0], [0.0, 1.0])) == pytest.approx((0.126928 + 0.693147) / 2)
    # (1 + 4 + 9) / 2 / batch 2 = 3.5
    penalty = l2_embedding_loss(tf.constant([[1.0]]), tf.constant([[2.0, 3.0]]), batch_size=2)
    assert float(penalty) == 3.5


def test_info_nce_by_hand():
    # Identical orthonormal views of 3 rows, t = 0.5: each row's logits are 2 (itself)
    # and 0, 0 -> loss = -log(e^2 / (e^2 + 2)) = log(1 + 2 e^-2) = 0.239548.
    view = tf.eye(3)
    assert float(info_nce(view, view, 0.5)) == pytest.approx(0.239548, abs=1e-5)


def test_simgcl_noise_has_norm_eps_and_keeps_signs():
    embeddings = tf.constant([[1.0, -2.0, 0.5], [-1.0, 1.0, -1.0]])
    noisy = add_uniform_noise(embeddings, 0.1)
    noise = (noisy - embeddings).numpy()
    np.testing.assert_allclose(np.linalg.norm(noise, axis=1), [0.1, 0.1], rtol=1e-5)
    assert (np.sign(noise) * np.sign(embeddings.numpy()) >= 0).all()


def test_simgcl_loss_differs_between_views_and_has_gradients():
    model = LightGCN(3, 4, num_interactions=3, num_layers=2, embedding_dim=8)
    model.set_interactions(users=[0, 1, 2], items=[0, 3, 3])
    with tf.GradientTape() as tape:
        loss = simgcl_loss(model, tf.constant([0, 1, 1]), tf.constant([0, 3, 3]))
    gradients = tape.gradient(loss, model.trainable_variables)
    assert float(loss) > 0 and all(g is not None for g in gradients)


def test_negatives_avoid_training_items_and_are_seeded():
    # User 0 saw items 0-7 of 10 (only 8 and 9 are negatives), user 1 saw item 3.
    users = np.r_[np.zeros(8, int), 1]
    items = np.r_[np.arange(8), 3]
    keys = training_keys(users, items, 10)
    queries = np.r_[np.zeros(2000, int), np.ones(2000, int)]
    first = sample_negatives(queries, keys=keys, num_items=10, seed=[4, 2]).numpy()
    second = sample_negatives(queries, keys=keys, num_items=10, seed=[4, 2]).numpy()
    assert np.array_equal(first, second)
    assert set(first[:2000]) == {8, 9}
    assert 3 not in set(first[2000:]) and set(first[2000:]) == set(range(10)) - {3}
    # Uniform over the 9 unseen items of user 1: each about 2000 / 9 = 222.
    counts = np.bincount(first[2000:], minlength=10)[np.r_[0:3, 4:10]]
    assert counts.min() > 160 and counts.max() < 290


def test_triples_cover_every_pair_each_epoch_in_a_new_order():
    split = random_split(synthetic_interactions(num_users=40, num_items=30, seed=5), seed=0)
    batches = list(triples_dataset(split, batch_size=64, seed=1, epochs=2))
    per_epoch = math.ceil(len(split.train) / 64)
    assert len(batches) == 2 * per_epoch
    epochs = [
        [np.concatenate([b[j].numpy() for b in batches[e * per_epoch : (e + 1) * per_epoch]])
         for j in range(3)]
        for e in range(2)
    ]  # fmt: skip
    train = set(zip(split.train.users.tolist(), split.train.items.tolist()))
    for users, positives, negatives in epochs:
        assert sorted(zip(users.tolist(), positives.tolist())) == sorted(train)
        assert not set(zip(users.tolist(), negatives.tolist())) & train
    assert not np.array_equal(epochs[0][0], epochs[1][0])


def test_fit_is_deterministic_and_times_epochs():
    split = random_split(synthetic_interactions(num_users=60, num_items=40, seed=6), seed=0)
    results = []
    for _ in range(2):
        tf.keras.utils.set_random_seed(3)
        model = LightGCN.from_split(split, embedding_dim=8, num_layers=2)
        history = fit_recommender(
            model, split, epochs=3, batch_size=128, seed=3, contrastive_weight=0.1
        )
        results.append((history.history["loss"], model.final_embeddings()[0]))
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])
    assert len(history.history["epoch_seconds"]) == 3
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_fit_checks_its_options():
    split = random_split(synthetic_interactions(num_users=20, num_items=30, seed=6), seed=0)
    with pytest.raises(ValidationError, match="epochs"):
        fit_recommender(MatrixFactorization(20, 30), split, epochs=0)
    with pytest.raises(ValidationError, match="from_split"):
        fit_recommender(MatrixFactorization(21, 30), split, epochs=1)


def test_contrastive_pretraining_then_bpr_fine_tuning():
    from tfgraphtune.recommend.contrastive import pretrain_contrastive

    split = random_split(synthetic_interactions(num_users=60, num_items=40, seed=7), seed=0)
    tf.keras.utils.set_random_seed(0)
    model = LightGCN.from_split(split, embedding_dim=8, num_layers=2)
    before = model.final_embeddings()[0]
    history = pretrain_contrastive(model, split, epochs=4, batch_size=64, learning_rate=0.01)
    # Pre-training optimises the contrastive loss alone: BPR has weight 0 in the total.
    losses = history.history
    assert losses["contrastive_loss"][-1] < losses["contrastive_loss"][0]
    np.testing.assert_allclose(
        losses["loss"],
        np.array(losses["contrastive_loss"]) + 1e-4 * np.array(losses["l2_loss"]),
        rtol=1e-5,
    )
    assert not np.allclose(before, model.final_embeddings()[0])
    tuned = fit_recommender(model, split, epochs=2, batch_size=64, seed=0)
    assert tuned.history["contrastive_loss"] == [0.0, 0.0]
