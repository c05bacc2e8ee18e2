"""`write_report`: one self-contained HTML page comparing run folders side by side.

The page holds, for every run given, its facts (task, strategy, epochs, time), a metrics
table with one column per run, and its pictures (``plots/*.png``) in one row per picture
kind, so the same picture of two runs sits side by side (before/after fine-tuning,
strategy against strategy). Pictures are inlined as base64 ``data:`` URIs: the page is
one file that opens anywhere, offline, and can be attached to an issue or a mail.

Accepted folders: a run folder (``tfgraphtune finetune``), a ``tfgraphtune run`` pipeline
folder (its ``model/`` run and, when present, its ``pretrain/`` checkpoint as a second
column), or a pre-trained checkpoint folder (``tfgraphtune pretrain``).

Reading a folder needs no TensorFlow: only JSON, YAML and PNG files are read.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SPLITS = ("train", "validation", "test")
# Pictures in this order first; others after, by name.
PICTURE_ORDER = (
    "training_curves",
    "confusion_matrix",
    "predicted_vs_true",
    "roc_pr_curves",
    "embeddings",
)


class ReportError(ValueError):
    """A folder given to the report is not a run, pipeline or checkpoint folder."""


@dataclasses.dataclass
class RunSummary:
    """What the page shows of one folder.

    Attributes:
      name: The column's title (the folder's path as given, or ``PATH (pre-training)``).
      path: The folder.
      kind: The task kind, or ``pretrain (METHOD)``.
      facts: Label -> value (strategy, epochs, time, ...).
      metrics: ``{split: {metric: value}}``.
      pictures: Picture name -> PNG bytes.
    """

    name: str
    path: Path
    kind: str
    facts: dict[str, Any]
    metrics: dict[str, dict[str, float]]
    pictures: dict[str, bytes]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ReportError(f"{path} is unreadable or not valid JSON ({err}).") from None


def _pictures(folder: Path) -> dict[str, bytes]:
    return {p.stem: p.read_bytes() for p in sorted((folder / "plots").glob("*.png"))}


def _run_summary(folder: Path, name: str, evaluation: Path | None = None) -> RunSummary:
    info = _read_json(folder / "run.json")
    metrics = _read_json(folder / "metrics.json") if (folder / "metrics.json").exists() else {}
    if evaluation is not None and evaluation.exists():
        metrics = {**metrics, **_read_json(evaluation)}
    facts = {
        "strategy": metrics.get("strategy"),
        "backbone": metrics.get("backbone_source"),
        "epochs run": metrics.get("epochs_run"),
        "training time (s)": metrics.get("train_time_s"),
        "trainable fraction": metrics.get("trainable_fraction"),
        "finished": info.get("finished_at"),
    }
    return RunSummary(
        name=name,
        path=folder,
        kind=str(info.get("task", "?")),
        facts=facts,
        metrics={s: metrics[s] for s in SPLITS if isinstance(metrics.get(s), dict)},
        pictures=_pictures(folder),
    )


def _pretrain_summary(folder: Path, name: str) -> RunSummary:
    meta = _read_json(folder / "pretrain.json")
    facts = {
        "data": meta.get("dataset"),
        "epochs run": meta.get("epochs_run"),
        "final loss": meta.get("final_loss"),
        "training time (s)": meta.get("pretrain_time_s"),
        "saved": meta.get("saved_at"),
    }
    return RunSummary(
        name=name,
        path=folder,
        kind=f"pretrain ({meta.get('method', '?')})",
        facts=facts,
        metrics={},
        pictures=_pictures(folder),
    )


def collect(folder: str | Path) -> list[RunSummary]:
    """The columns one folder gives (a pipeline folder gives its pre-training too).

    Raises:
      ReportError: Not a run, pipeline or checkpoint folder.
    """
    path = Path(folder)
    name = str(folder)
    if (path / "run.json").is_file():
        return [_run_summary(path, name, path / "evaluation.json")]
    if (path / "stages.json").is_file():
        columns = []
        if (path / "pretrain" / "pretrain.json").is_file():
            columns.append(_pretrain_summary(path / "pretrain", f"{name} (pre-training)"))
        if (path / "model" / "run.json").is_file():
            columns.append(_run_summary(path / "model", name, path / "evaluation.json"))
        if columns:
            return columns
    if (path / "pretrain.json").is_file():
        return [_pretrain_summary(path, name)]
    raise ReportError(
        f"{folder!r} is not a run folder (no run.json), a `tfgraphtune run` folder (no "
        "stages.json) or a pre-trained checkpoint (no pretrain.json); pass the --out of "
        "`tfgraphtune finetune`, `run` or `pretrain`."
    )


def _cell(value: Any) -> str:
    if value is None:
        return "&ndash;"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1e4 else f"{value:.4g}"
    return html.escape(str(value))


def _metrics_table(runs: Sequence[RunSummary]) -> str:
    rows = []
    for split in SPLITS:
        names = list(dict.fromkeys(m for run in runs for m in run.metrics.get(split, {})))
        for metric in names:
            values = [run.metrics.get(split, {}).get(metric) for run in runs]
            numbers = [v for v in values if isinstance(v, (int, float))]
            lower_better = any(k in metric for k in ("rmse", "mae", "loss", "error"))
            best = (min(numbers) if lower_better else max(numbers)) if len(numbers) > 1 else None
            cells = "".join(
                f'<td class="{"best" if v is not None and v == best else ""}">{_cell(v)}</td>'
                for v in values
            )
            rows.append(f"<tr><th>{split}</th><th>{html.escape(metric)}</th>{cells}</tr>")
    if not rows:
        return ""
    head = "".join(f"<th>{html.escape(run.name)}</th>" for run in runs)
    return (
        '<h2>Metrics</h2><table class="metrics"><thead><tr><th>split</th><th>metric</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _facts_table(runs: Sequence[RunSummary]) -> str:
    labels = list(dict.fromkeys(label for run in runs for label in run.facts))
    rows = [f"<tr><th>task</th>{''.join(f'<td>{html.escape(run.kind)}</td>' for run in runs)}</tr>"]
    for label in labels:
        values = [run.facts.get(label) for run in runs]
        if all(v is None for v in values):
            continue
        cells = "".join(f"<td>{_cell(v)}</td>" for v in values)
        rows.append(f"<tr><th>{html.escape(label)}</th>{cells}</tr>")
    head = "".join(f"<th>{html.escape(run.name)}</th>" for run in runs)
    return (
        f'<h2>Runs</h2><table class="facts"><thead><tr><th></th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _pictures_grid(runs: Sequence[RunSummary]) -> str:
    names = list(dict.fromkeys(n for run in runs for n in run.pictures))
    names.sort(key=lambda n: (PICTURE_ORDER.index(n) if n in PICTURE_ORDER else 99, n))
    if not names:
        return ""
    parts = ['<h2>Pictures</h2><div class="grid" style="grid-template-columns: '
             f'10em repeat({len(runs)}, minmax(0, 1fr))">', "<div></div>"]  # fmt: skip
    parts += [f'<div class="colhead">{html.escape(run.name)}</div>' for run in runs]
    for name in names:
        parts.append(f'<div class="rowhead">{html.escape(name.replace("_", " "))}</div>')
        for run in runs:
            png = run.pictures.get(name)
            if png is None:
                parts.append('<div class="missing">&ndash;</div>')
                continue
            data = base64.b64encode(png).decode("ascii")
            alt = html.escape(f"{name} of {run.name}")
            parts.append(f'<div><img alt="{alt}" src="data:image/png;base64,{data}"></div>')
    parts.append("</div>")
    return "".join(parts)


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
thead th, tbody th { background: #f4f4f4; text-align: left; }
td.best { font-weight: bold; background: #e8f4e8; }
.grid { display: grid; gap: 0.6em; align-items: start; }
.grid img { max-width: 100%; height: auto; border: 1px solid #eee; }
.rowhead, .colhead { font-weight: bold; }
.missing { color: #999; }
"""

# Sets data-images-loaded="LOADED/TOTAL" on <body> once the page has loaded, so a
# headless browser test (and a reader's dev tools) can see that every picture decoded.
_SCRIPT = """
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var loaded = images.filter(function (i) { return i.complete && i.naturalWidth > 0; });
  document.body.setAttribute("data-images-loaded", loaded.length + "/" + images.length);
});
"""


def render(runs: Sequence[RunSummary], *, title: str = "tfgraphtune report") -> str:
    """The HTML page of `runs` (one column each)."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f"{_facts_table(runs)}{_metrics_table(runs)}{_pictures_grid(runs)}"
        f"<script>{_SCRIPT}</script></body></html>\n"
    )


def write_report(
    folders: Sequence[str | Path], out: str | Path, *, title: str = "tfgraphtune report"
) -> tuple[Path, list[RunSummary]]:
    """Writes the page comparing `folders` to `out`; returns ``(out, columns)``.

    Raises:
      ReportError: A folder that is not a run, pipeline or checkpoint folder.
    """
    runs = [run for folder in folders for run in collect(folder)]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(runs, title=title), encoding="utf-8")
    return out, runs
