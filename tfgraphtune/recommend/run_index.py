"""`RetrievalIndex`: what top-K retrieval needs from a recommendation run folder.

Built once from the folder alone: the restored model gives the final user and item
embeddings, the item degrees (for fold-in) and every user's training items (its weights
hold the training graph); ``users.csv`` / ``items.csv`` map rows to the original ids
(as strings). `tfgraphtune recommend` and the retrieval export both read it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import tensorflow as tf

from tfgraphtune.data.errors import ValidationError
from tfgraphtune.recommend.retrieval import NO_ITEM, fold_in, top_k_excluding

# Users scored per top-K batch: a [batch, I] float32 score block (2,048 x 100,000 items =
# 800 MB at most; 2,048 x 2,000 = 16 MB).
USER_BATCH = 2048


@dataclasses.dataclass
class RetrievalIndex:
    """Embeddings, id maps and seen items of a trained recommender.

    Attributes:
      user_ids: ``[U]`` original user ids as strings (row -> id).
      item_ids: ``[I]`` original item ids as strings.
      user_embeddings: ``[U, d]`` float32 final user embeddings.
      item_embeddings: ``[I, d]`` float32 final item embeddings.
      item_degrees: ``[I]`` float32 training interactions per item.
      seen_splits: ``[U + 1]`` int64 row splits of the users' training items.
      seen_items: int32 training item rows, user by user (sorted per user).
    """

    user_ids: np.ndarray
    item_ids: np.ndarray
    user_embeddings: np.ndarray
    item_embeddings: np.ndarray
    item_degrees: np.ndarray
    seen_splits: np.ndarray
    seen_items: np.ndarray

    def __post_init__(self):
        self.user_row = {user: row for row, user in enumerate(self.user_ids)}
        self.item_row = {item: row for row, item in enumerate(self.item_ids)}

    @classmethod
    def from_run(cls, run_dir: str | Path) -> RetrievalIndex:
        """Reads a recommendation run folder.

        Raises:
          RunFolderError: Not a complete run folder.
          ValidationError: Not a recommendation run, or its id tables are damaged.
        """
        from tfgraphtune.training.run_folder import load_run, read_run_config

        run_dir = Path(run_dir)
        task = read_run_config(run_dir)["task"]
        if task != "recommendation":
            raise ValidationError(
                f"{run_dir} is a {task} run; `recommend` and the retrieval export need a run "
                "trained with task: recommendation."
            )
        run = load_run(run_dir)
        return cls.from_model(run.model, ids_table(run_dir, "users"), ids_table(run_dir, "items"))

    @classmethod
    def from_model(cls, model, user_ids, item_ids) -> RetrievalIndex:
        """From a trained `RecommenderModel` and its id maps."""
        users, items = model.embeddings()
        seen = model.seen_items()
        return cls(
            user_ids=np.asarray(user_ids, dtype=str).astype(object),
            item_ids=np.asarray(item_ids, dtype=str).astype(object),
            user_embeddings=users.numpy(),
            item_embeddings=items.numpy(),
            item_degrees=model.item_degrees().numpy(),
            seen_splits=seen.row_splits.numpy().astype(np.int64),
            seen_items=seen.flat_values.numpy().astype(np.int32),
        )

    @property
    def num_items(self) -> int:
        return len(self.item_ids)

    def recommend(
        self, user_rows: np.ndarray, k: int, history: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-`k` item rows and scores per user, in batches of `USER_BATCH` users.

        Args:
          user_rows: ``[B]`` user rows; ``-1`` for a user not in training (needs `history`).
          k: How many per user.
          history: ``[B, H]`` item rows padded with -1: excluded for known users, the
            fold-in input for new ones (see `tfgraphtune.recommend.retrieval`).

        Returns:
          ``(item rows [B, K], scores [B, K])``, row -1 / score -inf past the items left.
        """
        user_rows = np.asarray(user_rows, np.int64)
        if history is None:
            history = np.full((len(user_rows), 0), NO_ITEM, np.int32)
        history = np.asarray(history, np.int32)
        items_out, scores_out = [], []
        for start in range(0, max(len(user_rows), 1), USER_BATCH):
            rows = user_rows[start : start + USER_BATCH]
            found, scores = recommend_batch(
                self.user_embeddings,
                self.item_embeddings,
                self.item_degrees,
                self.seen_items,
                self.seen_splits,
                tf.constant(rows, tf.int64),
                tf.constant(history[start : start + USER_BATCH], tf.int32),
                k,
            )
            items_out.append(found.numpy())
            scores_out.append(scores.numpy())
        return np.concatenate(items_out), np.concatenate(scores_out)


def recommend_batch(
    user_embeddings, item_embeddings, item_degrees, seen_items, seen_splits, user_rows, history, k
) -> tuple[tf.Tensor, tf.Tensor]:
    """One batch of top-K (the function the export traces, too).

    Args:
      user_embeddings: ``[U, d]``.
      item_embeddings: ``[I, d]``.
      item_degrees: ``[I]``.
      seen_items: Training item rows, user by user.
      seen_splits: ``[U + 1]`` row splits of `seen_items`.
      user_rows: ``[B]`` int64 user rows, -1 for a new user.
      history: ``[B, H]`` int32 item rows padded with -1.
      k: How many.

    Returns:
      ``(item rows [B, K], scores [B, K])``.
    """
    known = user_rows >= 0
    # One empty row appended at index U: new users (row -1) see nothing in training.
    seen_splits = tf.cast(seen_splits, tf.int64)
    splits = tf.concat([seen_splits, seen_splits[-1:]], axis=0)
    all_seen = tf.RaggedTensor.from_row_splits(tf.cast(seen_items, tf.int32), splits)
    seen = tf.gather(all_seen, tf.where(known, user_rows, tf.shape(splits, tf.int64)[0] - 2))
    vectors = tf.where(
        known[:, None],
        tf.gather(user_embeddings, tf.maximum(user_rows, 0)),
        fold_in(item_embeddings, item_degrees, history),
    )
    exclude = tf.concat([tf.cast(seen, tf.int32), tf.RaggedTensor.from_tensor(history)], axis=1)
    scores, found = top_k_excluding(vectors, item_embeddings, exclude, k)
    return found, scores


def ids_table(run_dir: Path, name: str) -> np.ndarray:
    """Row -> original id (strings) from ``RUN_DIR/NAME.csv``.

    Raises:
      ValidationError: The file is missing or lacks the ``row,id`` columns.
    """
    path = Path(run_dir) / f"{name}.csv"
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise ValidationError(
            f"{path} is missing; the run folder is incomplete (train it again)."
        ) from None
    if (
        list(table.columns) != ["row", "id"]
        or not (table["row"].astype(int).to_numpy() == np.arange(len(table))).all()
    ):
        raise ValidationError(f"{path} must have columns row,id with rows 0..N-1; it is damaged.")
    return table["id"].to_numpy()
