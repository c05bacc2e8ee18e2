"""Recommendation: rank items for users from a user-item interaction graph.

Data (``data.dataset: interactions``): an interaction table (``user,item[,rating,
timestamp]``, any id type) or a MovieLens-100K folder, split per user (seeded random
ratio, leave-last-by-time, or a fixed train/test pair of tables) with
`tfgraphtune.recommend.splits`. The model is a `RecommenderModel` (LightGCN, BPR-MF, or a
heterogeneous GCN/GraphSAGE over the ``user``/``item`` node sets) trained with BPR on
``(user, positive, negative)`` triplets, negatives drawn uniformly from the items the user
has not interacted with in training, resampled every epoch; ``train.contrastive_weight``
adds SimGCL's contrastive loss. Evaluation ranks all items a user has not seen in
training (`tfgraphtune.recommend.evaluation.evaluate_rankings`) and reports the
popularity baseline beside the model.

Why the Task protocol is extended (``uses_backbone = False``, ``exports_itself = True``):
the protocol's `Backbone` reads one node set with one feature and one edge set, and its
export answers requests that carry a graph. A recommender's graph is bipartite (two node
sets, per-id embeddings, the training interactions themselves are the graph), and a
request carries user ids, not a graph. So the task builds its own model
(`build_model(None, ...)`), and its run folder's export is a retrieval SavedModel
(`tfgraphtune.recommend.export`). Everything else (config checks, run folder writer,
``model.fit`` with early stopping and TensorBoard, `evaluate_run`) is the common path.

Validation loss: BPR on a fixed draw of training triplets (a fit monitor for early
stopping; the held-out test events are never used for model selection).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import tensorflow as tf
import tensorflow_gnn as tfgnn

from tfgraphtune.data.preprocessing import Preprocessing
from tfgraphtune.recommend.recommender_model import BPRLoss, RecommenderModel
from tfgraphtune.tasks.base import FitInputs, Task, TaskData

DATASET = "interactions"
# Common keys this task does not read: a non-default value is a config error.
_IGNORED_MODEL_KEYS = (
    "conv",
    "hidden_units",
    "activation",
    "final_activation",
    "dropout",
    "input_dropout",
    "sparse_inputs",
    "residual",
    "normalization",
    "conv_options",
    "head_dropout",
    "head_hidden_units",
)
# How many training triplets the validation loss is computed on.
_VALIDATION_TRIPLETS = 4096


@dataclasses.dataclass
class RecommendationInputs:
    """`TaskData.inputs` of the recommendation task.

    Attributes:
      split: The `RecommendationSplit` (train/test over one pair of id maps).
      user_features: ``[U, F]`` float32 user side features, or None.
      item_features: ``[I, F]`` float32 item side features, or None.
      ks: Cut-offs of the ranking metrics (``train.ks``).
    """

    split: Any
    user_features: np.ndarray | None
    item_features: np.ndarray | None
    ks: tuple[int, ...] = (10, 20)


def side_feature_matrix(features: Mapping[str, np.ndarray] | None, rows: int) -> np.ndarray | None:
    """Side features as one float32 matrix: float columns as they are (standardized when
    they leave [0, 1], e.g. age), integer codes one-hot, other types (titles) left out;
    None when nothing numeric remains.

    Statistics come from every node's row: side features describe nodes, not held-out
    events, so nothing of the test split leaks through them.
    """
    columns = []
    for name in sorted(features or {}):
        values = np.asarray(features[name])
        if values.shape[:1] != (rows,):
            continue
        if np.issubdtype(values.dtype, np.integer) and values.ndim == 1:
            columns.append(np.eye(int(values.max(initial=0)) + 1, dtype=np.float32)[values])
        elif np.issubdtype(values.dtype, np.floating) or np.issubdtype(values.dtype, np.bool_):
            block = values.reshape(rows, -1).astype(np.float32)
            outside = (block.min(axis=0) < 0) | (block.max(axis=0) > 1)
            std = block.std(axis=0)
            scale = np.where(outside & (std > 0), std, 1.0)
            block = np.where(outside, (block - block.mean(axis=0)) / scale, block)
            columns.append(block.astype(np.float32))
    return np.concatenate(columns, axis=1) if columns else None


def read_split(section: Mapping[str, Any], seed: int):
    """The interactions of a config's ``data.interactions`` section, split per user.

    Returns:
      ``(RecommendationSplit, notes)``.
    """
    from tfgraphtune.recommend.interactions import read_interaction_table
    from tfgraphtune.recommend.movielens import read_movielens_100k
    from tfgraphtune.recommend.splits import fixed_split, random_split, time_split

    threshold = section["rating_threshold"]
    columns = {"user_col": section["user_column"], "item_col": section["item_column"]}
    reports = []
    if section["split"] == "fixed":
        train, report = read_interaction_table(
            section["train_path"], rating_threshold=threshold, **columns
        )
        test, test_report = read_interaction_table(
            section["test_path"], rating_threshold=threshold, **columns
        )
        reports += [report, test_report]
        split = fixed_split(train, test)
    else:
        if section["format"] == "movielens":
            interactions, report = read_movielens_100k(
                section["movielens_dir"], rating_threshold=threshold
            )
        else:
            interactions, report = read_interaction_table(
                section["path"], rating_threshold=threshold, **columns
            )
        reports.append(report)
        if section["split"] == "time":
            split = time_split(interactions, test_per_user=section["test_per_user"])
        else:
            split = random_split(interactions, test_ratio=section["test_ratio"], seed=seed)
    reports.append(split.report)
    notes = [note for report in reports for step in report.steps for note in step.notes]
    return split, notes


def user_item_schema(num_user_features: int, num_item_features: int) -> tfgnn.GraphSchema:
    """The GraphSchema of the recommender's graph: user/item, rated and rated_by."""
    schema = tfgnn.GraphSchema()
    for node_set, width in (("user", num_user_features), ("item", num_item_features)):
        schema.node_sets[node_set].description = (
            "side features" if width else "no features: learned per-id embeddings"
        )
        if width:
            feature = schema.node_sets[node_set].features["feat"]
            feature.dtype = tf.float32.as_datatype_enum
            feature.shape.dim.add().size = width
    schema.edge_sets["rated"].source, schema.edge_sets["rated"].target = "user", "item"
    schema.edge_sets["rated_by"].source, schema.edge_sets["rated_by"].target = "item", "user"
    return schema


