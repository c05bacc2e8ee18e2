"""Recommendation benchmark: popularity, BPR-MF, LightGCN and LightGCN + SimGCL side by side.

Every model is trained on the same per-user split and scored by the same full-ranking
evaluator (`tfgraphtune.recommend.evaluate_rankings`: all items a user has not interacted
with in training are candidates; Recall, NDCG, HitRate, Precision, MRR and catalogue
coverage at each K), with the training seconds per epoch.

Models (``--models``, comma-separated):
- ``popularity``: training counts per item (no training);
- ``bpr_mf``: matrix factorisation with the BPR loss (Rendle et al., UAI 2009);
- ``lightgcn``: LightGCN (He et al., SIGIR 2020), ``--layers`` propagation layers;
- ``lightgcn_simgcl``: LightGCN + SimGCL's contrastive loss (Yu et al., SIGIR 2022) with
  weight ``--contrastive-weight``, noise ``--noise-eps``, temperature ``--temperature``;
- ``lightgcn_simgcl_pretrain``: ``--pretrain-epochs`` of the contrastive loss alone, then
  ``--epochs`` of BPR (pre-training, then fine-tuning).

Data: ``--format table`` reads a CSV/Parquet ``user,item[,rating,timestamp]`` table,
``--format movielens`` a MovieLens-100K folder (``u.data``, ``u.item``, ``u.user``).
``--split random`` holds out ``--test-ratio`` of each user's events (seed s per run),
``--split time`` each user's last event. ``--train TRAIN.csv --test TEST.csv`` uses a
split fixed elsewhere instead. ``--write-synthetic CSV`` first writes a synthetic table
with planted preferences (`synthetic_interactions`) and, without ``--data``, uses it.
``--recs-out DIR`` writes each model's top-K (K = the largest ``--ks``) for every test
user, from the seed-0 run, as ``DIR/MODEL.csv`` with columns ``user,rank,item,score``
(original ids, training items excluded): the `recommend` command's format.

Example:
  python benchmarks/recommendation.py --write-synthetic /tmp/synth.csv --synthetic-users 1000 \
      --synthetic-items 2000 --seeds 3 --json benchmarks/results/recommendation_synthetic.json
  python benchmarks/recommendation.py --data ml-100k --format movielens --split random \
      --rating-threshold 4 --seeds 3 --json ml100k.json
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import _common
import numpy as np

MODELS = ("popularity", "bpr_mf", "lightgcn", "lightgcn_simgcl", "lightgcn_simgcl_pretrain")
DEFAULT_MODELS = "popularity,bpr_mf,lightgcn,lightgcn_simgcl"
TABLE_METRICS = ("recall", "ndcg", "hit_rate", "coverage")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="interaction table (CSV/Parquet) or MovieLens folder")
    parser.add_argument("--format", choices=["table", "movielens"], default="table")
    parser.add_argument("--split", choices=["random", "time"], default="random")
    parser.add_argument("--train", help="training table of a fixed split (with --test)")
    parser.add_argument("--test", help="test table of a fixed split (with --train)")
    parser.add_argument("--test-ratio", type=float, default=0.2)
    parser.add_argument("--rating-threshold", type=float, default=None)
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds (0 .. N-1)")
    parser.add_argument("--models", default=DEFAULT_MODELS, help=f"from {', '.join(MODELS)}")
    parser.add_argument("--ks", default="10,20", help="cut-offs, comma-separated")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--pretrain-epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=2048)
    parser.add_argument("--lr", type=float, default=0.005)
    parser.add_argument("--l2", type=float, default=1e-4)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--contrastive-weight", type=float, default=0.05)
    parser.add_argument("--noise-eps", type=float, default=0.1)
    parser.add_argument("--temperature", type=float, default=0.2)
    parser.add_argument("--recs-out", help="folder for each model's top-K lists (MODEL.csv)")
    parser.add_argument("--write-synthetic", help="write a synthetic table to this CSV first")
    parser.add_argument("--synthetic-users", type=int, default=1000)
    parser.add_argument("--synthetic-items", type=int, default=2000)
    parser.add_argument("--synthetic-groups", type=int, default=10)
    parser.add_argument("--synthetic-mean", type=float, default=15.0)
    parser.add_argument("--synthetic-seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="TF intra/inter-op threads")
    parser.add_argument("--json", help="write the results to this JSON file")
    args = parser.parse_args(argv)
    if (args.train is None) != (args.test is None):
        parser.error("--train and --test go together (a split fixed elsewhere)")
    if args.data is None and args.train is None and args.write_synthetic is None:
        parser.error("give --data, --train/--test or --write-synthetic")
    unknown = set(args.models.split(",")) - set(MODELS)
    if unknown:
        parser.error(f"unknown models {sorted(unknown)}; choose from {', '.join(MODELS)}")
    return args


def _read(path: str, fmt: str, threshold):
    from tfgraphtune.recommend.interactions import read_interaction_table
    from tfgraphtune.recommend.movielens import read_movielens_100k

    if fmt == "movielens":
        return read_movielens_100k(path, rating_threshold=threshold)
    return read_interaction_table(path, rating_threshold=threshold)


def _splits(args):
    """Yields (seed, split, cleaning text) for every seed."""
    from tfgraphtune.recommend.splits import fixed_split, random_split, time_split

    if args.train:
        train, train_report = _read(args.train, "table", args.rating_threshold)
        test, test_report = _read(args.test, "table", args.rating_threshold)
        split = fixed_split(train, test)
        text = f"train:\n{train_report}\ntest:\n{test_report}\nsplit:\n{split.report}"
        return [(seed, split, text) for seed in range(args.seeds)]
    events, report = _read(args.data, args.format, args.rating_threshold)
    if args.split == "time":
        split = time_split(events)
        return [(seed, split, f"{report}\nsplit:\n{split.report}") for seed in range(args.seeds)]
    out = []
    for seed in range(args.seeds):
        split = random_split(events, test_ratio=args.test_ratio, seed=seed)
        out.append((seed, split, f"{report}\nsplit:\n{split.report}"))
    return out


def _model(name: str, split, args, seed: int):
    """Builds and trains one model; returns (model, training facts)."""
    import tensorflow as tf

    from tfgraphtune.recommend.lightgcn import LightGCN
    from tfgraphtune.recommend.matrix_factorization import MatrixFactorization
    from tfgraphtune.recommend.popularity import Popularity
    from tfgraphtune.recommend.trainer import fit_recommender

    if name == "popularity":
        start = time.perf_counter()
        model = Popularity.from_split(split)
        return model, {"train_seconds": time.perf_counter() - start, "seconds_per_epoch": None}
    tf.keras.utils.set_random_seed(seed)
    if name == "bpr_mf":
        model = MatrixFactorization(split.num_users, split.num_items, embedding_dim=args.dim)
    else:
        model = LightGCN.from_split(split, embedding_dim=args.dim, num_layers=args.layers)
    common = dict(
        batch_size=args.batch_size,
        learning_rate=args.lr,
        l2=args.l2,
        noise_eps=args.noise_eps,
        temperature=args.temperature,
        seed=seed,
    )
    start = time.perf_counter()
    seconds = []
    if name == "lightgcn_simgcl_pretrain":
        history = fit_recommender(
            model,
            split,
            epochs=args.pretrain_epochs,
            bpr_weight=0.0,
            contrastive_weight=1.0,
            **common,
        )
        seconds += history.history["epoch_seconds"]
    weight = args.contrastive_weight if name == "lightgcn_simgcl" else 0.0
    history = fit_recommender(model, split, epochs=args.epochs, contrastive_weight=weight, **common)
    seconds += history.history["epoch_seconds"]
    # The first epoch of each fit also traces the train step; later epochs are the cost.
    steady = history.history["epoch_seconds"][1:] or history.history["epoch_seconds"]
    return model, {
        "train_seconds": time.perf_counter() - start,
        "seconds_per_epoch": float(np.mean(steady)),
        "first_epoch_seconds": float(history.history["epoch_seconds"][0]),
        "epochs": len(seconds),
        "final_loss": float(history.history["loss"][-1]),
    }


def write_recommendations(model, split, k: int, path: Path) -> int:
    """Writes ``user,rank,item,score`` rows (original ids) for every test user."""
    import pandas as pd

    from tfgraphtune.recommend.evaluation import top_k

    users = split.test_users()
    items, scores = top_k(model, split, users, k)
    rank = np.tile(np.arange(1, k + 1), len(users))
    keep = items.reshape(-1) >= 0
    frame = pd.DataFrame(
        {
            "user": np.repeat(split.user_ids[users], k)[keep],
            "rank": rank[keep],
            "item": split.item_ids[np.maximum(items.reshape(-1), 0)][keep],
            "score": scores.reshape(-1)[keep],
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return len(frame)


def _summary(rows: list[dict]) -> tuple[dict, dict]:
    keys = [k for k, v in rows[0].items() if isinstance(v, int | float) and v is not None]
    mean = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    std = {k: float(np.std([r[k] for r in rows])) for k in keys}
    return mean, std


def _print_table(results: dict, ks: tuple[int, ...]) -> None:
    columns = [f"{m}@{k}" for k in ks for m in TABLE_METRICS]
    header = ["model", *columns, "s/epoch"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for name, entry in results["models"].items():
        mean, std = entry["mean"], entry["std"]
        cells = [f"{mean[c]:.4f} ± {std[c]:.4f}" for c in columns]
        per_epoch = mean.get("seconds_per_epoch")
        cells.append("-" if per_epoch is None else f"{per_epoch:.3f}")
        print("| " + " | ".join([name, *cells]) + " |")


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    _common.set_threads(args.threads)
    from tfgraphtune.recommend.evaluation import evaluate_rankings

    if args.write_synthetic:
        from tfgraphtune.recommend.synthetic import synthetic_interactions

        events = synthetic_interactions(
            num_users=args.synthetic_users,
            num_items=args.synthetic_items,
            num_groups=args.synthetic_groups,
            mean_interactions=args.synthetic_mean,
            seed=args.synthetic_seed,
        )
        Path(args.write_synthetic).parent.mkdir(parents=True, exist_ok=True)
        events.to_frame().to_csv(args.write_synthetic, index=False)
        print(f"wrote {args.write_synthetic}: {len(events)} events")
        if args.data is None and args.train is None:
            args.data, args.format = args.write_synthetic, "table"
    ks = tuple(sorted({int(k) for k in args.ks.split(",")}))
    names = args.models.split(",")
    per_model: dict[str, list[dict]] = {name: [] for name in names}
    splits = _splits(args)
    first = splits[0][1]
    results = {
        "benchmark": "recommendation",
        "data": args.data if not args.train else {"train": args.train, "test": args.test},
        "format": args.format,
        "split": "fixed" if args.train else args.split,
        "num_users": first.num_users,
        "num_items": first.num_items,
        "num_train": len(first.train),
        "num_test": len(first.test),
        "num_test_users": int(len(first.test_users())),
        "settings": {
            key: getattr(args, key)
            for key in (
                "seeds",
                "ks",
                "epochs",
                "pretrain_epochs",
                "batch_size",
                "lr",
                "l2",
                "dim",
                "layers",
                "contrastive_weight",
                "noise_eps",
                "temperature",
                "test_ratio",
                "rating_threshold",
            )
        },  # fmt: skip
        "cleaning": splits[0][2],
        "machine": _common.machine(),
        "models": {},
    }
    print(f"{first.num_users} users, {first.num_items} items, {len(first.train)} training and "
          f"{len(first.test)} test events")  # fmt: skip
    for seed, split, _ in splits:
        for name in names:
            model, facts = _model(name, split, args, seed)
            start = time.perf_counter()
            metrics = evaluate_rankings(model, split, ks=ks)
            facts["eval_seconds"] = time.perf_counter() - start
            row = {**metrics, **facts, "seed": seed}
            per_model[name].append(row)
            print(f"seed {seed} {name}: recall@{ks[0]} {metrics[f'recall@{ks[0]}']:.4f} "
                  f"ndcg@{ks[0]} {metrics[f'ndcg@{ks[0]}']:.4f} "
                  f"({facts['train_seconds']:.1f} s training)", flush=True)  # fmt: skip
            if args.recs_out and seed == 0:
                count = write_recommendations(
                    model, split, max(ks), Path(args.recs_out, f"{name}.csv")
                )
                print(f"wrote {count} rows to {Path(args.recs_out, f'{name}.csv')}")
    for name, rows in per_model.items():
        clean = [{k: v for k, v in r.items() if v is not None} for r in rows]
        mean, std = _summary(clean)
        mean.setdefault("seconds_per_epoch", None)
        results["models"][name] = {"per_seed": rows, "mean": mean, "std": std}
    _print_table(results, ks)
    _common.write_json(results, args.json)
    if args.json:
        print(f"wrote {args.json}")
    return results


if __name__ == "__main__":
    import sys

    from tfgraphtune.data.errors import ValidationError

    try:
        main()
    except ValidationError as error:  # A user mistake: one message, exit status 2.
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
