"""``tfgraphtune tune``: hyperparameter search with KerasTuner, on one machine or distributed.

One machine::

    tfgraphtune tune --config configs/cora_gcn.yaml --tuner random --max-trials 20 --out DIR

Distributed (KerasTuner's chief/worker mode): run the same command in every process with
``KERASTUNER_ORACLE_IP``, ``KERASTUNER_ORACLE_PORT`` and ``KERASTUNER_TUNER_ID`` set; the
process whose id contains ``chief`` serves the oracle, the others (e.g. ``worker0``) run
trials. Give all of them the same ``--out`` on a shared file system to get the workers'
ids, messages and the best trial's weights in the chief's results.

Writes ``DIR/search/`` (KerasTuner's project: oracle and trial folders), ``DIR/trials.csv``
(one row per trial), ``DIR/search.json`` (summary) and ``DIR/best/`` (the best trial as a
run folder for ``tfgraphtune evaluate``). Rerunning the same command resumes the search:
completed trials are kept, an interrupted one is run again. Exit code 1 when no trial
completed; the failures' messages are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from tfgraphtune.cli.errors import UserError
from tfgraphtune.cli.main import add_config_arguments, config_overrides

EXIT_SEARCH_FAILED = 1
STRATEGIES = ("none", "mirrored", "one_device")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "tune",
        help="hyperparameter search (KerasTuner) over the config's tune.space",
        description="Hyperparameter search with KerasTuner over the config's tune.space "
        "(see tfgraphtune/tuning/search_space.py). Distributed: set KERASTUNER_ORACLE_IP, "
        "KERASTUNER_ORACLE_PORT and KERASTUNER_TUNER_ID (chief / worker0 / ...) and run the "
        "same command in each process. Rerunning a command resumes its search.",
    )
    add_config_arguments(
        parser,
        [
            "--tuner",
            "--max-trials",
            "--out",
            "--dataset",
            "--epochs",
            "--tune-seed",
            "--distribution",
        ],
        example="tune.objective.name=val_loss",
        renamed={"--tune-seed": "--seed"},
        required=("--out",),
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="delete an earlier search in --out instead of resuming it",
    )
    parser.add_argument(
        "--distribution-strategy",
        choices=STRATEGIES,
        default=None,
        help="kept for older scripts: the same as --distribution",
    )
    parser.add_argument(
        "--retrain-best",
        action="store_true",
        help="train the best trial again instead of restoring its weights",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="chief: wait until this many workers have finished",
    )
    parser.add_argument(
        "--connect-timeout",
        type=float,
        default=300.0,
        help="worker: seconds to wait for the chief (default 300)",
    )
    parser.add_argument(
        "--chief-timeout",
        type=float,
        default=None,
        help="chief: give up after this many seconds (default: never)",
    )
    parser.add_argument("--quiet", action="store_true", help="no KerasTuner progress output")
    parser.set_defaults(handler=run)


def make_strategy(config) -> object | None:
    """The ``tf.distribute`` strategy each trial runs under (``train.distribution``), or
    None for TensorFlow's default one."""
    import tensorflow as tf

    from tfgraphtune.distribute.strategy import strategy_from_config

    strategy = strategy_from_config(config)
    return None if strategy is tf.distribute.get_strategy() else strategy


def run(args: argparse.Namespace) -> int:
    from tfgraphtune.cli.paths import check_output_folder
    from tfgraphtune.training.config import ConfigError, load_config
    from tfgraphtune.training.staging import write_file_atomic
    from tfgraphtune.tuning import distributed, results, search_space
    from tfgraphtune.tuning.tuners import make_tuner

    try:
        overrides = config_overrides(args)
        if args.distribution_strategy is not None:
            overrides.insert(0, f"train.distribution={args.distribution_strategy}")
        config = load_config(args.config, overrides)
        role = distributed.role_from_env()
        objective = search_space.objective_from_config(config)
        out = check_output_folder(args.out, what="tuning folder")
        strategy = make_strategy(config)
        if role == "worker":
            distributed.wait_for_chief(
                os.environ[distributed.ENV_ORACLE_IP],
                os.environ[distributed.ENV_ORACLE_PORT],
                args.connect_timeout,
            )
        if role == "chief":
            with distributed.local_oracle():
                tuner = make_tuner(
                    config, out, distribution_strategy=strategy, overwrite=args.overwrite
                )
                # The chief runs no trial, so KerasTuner would never write its tuner file,
                # and a restarted chief would start the search afresh instead of resuming.
                tuner.save()
        else:
            tuner = make_tuner(
                config, out, distribution_strategy=strategy, overwrite=args.overwrite
            )
    except (ConfigError, ValueError, distributed.DistributedTuningError) as err:
        raise UserError(str(err)) from None

    search_error = None
    if role == "chief":
        ip = os.environ[distributed.ENV_ORACLE_IP]
        port = os.environ[distributed.ENV_ORACLE_PORT]
        print(f"tuning chief: serving the oracle on {ip}:{port}", flush=True)
        try:
            workers, search_error = distributed.serve_oracle(
                tuner.oracle,
                ip,
                port,
                expected_workers=args.workers,
                timeout_s=args.chief_timeout,
            )
        except distributed.DistributedTuningError as err:
            raise UserError(str(err)) from None
        print(f"tuning chief: search over, workers: {', '.join(sorted(workers))}", flush=True)
    else:
        import keras_tuner as kt

        try:
            tuner.search(verbose=0 if args.quiet else 1)
        except kt.errors.FatalError as err:  # A config the trials cannot honour.
            raise UserError(str(err).strip().splitlines()[0]) from None
        except RuntimeError as err:
            # KerasTuner stops after max_consecutive_failed_trials failures in a row.
            if "consecutive failures" not in str(err):
                raise
            search_error = str(err)
    if role == "worker":
        statuses = [status for _, status in tuner.trial_statuses]
        completed = statuses.count("COMPLETED")
        print(f"tuning worker {tuner.tuner_id}: ran {len(statuses)} trials, {completed} completed")
        return 0 if completed or not statuses else EXIT_SEARCH_FAILED

    table = results.trials_table(out)
    write_file_atomic(out / "trials.csv", table.to_csv(index=False))
    summary = results.summarize(table, objective)
    failures = results.failure_summary(table)
    if search_error:
        first_line = search_error.splitlines()[0]
        print(f"tfgraphtune tune: search stopped: {first_line}", file=sys.stderr)
    for line in failures:
        print(f"tfgraphtune tune: {line}", file=sys.stderr)
    try:
        results.check_statuses(table)
    except results.SearchFailedError as err:
        write_file_atomic(out / "search.json", json.dumps(summary, indent=2, default=str))
        print(f"tfgraphtune tune: error: {err}", file=sys.stderr)
        return EXIT_SEARCH_FAILED
    if search_error:
        write_file_atomic(out / "search.json", json.dumps(summary, indent=2, default=str))
        return EXIT_SEARCH_FAILED
    best = results.best_trial_id(table, objective[1])
    best_metrics = results.write_best_run(tuner, best, out / "best", retrain=args.retrain_best)
    summary["best_run"] = {"dir": str(out / "best"), "metrics": best_metrics}
    write_file_atomic(out / "search.json", json.dumps(summary, indent=2, default=str))
    name = objective[0]
    print(
        f"{len(table)} trials ({summary['statuses']}); best trial {best}: "
        f"{name}={summary['best_trial'].get(name)}"
    )
    print(f"results table: {out / 'trials.csv'}")
    print(f"best run folder: {out / 'best'}")
    return 0