class RecommendationTask(Task):
    """Top-K recommendation on a user-item interaction graph (see the module docstring)."""

    name = "recommendation"
    rows = "nodes"
    metric_names = ()
    metrics_weighted = False
    # The fit monitor: tuning on the test ranking would select on held-out events.
    default_objective = ("val_loss", "min")
    uses_backbone: ClassVar[bool] = False
    exports_itself: ClassVar[bool] = True
    config_keys = frozenset(
        {
            "data.interactions.path",
            "data.interactions.movielens_dir",
            "data.interactions.train_path",
            "model.recommender",
            "model.embedding_dim",
            "model.side_features",
            "train.contrastive_weight",
            "train.bpr_weight",
            "train.ks",
        }
    )
    serving_outputs_doc = "top-K item ids and scores per user (see docs/recommendation.md)"

    # --- configuration -------------------------------------------------------------

    def check_config(self, config: Mapping[str, Any]) -> list[str]:
        from tfgraphtune.training.config import DEFAULTS

        problems = super().check_config(config)
        data, model, train = config["data"], config["model"], config["train"]
        section = data["interactions"]
        if data["dataset"] != DATASET:
            problems.append(
                f"config key 'data.dataset' is {data['dataset']!r}; task 'recommendation' reads "
                "user-item interactions: set data.dataset: interactions and data.interactions "
                "(path, or movielens_dir with format: movielens)"
            )
        elif section["split"] == "fixed":
            if not (section["train_path"] and section["test_path"]):
                problems.append(
                    "data.interactions.split: fixed needs data.interactions.train_path and "
                    "data.interactions.test_path (interaction tables user,item[,rating,timestamp])"
                )
            if section["path"] or section["movielens_dir"] or section["format"] != "table":
                problems.append(
                    "data.interactions.split: fixed reads train_path and test_path (tables); "
                    "remove data.interactions.path / movielens_dir / format"
                )
        elif section["format"] == "movielens":
            if not section["movielens_dir"] or section["path"]:
                problems.append(
                    "data.interactions.format: movielens needs data.interactions.movielens_dir "
                    "(the folder holding u.data) and no data.interactions.path"
                )
        elif not section["path"] or section["movielens_dir"]:
            problems.append(
                "data.interactions.format: table needs data.interactions.path (a CSV/Parquet "
                "table user,item[,rating,timestamp]); for a MovieLens folder set format: "
                "movielens and movielens_dir"
            )
        if section["split"] != "fixed" and (section["train_path"] or section["test_path"]):
            problems.append(
                "data.interactions.train_path/test_path are read only with split: fixed; set "
                "data.interactions.split: fixed or remove them"
            )
        if model["side_features"] and model["recommender"] in ("lightgcn", "mf"):
            problems.append(
                f"config key 'model.side_features' is true, but model.recommender "
                f"{model['recommender']!r} learns per-id embeddings only; use recommender gcn "
                "or sage, or set side_features: false"
            )
        for key in _IGNORED_MODEL_KEYS:
            if model[key] != DEFAULTS["model"][key]:
                problems.append(
                    f"config key 'model.{key}' is set to {model[key]!r}, but task "
                    f"'recommendation' does not use it (model.recommender, embedding_dim, "
                    f"num_layers and l2 shape the recommender); remove it"
                )
        finetune = config["finetune"]
        if finetune["backbone"] or finetune["strategy"] != "full":
            problems.append(
                "task 'recommendation' starts from scratch or from a recommendation run "
                "(finetune.resume, e.g. one pre-trained with train.bpr_weight: 0 and "
                "train.contrastive_weight > 0): remove finetune.backbone and keep "
                "finetune.strategy: full"
            )
        if train["bpr_weight"] == 0 and train["contrastive_weight"] == 0:
            problems.append(
                "config keys 'train.bpr_weight' and 'train.contrastive_weight' are both 0: "
                "nothing to train; set bpr_weight: 1 (ranking) or contrastive_weight > 0 "
                "(SimGCL pre-training)"
            )
        if train["distribution"] not in ("auto", "none", "one_device"):
            problems.append(
                f"config key 'train.distribution' is {train['distribution']!r}; task "
                "'recommendation' trains on one device (full-graph propagation per step): use "
                "auto, none or one_device"
            )
        if train["mixed_precision"] is True:
            problems.append(
                "config key 'train.mixed_precision' is true; task 'recommendation' trains in "
                "float32 (set it to auto or false)"
            )
        return problems

    # --- data ----------------------------------------------------------------------

    def prepare(self, config, *, preprocessing=None, gcn_normalization=False, source=None):
        if source is not None:
            split, notes = source, []
        else:
            split, notes = read_split(config["data"]["interactions"], int(config["train"]["seed"]))
        side = config["model"]["side_features"]
        train = split.train
        user_features = side_feature_matrix(train.user_features, train.num_users) if side else None
        item_features = side_feature_matrix(train.item_features, train.num_items) if side else None
        if side and user_features is None and item_features is None:
            notes.append("model.side_features is true but the data has no numeric side features")
        return TaskData(
            task=self.name,
            schema=user_item_schema(
                0 if user_features is None else user_features.shape[1],
                0 if item_features is None else item_features.shape[1],
            ),
            node_set="item",
            edge_set="rated",
            feature="feat",
            num_features=1,
            feature_dtype="float32",
            preprocessing=preprocessing or Preprocessing(fitted_on="nothing (ids only)"),
            splits={
                "train": np.arange(len(train), dtype=np.int64),
                "test": np.arange(len(split.test), dtype=np.int64),
            },
            num_outputs=1,
            target_mean=None,
            target_std=None,
            notes=tuple(notes),
            warmup_graph=(
                np.zeros((2, 1), np.float32),
                np.array([0], np.int64),
                np.array([1], np.int64),
            ),
            inputs=RecommendationInputs(
                split, user_features, item_features, tuple(config["train"]["ks"])
            ),
            source=split,
        )

    # --- model ---------------------------------------------------------------------

    def example_inputs(self, graph) -> tf.Tensor:
        return tf.zeros([1, 3], tf.int32)

    def build_inputs(self, data: TaskData) -> tf.Tensor:
        return tf.zeros([1, 3], tf.int32)

    def any_graph(self, data: TaskData):
        raise NotImplementedError("the recommendation task builds its own model.")

    def build_model(self, backbone, data: TaskData, config: Mapping[str, Any]) -> tf.keras.Model:
        """A new `RecommenderModel` for the data; with `backbone` (the model of a resumed
        recommendation run, e.g. SimGCL pre-training) its weights start from that model's.

        Raises:
          ValidationError: The resumed model has another structure or training graph.
        """
        inputs: RecommendationInputs = data.inputs
        train = inputs.split.train
        model_section, train_section = config["model"], config["train"]
        model = RecommenderModel(
            num_users=train.num_users,
            num_items=train.num_items,
            num_interactions=len(train),
            recommender=model_section["recommender"],
            embedding_dim=model_section["embedding_dim"],
            num_layers=model_section["num_layers"],
            user_feature_dim=0 if inputs.user_features is None else inputs.user_features.shape[1],
            item_feature_dim=0 if inputs.item_features is None else inputs.item_features.shape[1],
            l2=model_section["l2"],
            contrastive_weight=train_section["contrastive_weight"],
            contrastive_eps=train_section["contrastive_eps"],
            contrastive_temperature=train_section["contrastive_temperature"],
        )
        model(self.build_inputs(data))
        model.set_interactions(
            users=train.users,
            items=train.items,
            user_features=inputs.user_features,
            item_features=inputs.item_features,
        )
        if backbone is not None:
            _start_from(model, backbone, config["finetune"]["resume"])
        return model

    def loss(self, config):
        return BPRLoss(weight=config["train"]["bpr_weight"])

    def keras_metrics(self, config):
        return []

    def fit_inputs(self, data: TaskData, config: Mapping[str, Any]) -> FitInputs:
        from tfgraphtune.recommend.negatives import (
            sample_negatives,
            training_keys,
            triples_dataset,
        )

        split = data.inputs.split
        train = split.train
        batch_size = int(config["train"]["batch_size"])
        seed = int(config["train"]["seed"])
        steps = max(-(-len(train) // batch_size), 1)

        def as_keras(users, positives, negatives):
            triplets = tf.stack([users, positives, negatives], axis=1)
            return triplets, tf.zeros(tf.shape(users), tf.float32)

        # A fixed draw of training triplets: the validation loss monitors the fit.
        pick = np.random.default_rng(seed).permutation(len(train))[:_VALIDATION_TRIPLETS]
        users, items = train.users[pick], train.items[pick]
        negatives = sample_negatives(
            users,
            keys=training_keys(train.users, train.items, train.num_items),
            num_items=train.num_items,
            seed=[seed, 1],
        )
        fixed = as_keras(tf.constant(users, tf.int32), tf.constant(items, tf.int32), negatives)

        def train_fn(context=None):
            # Reshuffled with new negatives every epoch (tfgraphtune.recommend.negatives).
            epochs = int(config["train"]["epochs"])
            dataset = triples_dataset(split, batch_size=batch_size, seed=seed, epochs=epochs)
            return dataset.map(as_keras).repeat()

        def validation_fn(context=None):
            return tf.data.Dataset.from_tensors(fixed).repeat()

        return FitInputs(train_fn, validation_fn, steps_per_epoch=steps, validation_steps=1)

    # --- evaluation ----------------------------------------------------------------

    def evaluate(self, model, data: TaskData) -> dict[str, dict[str, float]]:
        from tfgraphtune.recommend.evaluation import evaluate_rankings

        split = data.inputs.split
        ks = data.inputs.ks
        users, items = (x.numpy() for x in model.embeddings())
        metrics = evaluate_rankings(lambda rows: users[rows] @ items.T, split, ks=ks)
        popularity = np.bincount(split.train.items, minlength=split.num_items).astype(np.float32)
        baseline = evaluate_rankings(
            lambda rows: np.broadcast_to(popularity, (len(rows), split.num_items)), split, ks=ks
        )
        return {
            "test": metrics,
            "test_popularity": baseline,
            "data": {
                "users": split.num_users,
                "items": split.num_items,
                "train_interactions": len(split.train),
                "test_interactions": len(split.test),
            },
        }

    def tables(self, model, data: TaskData) -> dict[str, pd.DataFrame]:
        """The id maps and the training interactions (original ids) for the run folder."""
        split = data.inputs.split
        return {
            "users": pd.DataFrame({"id": split.user_ids}).rename_axis("row"),
            "items": pd.DataFrame({"id": split.item_ids}).rename_axis("row"),
            "train_interactions": pd.DataFrame(
                {
                    "user": split.user_ids[split.train.users],
                    "item": split.item_ids[split.train.items],
                }
            ).rename_axis("row"),
        }

    # --- serving -------------------------------------------------------------------

    def serving_outputs(self, model, graph):
        raise NotImplementedError(
            "the recommendation task exports a retrieval model (tfgraphtune.recommend.export)."
        )

    def export_run(self, run, out, **options):
        from tfgraphtune.recommend.export import export_recommender

        return export_recommender(run, out, **options)


def _start_from(model: RecommenderModel, resumed: RecommenderModel, path: str) -> None:
    """Copies a resumed run's weights into `model` (same structure and training graph)."""
    from tfgraphtune.data.errors import ValidationError

    structure = ("recommender", "num_users", "num_items", "num_interactions", "embedding_dim",
                 "num_layers", "user_feature_dim", "item_feature_dim")  # fmt: skip
    for key in structure:
        if getattr(model, key) != getattr(resumed, key):
            raise ValidationError(
                f"finetune.resume {path}: its model has {key}={getattr(resumed, key)!r} but "
                f"this config and data give {getattr(model, key)!r}; resume with the same "
                "model section and data.interactions (split and seed included)."
            )
    same_graph = np.array_equal(
        resumed.graph_users.numpy(), model.graph_users.numpy()
    ) and np.array_equal(resumed.graph_items.numpy(), model.graph_items.numpy())
    if not same_graph:
        raise ValidationError(
            f"finetune.resume {path} was trained on other training interactions; resume "
            "with the same data.interactions (split, test_ratio and train.seed)."
        )
    model.set_weights(resumed.get_weights())
