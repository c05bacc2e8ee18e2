"""The table of bad inputs: command line, how the input is damaged, what the message names.

Each `Case` is one mistake a user (or a damaged file) makes. Its argv may use the
placeholders of `Workspace.placeholders` (``{cfg}`` the tiny config, ``{run}`` the trained
run folder, ``{bb}`` the pre-trained checkpoint, ``{case}`` the case's own empty folder,
...). `setup` prepares the case folder (a damaged copy of a run folder, a bad table); it
may return extra placeholders. Every case must end with exit code 2, no traceback, a
short message, and every `expect` substring in stderr.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from tests.reliability.workspace import (
    Workspace,
    config_text,
    copy_backbone,
    copy_run,
    link_planetoid,
    write_tu,
)

Setup = Callable[[Workspace, Path], dict | None]


@dataclasses.dataclass(frozen=True)
class Case:
    """One bad input.

    Attributes:
      id: A short unique name (the test id).
      argv: The command line after ``tfgraphtune``, with placeholders.
      expect: Substrings stderr must hold (the culprit: a file, key, row), with placeholders.
      what: The bad input in words (the docs table).
      setup: Prepares the case folder; may return more placeholders.
      subprocess: Run as a real ``python -m tfgraphtune.cli.main`` process even in the
        fast mode (see test_bad_inputs.py).
    """

    id: str
    argv: tuple[str, ...]
    expect: tuple[str, ...]
    what: str
    setup: Setup | None = None
    subprocess: bool = False

    @property
    def command(self) -> str:
        return self.argv[0] if self.argv[0] != "datasets" else "datasets " + self.argv[1]


# --- setups ----------------------------------------------------------------------------


def _write(name: str, content: str | bytes) -> Setup:
    def setup(ws, case):
        path = case / name
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)

    return setup


def _nodes_with(change: Callable[[pd.DataFrame], pd.DataFrame], name="nodes.csv") -> Setup:
    def setup(ws, case):
        change(pd.read_csv(ws.nodes)).to_csv(case / name, index=False)

    return setup


def _edges_with(change: Callable[[pd.DataFrame], pd.DataFrame]) -> Setup:
    def setup(ws, case):
        change(pd.read_csv(ws.edges, keep_default_na=False)).to_csv(case / "edges.csv", index=False)

    return setup


def _set(frame: pd.DataFrame, column: str, row: int, value) -> pd.DataFrame:
    frame = frame.astype({column: object})
    frame.loc[row, column] = value
    return frame


def _config_with(extra: str = "", **replace: str) -> Setup:
    """``case/c.yaml``: the tiny config with extra YAML and text replacements."""

    def setup(ws, case):
        text = config_text(ws.root, extra=extra)
        for old, new in replace.items():
            text = text.replace(old.replace("__", "."), new)
        (case / "c.yaml").write_text(text)

    return setup


def _run_with(damage: Callable[[Path], None]) -> Setup:
    def setup(ws, case):
        damage(copy_run(ws, case))

    return setup


def _backbone_with(damage: Callable[[Path], None]) -> Setup:
    def setup(ws, case):
        damage(copy_backbone(ws, case))

    return setup


def _weights_data(folder: Path) -> Path:
    return next((folder / "weights").glob("*.data-*"))


def _truncate(path_of: Callable[[Path], Path]) -> Callable[[Path], None]:
    def damage(folder):
        path = path_of(folder)
        path.write_bytes(path.read_bytes()[: max(1, path.stat().st_size // 3)])

    return damage


def _delete(name: str) -> Callable[[Path], None]:
    def damage(folder):
        target = folder / name
        shutil.rmtree(target) if target.is_dir() else target.unlink()

    return damage


def _replace(name: str, content: str | bytes) -> Callable[[Path], None]:
    def damage(folder):
        path = folder / name
        (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)

    return damage


def _tu(**replace: str) -> Setup:
    def setup(ws, case):
        write_tu(case / "tu" / "TINY", **replace)

    return setup


def _planetoid(part: str, obj=None, raw: bytes | None = None) -> Setup:
    """Cora's files with `part` replaced by a pickle of `obj` (or the bytes `raw`)."""

    def setup(ws, case):
        folder = link_planetoid(ws.data_dir, case, skip=part)
        data = raw if raw is not None else pickle.dumps(obj, protocol=4)
        (folder / f"ind.cora.{part}").write_bytes(data)

    return setup


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo owned",))


