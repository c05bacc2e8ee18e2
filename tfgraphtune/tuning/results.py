"""The results of a search: one table row per trial, status checks, the best trial's run folder."""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import tensorflow as tf
from keras_tuner.engine import trial as trial_module

from tfgraphtune.tuning.tuners import PROJECT_NAME, RECORD_FILE, RUNS_FILE

COMPLETED = trial_module.TrialStatus.COMPLETED

# Leading columns of `trials_table`; then ``hp:KEY`` per hyperparameter, then the metrics.
LEADING_COLUMNS = [
    "trial_id",
    "status",
    "score",
    "tuner_id",
    "runs",
    "started",
    "ended",
    "seconds",
    "message",
]


class SearchFailedError(RuntimeError):
    """No trial of a search completed."""


def search_dir(directory: str | Path) -> Path:
    """The KerasTuner project folder inside a search's ``--out`` folder."""
    return Path(directory) / PROJECT_NAME


def _last_values(metrics_state: dict) -> dict[str, float]:
    values = {}
    for name, state in (metrics_state.get("metrics") or {}).items():
        observations = state.get("observations") or []
        if observations:
            last = sorted(observations, key=lambda obs: obs.get("step", 0))[-1]
            value = last["value"]
            values[name] = float(value[-1] if isinstance(value, list) else value)
    return values


def trials_table(directory: str | Path) -> pd.DataFrame:
    """Every trial of the search in ``directory``: hyperparameters, metrics, status, time.

    Read from KerasTuner's ``trial.json`` files (what the oracle knows) and the records
    each trial writes (`tfgraphtune.tuning.tuners`): ``tuner_id`` is the worker that ran it,
    ``runs`` how many times it was started (more than 1 only after an interruption or a
    retry), ``seconds`` its wall time, ``message`` the failure's traceback.

    Returns:
      A DataFrame sorted by trial id, columns `LEADING_COLUMNS`, ``hp:KEY`` per
      hyperparameter, then the reported metrics.
    """
    rows = []
    for path in sorted(search_dir(directory).glob("trial_*/trial.json")):
        state = json.loads(path.read_text())
        record_path = path.parent / RECORD_FILE
        record = json.loads(record_path.read_text()) if record_path.exists() else {}
        runs_path = path.parent / RUNS_FILE
        runs = len(runs_path.read_text().splitlines()) if runs_path.exists() else 0
        row: dict[str, Any] = {
            "trial_id": state["trial_id"],
            "status": state["status"],
            "score": state.get("score"),
            "tuner_id": record.get("tuner_id"),
            "runs": runs,
            "started": record.get("started"),
            "ended": record.get("ended"),
            "seconds": record.get("seconds"),
            # Workers' messages do not travel over gRPC; their record has them.
            "message": state.get("message") or record.get("message"),
        }
        values = (state.get("hyperparameters") or {}).get("values") or {}
        row.update({f"hp:{key}": value for key, value in values.items()})
        row.update(_last_values(state.get("metrics") or {}))
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return pd.DataFrame(columns=LEADING_COLUMNS)
    hp_columns = sorted(c for c in table.columns if c.startswith("hp:"))
    metric_columns = sorted(c for c in table.columns if c not in LEADING_COLUMNS + hp_columns)
    return table[LEADING_COLUMNS + hp_columns + metric_columns].reset_index(drop=True)


def failure_summary(table: pd.DataFrame) -> list[str]:
    """One line per trial that did not complete: id, status, worker, the message's last line."""
    lines = []
    for _, row in table[table["status"] != COMPLETED].iterrows():
        message = row["message"] if isinstance(row["message"], str) else ""
        last = (message.strip().splitlines() or ["(no message recorded)"])[-1]
        lines.append(f"trial {row['trial_id']} {row['status']} on {row['tuner_id']}: {last}")
    return lines


def check_statuses(table: pd.DataFrame) -> None:
    """Raises if no trial completed (KerasTuner's `search()` returns normally then).

    Raises:
      SearchFailedError: With every failed trial's message.
    """
    if table.empty:
        raise SearchFailedError("the search ran no trial.")
    if not (table["status"] == COMPLETED).any():
        raise SearchFailedError(
            f"all {len(table)} trials failed:\n" + "\n".join(failure_summary(table))
        )


def best_trial_id(table: pd.DataFrame, direction: str) -> str:
    """The completed trial with the best score (ties: the earliest trial)."""
    completed = table[(table["status"] == COMPLETED) & table["score"].notna()]
    if completed.empty:
        raise SearchFailedError("no completed trial has a score.")
    ordered = completed.sort_values(
        ["score", "trial_id"], ascending=[direction == "min", True], kind="stable"
    )
    return str(ordered.iloc[0]["trial_id"])


def write_best_run(
    tuner,
    trial_id: str,
    run_dir: str | Path,
    *,
    retrain: bool = False,
) -> dict[str, Any]:
    """Writes the best trial as a standard run folder (``tfgraphtune evaluate`` works on it).

    The trial's checkpoint is restored when it exists (same weights as during the search);
    otherwise (a worker on another machine kept it, or `retrain`) the trial's config is
    trained again with ``train.epochs`` (Hyperband: the trial's ``tuner/epochs``).

    Returns:
      The metrics written to the run folder's ``metrics.json``.
    """
    trial_path = Path(tuner.get_trial_dir(trial_id))
    trial = trial_module.Trial.load(str(trial_path / "trial.json"))
    hypermodel = tuner.hypermodel
    hp = trial.hyperparameters
    config = hypermodel.trial_config(hp)
    data = hypermodel.data(config)
    checkpoint = tuner._get_checkpoint_fname(trial_id)
    history = None
    strategy = tuner.distribution_strategy
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = hypermodel.runner.build(config, data)
    if not retrain and tf.io.gfile.exists(checkpoint + ".index"):
        model.load_weights(checkpoint).expect_partial()
        source = "restored"
        if (trial_path / "history.csv").exists():
            history = pd.read_csv(trial_path / "history.csv", index_col=0).to_dict("list")
    else:
        epochs = hp.values.get("tuner/epochs", config["train"]["epochs"])
        history = hypermodel.runner.fit(model, config, data, epochs=int(epochs))
        source = "retrained"
    metrics = hypermodel.runner.evaluate(model, config, data)
    extra = {"tuning": {"trial_id": trial_id, "weights": source, "metrics": metrics}}
    hypermodel.runner.write_run(run_dir, model, config, data, metrics=extra, history=history)
    return metrics


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    return None if isinstance(value, float) and math.isnan(value) else value


def summarize(table: pd.DataFrame, objective: tuple[str, str]) -> dict[str, Any]:
    """Counts per status and the best trial, JSON-ready."""
    name, direction = objective
    summary: dict[str, Any] = {
        "objective": {"name": name, "direction": direction},
        "trials": int(len(table)),
        "statuses": {k: int(v) for k, v in table["status"].value_counts().items()},
    }
    try:
        best = best_trial_id(table, direction)
    except SearchFailedError:
        return summary
    row = table[table["trial_id"] == best].iloc[0]
    summary["best_trial"] = {key: _plain(value) for key, value in row.items() if key != "message"}
    return summary
