"""``tfgraphtune recommend RUN_DIR --users all|ID[,ID...] --k K --out recs.csv``: top-K lists."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from tfgraphtune.cli.errors import UserError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "recommend",
        help="top-K items per user from a recommendation run folder",
        description="Writes OUT (CSV: user,rank,item,score with the data's original ids), "
        "the K best items per user by the trained model, never an item the user "
        "interacted with in training. A user not in the training data gets fold-in "
        "recommendations from --history (the items it interacted with; see "
        "docs/recommendation.md for the rule); for known users the --history items are "
        "excluded too.",
    )
    parser.add_argument(
        "run_dir", help="folder written by `tfgraphtune finetune` (task: recommendation)"
    )
    parser.add_argument(
        "--users", required=True, help="'all' (every training user) or ids separated by commas"
    )
    parser.add_argument("--k", type=int, default=10, help="items per user (default 10)")
    parser.add_argument("--out", required=True, help="CSV file to write")
    parser.add_argument(
        "--history",
        default=None,
        help="item ids separated by commas: what the listed users interacted with "
        "(fold-in for users not in training)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace an existing OUT")
    parser.set_defaults(handler=run)


def _ids(text: str, flag: str) -> list[str]:
    ids = [part.strip() for part in text.split(",")]
    if not all(ids):
        raise UserError(f"{flag} {text!r} has an empty id; separate ids with single commas.")
    return list(dict.fromkeys(ids))


def check_output(path: Path, *, overwrite: bool) -> None:
    """Fails before any work if OUT cannot be written."""
    if path.is_dir():
        raise UserError(f"--out {path} is a folder; name a CSV file, e.g. {path / 'recs.csv'}.")
    if path.exists() and not overwrite:
        raise UserError(
            f"--out {path} exists; pass --overwrite to replace it, or name another file."
        )
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise UserError(f"--out {path}: folder {parent} does not exist; create it first.")
    if not os.access(parent, os.W_OK):
        raise UserError(f"--out {path}: folder {parent} is not writable.")


def run(args: argparse.Namespace) -> int:
    import time

    import numpy as np
    import pandas as pd

    from tfgraphtune.cli.evaluate import resolve_run_dir
    from tfgraphtune.recommend.run_index import RetrievalIndex

    if args.k < 1:
        raise UserError(f"--k must be an integer >= 1; received {args.k}.")
    out = Path(args.out)
    check_output(out, overwrite=args.overwrite)
    history = _ids(args.history, "--history") if args.history is not None else None
    everyone = args.users.strip() == "all"
    users = None if everyone else _ids(args.users, "--users")
    if everyone and history is not None:
        raise UserError(
            "--history applies to the users listed in --users (new users get fold-in "
            "recommendations from it); it cannot be combined with --users all."
        )
    run_dir = resolve_run_dir(args.run_dir)
    start = time.perf_counter()
    index = RetrievalIndex.from_run(run_dir)
    if everyone:
        users = list(index.user_ids)
        rows = np.arange(len(users))
    else:
        rows = np.array([index.user_row.get(user, -1) for user in users], np.int64)
    unknown = [user for user, row in zip(users, rows) if row < 0]
    if unknown and history is None:
        raise UserError(
            f"user {unknown[0]!r} is not in the training data of {run_dir}"
            + (f" (nor {len(unknown) - 1} more)" if len(unknown) > 1 else "")
            + "; pass --history ITEM[,ITEM...] with the items it interacted with to get "
            "fold-in recommendations, or use a user id from the run's users.csv."
        )
    history_rows = np.zeros((len(rows), 0), np.int32)
    if history is not None:
        missing = [item for item in history if item not in index.item_row]
        if missing:
            raise UserError(
                f"--history names item {missing[0]!r}"
                + (f" and {len(missing) - 1} more" if len(missing) > 1 else "")
                + f" not in the training data of {run_dir}; use item ids from its items.csv."
            )
        history_rows = np.tile(
            np.array([index.item_row[item] for item in history], np.int32), (len(rows), 1)
        )
    found, scores = index.recommend(rows, args.k, history_rows)
    keep = found >= 0
    user_column = np.repeat(np.asarray(users, dtype=object), keep.sum(axis=1))
    ranks = (np.cumsum(keep, axis=1))[keep]
    table = pd.DataFrame(
        {
            "user": user_column,
            "rank": ranks,
            "item": index.item_ids[found[keep]],
            "score": scores[keep],
        }
    )
    staging = out.with_name(f".{out.name}.tmp")
    table.to_csv(staging, index=False)
    os.replace(staging, out)
    elapsed = time.perf_counter() - start
    folded = len(unknown)
    print(
        f"wrote {len(table)} recommendations for {len(users)} users to {out} in {elapsed:.2f} s"
        + (f" ({folded} new users by fold-in from {len(history)} history items)" if folded else "")
    )
    return 0
