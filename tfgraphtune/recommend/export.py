"""The retrieval export of a recommendation run: a SavedModel TensorFlow alone can serve.

Signatures (ids are the training data's original ids, as strings):

* ``serving_default`` / ``recommend``: ``users`` [B] string, ``k`` int32 scalar ->
  ``items`` [B, K] string, ``scores`` [B, K] float32; training items excluded; an unknown
  user is an ``INVALID_ARGUMENT`` error naming the fix (send a history).
* ``recommend_with_history``: ``users`` [B], ``history`` [B, H] string item ids padded
  with ``""``, ``k``: users not in training get fold-in recommendations from their history
  (the rule in `tfgraphtune.recommend.retrieval`); for known users the history items are
  excluded too. Unknown history items are an error.
* ``user_embeddings``: ``users`` [B] -> ``embeddings`` [B, d] (query vectors for an ANN
  index); ``item_embeddings``: no input -> ``item_ids`` [I], ``embeddings`` [I, d].

Bounded work per request (checked in the graph before anything is allocated): at most
``max_users`` users, ``k <= max_k`` and ``H <= max_history``, so one request scores at
most ``max_users x I`` user-item pairs. Past the items a user has left, rows hold item
``""`` and score ``-inf``.

The module holds only TensorFlow ops and constants (embeddings, item degrees, the
training items per user, the id vocabularies): loading it needs neither tfgraphtune nor
tensorflow_gnn (`tests/recommend/test_product_cli.py` checks it in a TensorFlow-only
process).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf

from tfgraphtune.checks import positive_int
from tfgraphtune.recommend.retrieval import NO_ITEM
from tfgraphtune.recommend.run_index import RetrievalIndex, recommend_batch

METADATA_FILE = "tfgraphtune_serving.json"
SIGNATURES = ("serving_default", "recommend", "recommend_with_history", "user_embeddings",
              "item_embeddings")  # fmt: skip


@dataclasses.dataclass(frozen=True)
class RetrievalLimits:
    """Bounds on one retrieval request.

    Attributes:
      max_users: Most users per request.
      max_k: Largest ``k``.
      max_history: Longest history per user.
    """

    max_users: int = 10_000
    max_k: int = 1_000
    max_history: int = 1_000

    def __post_init__(self):
        for name in ("max_users", "max_k", "max_history"):
            positive_int(name, getattr(self, name))


class RetrievalModule(tf.Module):
    """The exported retrieval model (see the module docstring)."""

    def __init__(self, index: RetrievalIndex, limits: RetrievalLimits):
        super().__init__()
        self.limits = limits
        self.user_embedding = tf.Variable(index.user_embeddings, trainable=False)
        self.item_embedding = tf.Variable(index.item_embeddings, trainable=False)
        self.item_degree = tf.Variable(index.item_degrees, trainable=False)
        self.seen_items = tf.Variable(index.seen_items, trainable=False)
        self.seen_splits = tf.Variable(index.seen_splits, trainable=False)
        self.item_ids = tf.Variable(index.item_ids.astype(str).astype(bytes), trainable=False)
        self.user_table = _table(index.user_ids)
        self.item_table = _table(index.item_ids)

    def _k(self, k):
        return [
            tf.debugging.assert_positive(k, message="k must be >= 1"),
            tf.debugging.assert_less_equal(
                k, self.limits.max_k, message=f"k exceeds the exported maximum {self.limits.max_k}"
            ),
        ]

    def _users(self, users):
        return tf.debugging.assert_less_equal(
            tf.size(users),
            self.limits.max_users,
            message=f"too many users in one request (maximum {self.limits.max_users}); split it",
        )

    def _rows(self, users, *, allow_unknown: bool):
        rows = self.user_table.lookup(users)
        checks = [self._users(users)]
        if not allow_unknown:
            checks.append(
                tf.debugging.assert_non_negative(
                    rows,
                    message="unknown user id (not in the training data); send its item "
                    "history to recommend_with_history for fold-in recommendations",
                )
            )
        return rows, checks

    def _answer(self, rows, history, k):
        found, scores = recommend_batch(
            self.user_embedding,
            self.item_embedding,
            self.item_degree,
            self.seen_items,
            self.seen_splits,
            rows,
            history,
            k,
        )
        items = tf.where(found >= 0, tf.gather(self.item_ids, tf.maximum(found, 0)), "")
        return {"items": items, "scores": scores}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string), tf.TensorSpec([], tf.int32)])
    def recommend(self, users, k):
        rows, checks = self._rows(users, allow_unknown=False)
        with tf.control_dependencies(checks + self._k(k)):
            history = tf.fill([tf.size(users), 0], NO_ITEM)
            return self._answer(rows, history, k)

    @tf.function(
        input_signature=[
            tf.TensorSpec([None], tf.string),
            tf.TensorSpec([None, None], tf.string),
            tf.TensorSpec([], tf.int32),
        ]
    )
    def recommend_with_history(self, users, history, k):
        rows, checks = self._rows(users, allow_unknown=True)
        padding = tf.equal(history, "")
        history_rows = tf.where(
            padding, NO_ITEM, tf.cast(self.item_table.lookup(history), tf.int32)
        )
        known = rows >= 0
        counts = tf.reduce_sum(tf.cast(~padding, tf.int32), axis=1)
        checks += [
            tf.debugging.assert_equal(
                tf.shape(history)[0], tf.size(users), message="history needs one row per user"
            ),
            tf.debugging.assert_less_equal(
                tf.shape(history)[1],
                self.limits.max_history,
                message=f"history longer than the exported maximum {self.limits.max_history}",
            ),
            tf.debugging.assert_non_negative(
                tf.where(padding, 0, history_rows),
                message="unknown item id in history (not in the training data)",
            ),
            tf.debugging.assert_equal(
                tf.logical_or(known, counts > 0),
                True,
                message="unknown user id with an empty history; send the items it interacted with",
            ),
        ]
        with tf.control_dependencies(checks + self._k(k)):
            return self._answer(rows, history_rows, k)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def user_embeddings(self, users):
        rows, checks = self._rows(users, allow_unknown=False)
        with tf.control_dependencies(checks):
            return {"embeddings": tf.gather(self.user_embedding, rows)}

    @tf.function(input_signature=[])
    def item_embeddings(self):
        return {
            "item_ids": tf.identity(self.item_ids),
            "embeddings": tf.identity(self.item_embedding),
        }

    def signatures(self) -> dict:
        return {
            "serving_default": self.recommend,
            "recommend": self.recommend,
            "recommend_with_history": self.recommend_with_history,
            "user_embeddings": self.user_embeddings,
            "item_embeddings": self.item_embeddings,
        }


_README = """# {name}: retrieval export of a tfgraphtune recommendation run

