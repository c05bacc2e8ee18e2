"""`run_pipeline`: pre-train, fine-tune, evaluate and export in one command, one folder.

Layout of ``OUT`` (the config's ``out``)::

    OUT/stages.json    each stage's fingerprint and result (what lets a rerun skip it)
    OUT/pretrain/      the backbone checkpoint (stage ``pretrain``)
    OUT/model/         the fine-tuned run folder (stage ``finetune``)
    OUT/evaluation.json  metrics re-computed from OUT/model (stage ``evaluate``)
    OUT/export/<N>/    the SavedModel for TF Serving (stage ``export``)

A stage is skipped when its output exists and its inputs are unchanged: its fingerprint
hashes the config keys it reads, the data files it reads (size and modification time)
and the fingerprints of the stages it consumes. Rerunning the same command after a change
of ``train.epochs`` re-runs fine-tuning, evaluation and export, but not pre-training.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tfgraphtune.training.config import STAGES, ConfigError, check_config

STAGES_FILE = "stages.json"
PRETRAIN_DIR, MODEL_DIR, EXPORT_DIR, EVALUATION_FILE = (
    "pretrain",
    "model",
    "export",
    "evaluation.json",
)


def _data_files(data: Mapping[str, Any]) -> list[str]:
    """The files a ``data`` section reads (tables, TFRecord); known data sets count by name."""
    paths = []
    if data["dataset"] == "tables":
        tables = data["tables"]
        paths += [tables["schema"], tables["splits"], tables["graphs"]]
        paths += list(tables["nodes"].values()) + list(tables["edges"].values())
    elif data["dataset"] == "tfrecord":
        paths += [data["tfrecord"]["path"], data["tfrecord"]["schema"]]
    elif data["dataset"] == "interactions":  # recommendation
        section = data["interactions"]
        folder = section["movielens_dir"]
        paths += [section["path"], section["train_path"], section["test_path"]]
        paths += (
            [os.path.join(folder, name) for name in ("u.data", "u.item", "u.user")]
            if folder
            else []
        )
    return [p for p in paths if p]


def _file_stamp(path: str) -> list:
    try:
        stat = os.stat(path)
        return [path, stat.st_size, stat.st_mtime_ns]
    except OSError:
        return [path, None, None]


def fingerprint(*parts: Any) -> str:
    """A short stable hash of JSON-able parts."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _without(config: Mapping[str, Any], *sections: str) -> dict:
    return {key: value for key, value in config.items() if key not in sections}


def stage_fingerprints(config: Mapping[str, Any]) -> dict[str, str]:
    """The fingerprint of each stage of a config (see the module docstring)."""
    data = [config["data"], [_file_stamp(p) for p in _data_files(config["data"])]]
    pretrain = fingerprint(
        "pretrain", data, config["model"], config["pretrain"], config["train"]["seed"]
    )
    uses_pretrain = "pretrain" in config["run"]["stages"]
    finetune = fingerprint(
        "finetune",
        data,
        _without(config, "export", "run", "tune", "out", "pretrain"),
        pretrain if uses_pretrain else None,
    )
    evaluate = fingerprint("evaluate", finetune)
    export = fingerprint("export", finetune, config["export"])
    return {"pretrain": pretrain, "finetune": finetune, "evaluate": evaluate, "export": export}