def _unwritable(ws, case) -> dict:
    """A folder this process cannot create anything in (root ignores modes: use /sys)."""
    if os.geteuid() == 0:
        return {"locked": "/sys/tfgraphtune-reliability"}
    locked = case / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    return {"locked": str(locked / "out")}


def _file_out(ws, case) -> None:
    (case / "taken").write_text("not a folder\n")


def _evaluation_dir(folder: Path) -> None:
    (folder / "evaluation.json").mkdir()


def _wrong_layout(ws, case) -> None:
    # Features as one text column of 600 numbers per row, the layout a user might try.
    frame = pd.read_csv(ws.nodes)
    wide = np.random.default_rng(0).random((len(frame), 600)).round(3)
    frame = frame.drop(columns=[c for c in frame.columns if c.startswith("feat")])
    frame["feat"] = [" ".join(map(str, row)) for row in wide]
    frame.to_csv(case / "nodes.csv", index=False)


TABLES = "--schema {schema} --nodes item={case}/nodes.csv --edges link={edges}".split()
TABLES_EDGES = "--schema {schema} --nodes item={nodes} --edges link={case}/edges.csv".split()
FINETUNE = ("finetune", "--config", "{cfg}", "--out", "{case}/out")
PRETRAIN = ("pretrain", "--config", "{cfg}", "--out", "{case}/out")
TUNE = ("tune", "--config", "{cfg}", "--out", "{case}/out", "--max-trials", "1")