Version {version} (and any later ones) lie in numbered folders; serve the folder with TF
Serving (`--model_base_path`) or load a version with `tf.saved_model.load`.

Signatures (ids are the training data's original ids, as strings):
- `recommend` (= `serving_default`): `users` [B] string, `k` int32 -> `items` [B,K] string,
  `scores` [B,K]; training items excluded; unknown users are an error.
- `recommend_with_history`: `users` [B], `history` [B,H] string ('' pads), `k`: fold-in for
  users not in training, history items excluded for known ones.
- `user_embeddings`: `users` [B] -> `embeddings` [B,d]; `item_embeddings`: -> `item_ids`,
  `embeddings` [I,d] (for an approximate-nearest-neighbour index; score = dot product).

Limits per request: see assets.extra/tfgraphtune_serving.json.
"""


def _table(ids: np.ndarray) -> tf.lookup.StaticHashTable:
    keys = tf.constant(np.asarray(ids, dtype=str).astype(bytes))
    values = tf.range(len(ids), dtype=tf.int64)
    return tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(keys, values), -1)


def export_recommender(
    run,
    out: str | Path,
    *,
    version: int | None = None,
    model_name: str | None = None,
    retrieval_limits: RetrievalLimits | None = None,
    **_graph_options,
):
    """Writes the retrieval SavedModel of a loaded recommendation run as ``out/<version>``.

    Args:
      run: A loaded `tfgraphtune.training.run_folder.Run` of task ``recommendation``.
      out: TF Serving's base path (created if missing).
      version: Version number; default one past the newest.
      model_name: Name recorded in the metadata; default the folder name.
      retrieval_limits: Per-request bounds (`RetrievalLimits`).
      **_graph_options: Options of graph exports (quantize, graph limits, batching);
        retrieval ignores them.

    Returns:
      An `ExportResult`.
    """
    import tfgraphtune
    from tfgraphtune.recommend.run_index import ids_table
    from tfgraphtune.serving.compression import saved_model_size
    from tfgraphtune.serving.exporter import ExportResult, next_version

    limits = retrieval_limits or RetrievalLimits()
    index = RetrievalIndex.from_model(
        run.model, ids_table(run.path, "users"), ids_table(run.path, "items")
    )
    base_dir = Path(out)
    base_dir.mkdir(parents=True, exist_ok=True)
    model_name = model_name or base_dir.resolve().name
    version = next_version(base_dir, version)
    module = RetrievalModule(index, limits)
    staging = Path(tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=base_dir))
    try:
        tf.saved_model.save(module, str(staging), signatures=module.signatures())
        extra = staging / "assets.extra"
        extra.mkdir()
        info = {
            "task": "recommendation",
            "model_name": model_name,
            "version": version,
            "signatures": list(SIGNATURES),
            "limits": dataclasses.asdict(limits),
            "num_users": len(index.user_ids),
            "num_items": len(index.item_ids),
            "embedding_dim": int(index.item_embeddings.shape[1]),
            "recommender": run.model.recommender,
            "run_dir": str(Path(run.path).resolve()),
            "tfgraphtune_version": tfgraphtune.__version__,
            "tensorflow_version": tf.__version__,
        }
        (extra / METADATA_FILE).write_text(json.dumps(info, indent=2))
        version_dir = base_dir / str(version)
        if version_dir.exists():
            raise FileExistsError(f"version {version} appeared in {base_dir} during the export.")
        os.rename(staging, version_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    (base_dir / "README.md").write_text(_README.format(name=model_name, version=version))
    return ExportResult(
        version_dir=version_dir,
        version=version,
        model_name=model_name,
        size_bytes=saved_model_size(version_dir),
        quantize="float32",
        quantized_variables=(),
    )