def _read_stages(out: Path) -> dict[str, Any]:
    try:
        return json.loads((out / STAGES_FILE).read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def _write_stages(out: Path, stages: Mapping[str, Any]) -> None:
    from tfgraphtune.training.staging import write_file_atomic

    write_file_atomic(out / STAGES_FILE, json.dumps(stages, indent=2, default=str))


def run_pipeline(
    config: Mapping[str, Any],
    *,
    force: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Runs the config's ``run.stages`` into ``config["out"]``, skipping up-to-date ones.

    Args:
      config: A full config; ``out`` is the pipeline folder.
      force: Re-run every stage even when it is up to date.
      log: Where one line per stage goes.

    Returns:
      ``{stage: {"status": "ran" | "skipped", ...result}}``; also in ``OUT/stages.json``.

    Raises:
      ConfigError: Invalid settings (checked for every stage before any stage runs).
      ValidationError: Bad data or files.
    """
    from tfgraphtune.training.train import check_run_config

    check_config(config)
    stages = list(config["run"]["stages"])
    if "finetune" not in stages and any(s in stages for s in ("evaluate", "export")):
        raise ConfigError(
            "config key 'run.stages' has evaluate/export without finetune; add finetune"
        )
    ordered = [stage for stage in STAGES if stage in stages]
    out = Path(config["out"])
    finetune_config = copy.deepcopy(dict(config))
    finetune_config["out"] = str(out / MODEL_DIR)
    if "pretrain" in stages:
        if config["finetune"]["backbone"] or config["finetune"]["resume"]:
            raise ConfigError(
                "config key 'run.stages' includes pretrain, so finetune.backbone and "
                "finetune.resume must be null (the pipeline uses its own OUT/pretrain)"
            )
        finetune_config["finetune"]["backbone"] = str(out / PRETRAIN_DIR)
    if "finetune" in stages and "pretrain" not in stages:
        check_run_config(finetune_config)
    out.mkdir(parents=True, exist_ok=True)
    done = _read_stages(out)
    prints = stage_fingerprints(config)
    results: dict[str, Any] = {}
    upstream_ran = False
    for stage in ordered:
        previous = done.get(stage, {})
        fresh = previous.get("fingerprint") == prints[stage] and _output_exists(
            out, stage, previous
        )
        if fresh and not force and not upstream_ran:
            log(f"{stage}: up to date, skipped ({_where(out, stage, previous)})")
            results[stage] = {**previous, "status": "skipped"}
            continue
        log(f"{stage}: running")
        result = _run_stage(stage, config, finetune_config, out)
        upstream_ran = True
        done[stage] = {"fingerprint": prints[stage], **result}
        _write_stages(out, done)
        results[stage] = {**result, "status": "ran"}
        log(f"{stage}: done ({_where(out, stage, result)})")
    return results


def _where(out: Path, stage: str, result: Mapping[str, Any]) -> str:
    if stage == "export":
        return str(result.get("version_dir", out / EXPORT_DIR))
    return str(out / {"pretrain": PRETRAIN_DIR, "finetune": MODEL_DIR}.get(stage, EVALUATION_FILE))


def _output_exists(out: Path, stage: str, result: Mapping[str, Any]) -> bool:
    if stage == "pretrain":
        return (out / PRETRAIN_DIR / "backbone.json").exists()
    if stage == "finetune":
        from tfgraphtune.training.run_folder import is_run_folder

        return is_run_folder(out / MODEL_DIR)
    if stage == "evaluate":
        return (out / EVALUATION_FILE).exists()
    return bool(result.get("version_dir")) and Path(result["version_dir"]).is_dir()


def _run_stage(stage: str, config, finetune_config, out: Path) -> dict[str, Any]:
    if stage == "pretrain":
        from tfgraphtune.pretrain.runner import pretrain

        _, metadata = pretrain(config, out=out / PRETRAIN_DIR, overwrite=True)
        return {"final_loss": metadata["final_loss"], "epochs_run": metadata["epochs_run"]}
    if stage == "finetune":
        from tfgraphtune.training.train import train

        result = train(finetune_config, overwrite=True)
        return {"metrics": _split_metrics(result.metrics)}
    if stage == "evaluate":
        from tfgraphtune.training.train import evaluate_run

        metrics = evaluate_run(out / MODEL_DIR)
        from tfgraphtune.training.staging import write_file_atomic

        write_file_atomic(out / EVALUATION_FILE, json.dumps(metrics, indent=2))
        return {"metrics": metrics}
    from tfgraphtune.serving.exporter import export_run
    from tfgraphtune.serving.guards import ServingLimits

    export = config["export"]
    result = export_run(
        out / MODEL_DIR,
        out / EXPORT_DIR,
        quantize=export["quantize"],
        limits=ServingLimits(
            max_nodes=export["max_nodes"],
            max_edges=export["max_edges"],
            max_request_nodes=export.get("max_request_nodes"),
            max_request_edges=export.get("max_request_edges"),
        ),
        model_name=export["model_name"],
    )
    return {"version_dir": str(result.version_dir), "version": result.version}


def _split_metrics(metrics: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if k in ("train", "validation", "test")}