CASES: tuple[Case, ...] = (
    # --- validate: schema and table files ----------------------------------------------
    Case(
        "validate-schema-folder",
        ("validate", "--schema", "{case}", "--nodes", "item={nodes}"),
        ("{case}", "folder"),
        "schema path is a folder",
        subprocess=True,
    ),
    Case(
        "validate-schema-binary",
        ("validate", "--schema", "{case}/s.pbtxt", "--nodes", "item={nodes}"),
        ("s.pbtxt",),
        "schema file holds binary bytes",
        _write("s.pbtxt", bytes(range(256)) * 4),
    ),
    Case(
        "validate-schema-garbage",
        ("validate", "--schema", "{case}/s.pbtxt", "--nodes", "item={nodes}"),
        ("s.pbtxt", "line 1"),
        "schema file is not a GraphSchema",
        _write("s.pbtxt", "node_sets { nonsense }\n"),
    ),
    Case(
        "validate-schema-missing",
        ("validate", "--schema", "{case}/none.pbtxt", "--nodes", "item={nodes}"),
        ("none.pbtxt",),
        "schema file does not exist",
    ),
    Case(
        "validate-nodes-missing",
        ("validate", *TABLES),
        ("nodes.csv", "does not exist"),
        "node table does not exist",
    ),
    Case(
        "validate-nodes-folder",
        ("validate", *TABLES),
        ("nodes.csv",),
        "node table path is a folder",
        lambda ws, case: (case / "nodes.csv").mkdir(),
    ),
    Case(
        "validate-nodes-binary",
        ("validate", *TABLES),
        ("nodes.csv",),
        "node table is binary junk",
        _write("nodes.csv", bytes(range(256)) * 8),
    ),
    Case(
        "validate-nodes-empty-file",
        ("validate", *TABLES),
        ("nodes.csv",),
        "node table is an empty file",
        _write("nodes.csv", ""),
    ),
    Case(
        "validate-empty-ids",
        ("validate", *TABLES),
        ("'item'", "empty 'id'", "rows [3]"),
        "an empty node id, and an edge whose source is empty",
        lambda ws, case: (
            _set(pd.read_csv(ws.nodes), "id", 3, "").to_csv(case / "nodes.csv", index=False),
            _set(pd.read_csv(ws.edges), "source", 0, "").to_csv(case / "edges.csv", index=False),
        ),
    ),
    Case(
        "validate-empty-endpoint",
        ("validate", *TABLES_EDGES),
        ("'link'", "empty source", "rows [0]"),
        "an edge with an empty source id",
        _edges_with(lambda f: _set(f, "source", 0, "")),
    ),
    Case(
        "validate-duplicate-ids",
        ("validate", *TABLES),
        ("id", "n1"),
        "the same node id twice",
        _nodes_with(lambda f: _set(f, "id", 2, "n1")),
    ),
    Case(
        "validate-dangling-edge",
        ("validate", *TABLES_EDGES),
        ("'link'", "n99"),
        "an edge to an unknown node",
        _edges_with(lambda f: _set(f, "target", 5, "n99")),
    ),
    Case(
        "validate-text-feature",
        ("validate", *TABLES),
        ("feat", "rows [4]", "'abc'"),
        "a word in a numeric feature column",
        _nodes_with(lambda f: _set(f, "feat.1", 4, "abc")),
    ),
    Case(
        "validate-inf-feature",
        ("validate", *TABLES),
        ("feat", "rows [2]"),
        "inf in a feature",
        _nodes_with(lambda f: _set(f, "feat.0", 2, "inf")),
    ),
    Case(
        "validate-fractional-label",
        ("validate", *TABLES),
        ("label", "rows [6]", "0.5"),
        "a fractional value in an integer column",
        _nodes_with(lambda f: _set(f, "label", 6, 0.5)),
    ),
    Case(
        "validate-wrong-layout",
        ("validate", *TABLES),
        ("feat.0",),
        "features as one text column of 600 numbers",
        _wrong_layout,
    ),
    Case(
        "validate-missing-column",
        ("validate", *TABLES),
        ("label",),
        "the label column is missing",
        _nodes_with(lambda f: f.drop(columns=["label"])),
    ),
    Case(
        "validate-unknown-set",
        ("validate", "--schema", "{schema}", "--nodes", "paper={nodes}"),
        ("paper",),
        "--nodes names a set the schema lacks",
    ),
    Case(
        "validate-edges-no-source",
        ("validate", *TABLES_EDGES),
        ("source",),
        "the edge table has no source column",
        _edges_with(lambda f: f.rename(columns={"source": "src"})),
    ),
    # --- finetune: config files and values -----------------------------------------------
    Case(
        "config-missing",
        ("finetune", "--config", "{case}/none.yaml"),
        ("none.yaml",),
        "--config names no file",
    ),
    Case(
        "config-folder",
        ("finetune", "--config", "{case}"),
        ("{case}", "folder"),
        "--config is a folder",
    ),
    Case(
        "config-binary",
        ("finetune", "--config", "{case}/c.yaml"),
        ("c.yaml",),
        "--config is a binary file",
        _write("c.yaml", bytes(range(256)) * 4),
    ),
    Case(
        "config-bad-yaml",
        ("finetune", "--config", "{case}/c.yaml"),
        ("c.yaml", "line"),
        "YAML syntax error",
        _write("c.yaml", "train: {epochs: 3\nmodel: [\n"),
    ),
    Case(
        "config-not-mapping",
        ("finetune", "--config", "{case}/c.yaml"),
        ("c.yaml",),
        "the YAML is a list",
        _write("c.yaml", "- a\n- b\n"),
    ),
    Case(
        "config-unknown-key",
        ("finetune", "--config", "{cfg}", "--set", "train.epoch=3"),
        ("train.epoch",),
        "a misspelt key",
    ),
    Case(
        "config-epochs-text",
        ("finetune", "--config", "{cfg}", "--set", "train.epochs=abc"),
        ("train.epochs", "abc"),
        "--set train.epochs=abc",
        subprocess=True,
    ),
    Case(
        "config-epochs-flag",
        ("finetune", "--config", "{cfg}", "--epochs", "abc"),
        ("--epochs", "abc"),
        "--epochs abc",
    ),
    Case(
        "config-dropout-range",
        ("finetune", "--config", "{cfg}", "--set", "model.dropout=1.5"),
        ("model.dropout", "1.5"),
        "a rate above 1",
    ),
    Case(
        "config-section-scalar",
        ("finetune", "--config", "{cfg}", "--set", "train=3"),
        ("train",),
        "a section set to a number",
    ),
    Case(
        "config-override-no-equals",
        ("finetune", "--config", "{cfg}", "--set", "train.epochs"),
        ("train.epochs",),
        "--set without a value",
    ),
    Case(
        "config-lr-type",
        ("finetune", "--config", "{case}/c.yaml"),
        ("train.learning_rate", "c.yaml"),
        "learning_rate: fast in the file",
        _config_with(extra="", **{"tensorboard: false": "tensorboard: false, learning_rate: fast"}),
    ),
    Case(
        "config-monitor-unlogged",
        ("finetune", "--config", "{cfg}", "--set", "train.early_stopping.monitor=val_acuracy"),
        ("val_acuracy", "monitor"),
        "early stopping watches a metric nobody logs",
        subprocess=True,
    ),
    Case(
        "config-unknown-task",
        ("finetune", "--config", "{cfg}", "--task", "node_clasification"),
        ("task", "node_clasification"),
        "a misspelt task",
    ),
    Case(
        "config-unknown-dataset",
        ("finetune", "--config", "{cfg}", "--dataset", "corra", "--out", "{case}/out"),
        ("corra",),
        "an unknown data set name",
    ),
    Case(
        "config-tables-schema-missing",
        ("finetune", "--config", "{case}/c.yaml", "--out", "{case}/out"),
        ("nope.pbtxt",),
        "data.tables.schema names no file",
        _config_with(**{"schema.pbtxt": "nope.pbtxt"}),
    ),
    Case(
        "config-splits-bad-name",
        ("finetune", "--config", "{case}/c.yaml", "--out", "{case}/out"),
        ("splits.csv", "tets"),
        "a split named 'tets'",
        lambda ws, case: (
            _set(pd.read_csv(ws.splits), "split", 25, "tets").to_csv(
                case / "splits.csv", index=False
            ),
            _config_with(**{f"{ws.root}/splits.csv": f"{case}/splits.csv"})(ws, case),
        ),
    ),
    Case(
        "data-dir-empty",
        (
            "finetune",
            "--config",
            "{cfg}",
            "--dataset",
            "citeseer",
            "--data-dir",
            "{case}",
            "--out",
            "{case}/out",
        ),
        ("citeseer", "{case}"),
        "--data-dir without the data set's files",
    ),
    # --- finetune: output folders (checked before any work) ------------------------------
    Case(
        "out-is-file",
        ("finetune", "--config", "{cfg}", "--out", "{case}/taken"),
        ("taken", "is a file"),
        "--out is an existing file",
        _file_out,
        subprocess=True,
    ),
    Case(
        "out-under-file",
        ("finetune", "--config", "{cfg}", "--out", "{case}/taken/run"),
        ("taken", "under the file"),
        "--out lies under a file",
        _file_out,
    ),
    Case(
        "out-not-writable",
        ("finetune", "--config", "{cfg}", "--out", "{locked}"),
        ("{locked}",),
        "--out in a folder that cannot be written",
        _unwritable,
    ),
    Case(
        "out-existing-run",
        ("finetune", "--config", "{cfg}", "--out", "{run}"),
        ("{run}", "--overwrite"),
        "--out is a finished run folder",
    ),
    # --- finetune --backbone: pre-trained checkpoints ------------------------------------
    Case(
        "backbone-missing",
        (*FINETUNE, "--backbone", "{case}/none"),
        ("none",),
        "--backbone names no folder",
    ),
    Case(
        "backbone-is-run",
        (*FINETUNE, "--backbone", "{run}"),
        ("backbone.json", "tfgraphtune pretrain"),
        "--backbone names a fine-tuned run folder, not a checkpoint",
    ),
    Case(
        "backbone-empty",
        (*FINETUNE, "--backbone", "{case}/empty"),
        ("backbone.json", "tfgraphtune pretrain"),
        "--backbone is an empty folder",
        lambda ws, case: (case / "empty").mkdir(),
    ),
    Case(
        "backbone-json-corrupt",
        (*FINETUNE, "--backbone", "{case}/backbone"),
        ("backbone.json",),
        "backbone.json is not JSON",
        _backbone_with(_replace("backbone.json", '{"conv": "gcn", ')),
    ),
    Case(
        "backbone-json-wrong",
        (*FINETUNE, "--backbone", "{case}/backbone"),
        ("backbone.json",),
        "backbone.json holds a list",
        setup=_backbone_with(_replace("backbone.json", "[1, 2, 3]")),
    ),
    Case(
        "backbone-json-keys",
        (*FINETUNE, "--backbone", "{case}/backbone"),
        ("backbone.json",),
        "backbone.json lacks the backbone's keys",
        _backbone_with(_replace("backbone.json", '{"conv": "gcn"}')),
    ),
    Case(
        "backbone-weights-deleted",
        (*FINETUNE, "--backbone", "{case}/backbone"),
        ("weights",),
        "the checkpoint's weights folder is deleted",
        _backbone_with(_delete("weights")),
    ),
    Case(
        "backbone-weights-truncated",
        (*FINETUNE, "--backbone", "{case}/backbone"),
        ("weights",),
        "the checkpoint's weights are truncated",
        _backbone_with(_truncate(_weights_data)),
    ),
    Case(
        "backbone-schema-corrupt",
        (*FINETUNE, "--backbone", "{case}/backbone"),
        ("schema.pbtxt",),
        "the checkpoint's schema is garbage",
        _backbone_with(_replace("schema.pbtxt", "node_sets { oops")),
    ),
    Case(
        "backbone-pretrain-json",
        (*FINETUNE, "--backbone", "{case}/backbone"),
        ("pretrain.json",),
        "the checkpoint's pretrain.json is not JSON",
        _backbone_with(_replace("pretrain.json", "{oops")),
    ),
    # --- finetune --resume: run folders --------------------------------------------------
    Case(
        "resume-missing",
        (*FINETUNE, "--resume", "{case}/none"),
        ("none",),
        "--resume names no folder",
    ),
    Case(
        "resume-is-backbone",
        (*FINETUNE, "--resume", "{bb}"),
        ("model.json", "tfgraphtune finetune"),
        "--resume names a pre-trained checkpoint, not a run folder",
    ),
    Case(
        "resume-empty",
        (*FINETUNE, "--resume", "{case}/empty"),
        ("empty", "run folder"),
        "--resume is an empty folder",
        lambda ws, case: (case / "empty").mkdir(),
        subprocess=True,
    ),
    Case(
        "resume-config-corrupt",
        (*FINETUNE, "--resume", "{case}/run"),
        ("config.yaml",),
        "the run's config.yaml is not YAML",
        _run_with(_replace("config.yaml", "task: [\n")),
    ),
    Case(
        "resume-config-no-task",
        (*FINETUNE, "--resume", "{case}/run"),
        ("config.yaml", "task"),
        "the run's config.yaml has no task",
        _run_with(_replace("config.yaml", "train: {epochs: 3}\n")),
    ),
    Case(
        "resume-model-json",
        (*FINETUNE, "--resume", "{case}/run"),
        ("model.json",),
        "the run's model.json is truncated",
        _run_with(_truncate(lambda f: f / "model.json")),
    ),
    Case(
        "resume-weights-deleted",
        (*FINETUNE, "--resume", "{case}/run"),
        ("weights",),
        "the run's weights are deleted",
        _run_with(_delete("weights")),
    ),
    Case(
        "resume-weights-truncated",
        (*FINETUNE, "--resume", "{case}/run"),
        ("weights",),
        "the run's weights are truncated",
        _run_with(_truncate(_weights_data)),
    ),
    Case(
        "resume-other-task",
        (*FINETUNE, "--resume", "{run}", "--task", "node_regression"),
        ("finetune.resume", "node_classification"),
        "resuming a run of another task",
    ),
    # --- pretrain -------------------------------------------------------------------------
    Case(
        "pretrain-method",
        (*PRETRAIN, "--method", "dgl"),
        ("pretrain.method", "dgl"),
        "an unknown method",
    ),
    Case("pretrain-epochs-zero", (*PRETRAIN, "--epochs", "0"), ("pretrain.epochs",), "zero epochs"),
    Case(
        "pretrain-mask-text",
        (*PRETRAIN, "--set", "pretrain.mask_rate=half"),
        ("pretrain.mask_rate", "half"),
        "a word for a rate",
    ),
    Case(
        "pretrain-out-file",
        ("pretrain", "--config", "{cfg}", "--out", "{case}/taken"),
        ("taken", "is a file"),
        "--out is an existing file",
        _file_out,
        subprocess=True,
    ),
    Case(
        "pretrain-out-exists",
        ("pretrain", "--config", "{cfg}", "--out", "{bb}"),
        ("{bb}", "--overwrite"),
        "--out is an existing checkpoint",
    ),
    Case(
        "pretrain-nodes-missing",
        (*PRETRAIN[:2], "{case}/c.yaml", *PRETRAIN[3:]),
        ("gone.csv",),
        "the node table is gone",
        _config_with(**{"nodes.csv": "gone.csv"}),
    ),
    # --- tune -----------------------------------------------------------------------------
    Case(
        "tune-out-file",
        ("tune", "--config", "{cfg}", "--out", "{case}/taken"),
        ("taken",),
        "--out is an existing file",
        _file_out,
        subprocess=True,
    ),
    Case(
        "tune-out-under-file",
        ("tune", "--config", "{cfg}", "--out", "{case}/taken/t"),
        ("taken",),
        "--out lies under a file",
        _file_out,
    ),
    Case("tune-max-trials", (*TUNE[:-1], "0"), ("tune.max_trials",), "zero trials"),
    Case(
        "tune-space-key",
        (*TUNE, "--set", "tune.space={{model.hiden_units: {{type: choice, values: [4, 8]}}}}"),
        ("model.hiden_units",),
        "a search space over a misspelt key",
    ),
    Case(
        "tune-space-type",
        (*TUNE, "--set", "tune.space={{train.learning_rate: {{type: lognormal}}}}"),
        ("lognormal",),
        "a search space with an unknown type",
    ),
    Case(
        "tune-objective",
        (*TUNE, "--epochs", "1", "--set", "tune.objective={{name: val_acc, direction: max}}"),
        ("val_acc",),
        "an objective no metric logs",
    ),
    # --- evaluate -------------------------------------------------------------------------
    Case(
        "evaluate-missing",
        ("evaluate", "{case}/none"),
        ("none",),
        "no such folder",
    ),
    Case("evaluate-empty", ("evaluate", "{case}"), ("{case}", "run folder"), "an empty folder"),
    Case(
        "evaluate-backbone",
        ("evaluate", "{bb}"),
        ("run.json", "run folder"),
        "a pre-trained checkpoint instead of a run folder",
    ),
    Case(
        "evaluate-file", ("evaluate", "{case}/taken"), ("taken",), "a file, not a folder", _file_out
    ),
    Case(
        "evaluate-config-corrupt",
        ("evaluate", "{case}/run"),
        ("config.yaml",),
        "config.yaml is binary",
        _run_with(_replace("config.yaml", bytes(range(256)))),
    ),
    Case(
        "evaluate-config-no-task",
        ("evaluate", "{case}/run"),
        ("config.yaml", "task"),
        "config.yaml has no task",
        _run_with(_replace("config.yaml", "{}\n")),
    ),
    Case(
        "evaluate-config-bad-value",
        ("evaluate", "{case}/run"),
        ("config.yaml",),
        "config.yaml holds a wrong-typed value",
        _run_with(
            lambda f: (f / "config.yaml").write_text(
                (f / "config.yaml").read_text().replace("folds: 10", "folds: ten")
            )
        ),
    ),
    Case(
        "evaluate-model-json",
        ("evaluate", "{case}/run"),
        ("model.json",),
        "model.json is not JSON",
        _run_with(_replace("model.json", '{"class_name": ')),
        subprocess=True,
    ),
    Case(
        "evaluate-model-json-wrong",
        ("evaluate", "{case}/run"),
        ("model.json",),
        "model.json names an unknown class",
        _run_with(_replace("model.json", '{"class_name": "Nope", "config": {}}')),
    ),
    Case(
        "evaluate-weights-deleted",
        ("evaluate", "{case}/run"),
        ("weights",),
        "the weights folder is deleted",
        _run_with(_delete("weights")),
    ),
    Case(
        "evaluate-weights-truncated",
        ("evaluate", "{case}/run"),
        ("weights",),
        "the weights data file is truncated",
        _run_with(_truncate(_weights_data)),
    ),
    Case(
        "evaluate-weights-index",
        ("evaluate", "{case}/run"),
        ("weights",),
        "the weights index is junk",
        _run_with(lambda f: next((f / "weights").glob("*.index")).write_bytes(b"junk" * 9)),
    ),
    Case(
        "evaluate-preprocessing",
        ("evaluate", "{case}/run"),
        ("preprocessing.json",),
        "preprocessing.json has the wrong structure",
        _run_with(_replace("preprocessing.json", '{"mean": "x"}')),
    ),
    Case(
        "evaluate-serving-json",
        ("evaluate", "{case}/run"),
        ("serving.json",),
        "serving.json lacks keys",
        _run_with(_replace("serving.json", '{"node_set": "item"}')),
    ),
    Case(
        "evaluate-run-json",
        ("evaluate", "{case}/run"),
        ("run.json",),
        "run.json is not JSON",
        _run_with(_replace("run.json", "{")),
    ),
    Case(
        "evaluate-warmup",
        ("evaluate", "{case}/run"),
        ("warmup_graph.npz",),
        "warmup_graph.npz is junk",
        _run_with(_replace("warmup_graph.npz", b"junk")),
    ),
    Case(
        "evaluate-data-gone",
        ("evaluate", "{case}/run"),
        ("gone.csv",),
        "the run's node table is gone",
        _run_with(
            lambda f: (f / "config.yaml").write_text(
                (f / "config.yaml").read_text().replace("nodes.csv", "gone.csv")
            )
        ),
    ),
    Case(
        "evaluate-output-blocked",
        ("evaluate", "{case}/run"),
        ("evaluation.json",),
        "evaluation.json is a folder",
        _run_with(_evaluation_dir),
    ),
    # --- export ---------------------------------------------------------------------------
    Case(
        "export-missing",
        ("export", "{case}/none", "--out", "{case}/export"),
        ("none",),
        "no such run folder",
    ),
    Case(
        "export-empty",
        ("export", "{case}", "--out", "{case}/export"),
        ("run folder",),
        "an empty folder",
    ),
    Case(
        "export-out-file",
        ("export", "{run}", "--out", "{case}/taken"),
        ("taken",),
        "--out is an existing file",
        _file_out,
        subprocess=True,
    ),
    Case(
        "export-out-under-file",
        ("export", "{run}", "--out", "{case}/taken/cora"),
        ("taken",),
        "--out lies under a file",
        _file_out,
    ),
    Case(
        "export-out-not-writable",
        ("export", "{run}", "--out", "{locked}"),
        ("{locked}",),
        "--out cannot be written",
        _unwritable,
    ),
    Case(
        "export-max-nodes",
        ("export", "{run}", "--out", "{case}/e", "--max-nodes", "-5"),
        ("max_nodes",),
        "a negative node limit",
    ),
    Case(
        "export-max-nodes-zero",
        ("export", "{run}", "--out", "{case}/e", "--max-nodes", "0"),
        ("max_nodes",),
        "a node limit of 0 (it was read as 'use the default')",
    ),
    Case(
        "export-request-edges",
        ("export", "{run}", "--out", "{case}/e", "--max-request-edges", "-1"),
        ("max_request_edges",),
        "a negative request limit",
    ),
    Case(
        "export-version-zero",
        ("export", "{run}", "--out", "{case}/e", "--version", "0"),
        ("version",),
        "version 0",
    ),
    Case(
        "export-weights-truncated",
        ("export", "{case}/run", "--out", "{case}/e"),
        ("weights",),
        "truncated weights",
        _run_with(_truncate(_weights_data)),
    ),
    Case(
        "export-config-no-task",
        ("export", "{case}/run", "--out", "{case}/e"),
        ("config.yaml",),
        "config.yaml has no task",
        _run_with(_replace("config.yaml", "- 1\n")),
    ),
    # --- data sets: TU text files ---------------------------------------------------------
    Case(
        "tu-fractional-index",
        ("datasets", "describe", "tu:TINY", "--data-dir", "{case}"),
        ("TINY_A.txt", "line 2", "2.5"),
        "a fractional node index",
        _tu(A="1, 2\n2.5, 3\n3, 1\n4, 5\n5, 6\n6, 4\n"),
        subprocess=True,
    ),
    Case(
        "tu-inf-index",
        ("datasets", "describe", "tu:TINY", "--data-dir", "{case}"),
        ("TINY_A.txt", "line 3", "inf"),
        "inf as a node index",
        _tu(A="1, 2\n2, 3\ninf, 1\n4, 5\n5, 6\n6, 4\n"),
    ),
    Case(
        "tu-inf-attribute",
        ("datasets", "describe", "tu:TINY", "--data-dir", "{case}"),
        ("TINY_node_attributes.txt", "line 4"),
        "inf in a node attribute",
        _tu(node_attributes="0.1\n0.2\n0.3\ninf\n0.5\n0.6\n"),
    ),
    Case(
        "tu-text-label",
        ("datasets", "describe", "tu:TINY", "--data-dir", "{case}"),
        ("TINY_graph_labels.txt", "line 2"),
        "a word as a graph label",
        _tu(graph_labels="1\nmutagenic\n"),
    ),
    Case(
        "tu-index-range",
        ("datasets", "describe", "tu:TINY", "--data-dir", "{case}"),
        ("TINY_A.txt",),
        "a node index past the last node",
        _tu(A="1, 2\n2, 3\n3, 9\n4, 5\n5, 6\n6, 4\n"),
    ),
    Case(
        "tu-indicator-count",
        ("datasets", "describe", "tu:TINY", "--data-dir", "{case}"),
        ("TINY_graph_indicator.txt",),
        "more graphs than labels",
        _tu(graph_indicator="1\n1\n1\n2\n2\n3\n"),
    ),
    Case(
        "tu-node-labels-short",
        ("datasets", "describe", "tu:TINY", "--data-dir", "{case}"),
        ("TINY_node_labels.txt",),
        "fewer node labels than nodes",
        _tu(node_labels="0\n1\n0\n"),
    ),
    Case(
        "tu-missing",
        ("datasets", "describe", "tu:NOPE", "--data-dir", "{case}"),
        ("NOPE",),
        "a TU set not in --data-dir",
    ),
    Case(
        "dataset-unknown", ("datasets", "describe", "corra"), ("corra",), "an unknown data set name"
    ),
    # --- data sets: Planetoid pickles -----------------------------------------------------
    Case(
        "planetoid-graph-values",
        ("datasets", "describe", "cora", "--data-dir", "{case}"),
        ("ind.cora.graph",),
        "the adjacency dict maps a node to a number, not a list",
        _planetoid("graph", {0: 5, 1: [0]}),
        subprocess=True,
    ),
    Case(
        "planetoid-graph-list",
        ("datasets", "describe", "cora", "--data-dir", "{case}"),
        ("ind.cora.graph",),
        "the adjacency is a list",
        _planetoid("graph", [[0, 1], [1, 0]]),
    ),
    Case(
        "planetoid-evil",
        ("datasets", "describe", "cora", "--data-dir", "{case}"),
        ("ind.cora.x", "posix.system"),
        "a pickle that would run a command",
        _planetoid("x", _Evil()),
    ),
    Case(
        "planetoid-truncated",
        ("datasets", "describe", "cora", "--data-dir", "{case}"),
        ("ind.cora.allx",),
        "a truncated pickle",
        _planetoid("allx", raw=b"\x80\x02}q\x00("),
    ),
    Case(
        "planetoid-y-shape",
        ("datasets", "describe", "cora", "--data-dir", "{case}"),
        ("ind.cora.ally",),
        "labels with the wrong number of rows",
        _planetoid("ally", np.zeros((5, 7), np.int64)),
    ),
    Case(
        "planetoid-x-dense",
        ("datasets", "describe", "cora", "--data-dir", "{case}"),
        ("ind.cora.tx",),
        "features of the wrong width",
        _planetoid("tx", np.zeros((1000, 3), np.float32)),
    ),
    Case(
        "planetoid-test-index",
        ("datasets", "describe", "cora", "--data-dir", "{case}"),
        ("ind.cora.test.index",),
        "a word in the test index",
        _planetoid("test.index", raw=b"2692\n2532\nabc\n"),
    ),
    Case(
        "planetoid-missing",
        ("datasets", "describe", "citeseer", "--data-dir", "{case}"),
        ("citeseer",),
        "the CiteSeer files are absent",
    ),
    # --- run ------------------------------------------------------------------------------
    Case(
        "run-out-file",
        ("run", "--config", "{cfg}", "--out", "{case}/taken"),
        ("taken",),
        "--out is an existing file",
        _file_out,
    ),
    Case(
        "run-stages",
        ("run", "--config", "{cfg}", "--out", "{case}/p", "--set", "run.stages=[finetune, deploy]"),
        ("run.stages", "deploy"),
        "an unknown stage",
    ),
)
