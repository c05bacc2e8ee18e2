"""Progress of long stages: one bar per stage, plain lines in logs, silenced by --quiet."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from tfgraphtune.cli.main import main
from tfgraphtune.training import progress


@pytest.fixture(autouse=True)
def _progress_on():
    progress.set_progress(True)
    yield
    progress.set_progress(True)


def _fit(epochs: int, callback) -> None:
    x = np.linspace(-1, 1, 32, dtype=np.float32)[:, None]
    model = tf.keras.Sequential([tf.keras.layers.Dense(1)])
    model.compile(tf.keras.optimizers.SGD(0.1), loss="mse")
    model.fit(x, 2 * x, validation_data=(x, 2 * x), epochs=epochs, verbose=0,
              callbacks=[callback])  # fmt: skip


def test_plain_lines_every_tenth_epoch_with_loss_monitor_and_eta():
    stream = io.StringIO()
    _fit(20, progress.EpochProgress("fine-tune", monitor="val_loss", stream=stream,
                                    interactive=False))  # fmt: skip
    lines = stream.getvalue().splitlines()
    # Header, epoch 1, then every 20 // 10 = 2 epochs (2, 4, ..., 20), closing line.
    assert lines[0] == "fine-tune: up to 20 epochs"
    epochs = [int(line.split()[2].split("/")[0]) for line in lines[1:-1]]
    assert epochs == [1, *range(2, 21, 2)]
    assert all(" loss " in line and " val_loss " in line and "ETA" in line for line in lines[1:-1])
    # A linear fit with SGD keeps improving: the best val_loss is the last epoch's.
    assert lines[-1].startswith("fine-tune: 20 epochs in ")
    assert lines[-1].endswith("at epoch 20")


def test_interactive_bar_is_one_keras_progbar_line(capsys):
    _fit(5, progress.EpochProgress("pre-train", monitor="loss", interactive=True))
    out = capsys.readouterr().out
    assert out.count("pre-train: up to 5 epochs") == 1
    # Progbar redraws one line with carriage returns: a single "5/5 [" bar, no "1/1" bars.
    assert "5/5 [" in out and "1/1 [" not in out
    assert out.count("\n") == 3  # Header, the bar's end, the closing line.


def test_early_stop_closes_the_bar_and_names_the_best_epoch():
    stream = io.StringIO()
    bar = progress.EpochProgress("fine-tune", monitor="val_loss", stream=stream, interactive=False)
    stop = tf.keras.callbacks.EarlyStopping(monitor="loss", patience=1, min_delta=1e9)
    x = np.ones((4, 1), np.float32)
    model = tf.keras.Sequential([tf.keras.layers.Dense(1)])
    model.compile("sgd", loss="mse")
    model.fit(x, x, validation_data=(x, x), epochs=50, verbose=0, callbacks=[stop, bar])
    assert stream.getvalue().splitlines()[-1].startswith("fine-tune: 2 epochs in ")


def test_quiet_means_no_callbacks_and_verbose_keras_means_no_second_display():
    assert len(progress.progress_callbacks("x", monitor="loss")) == 1
    assert progress.progress_callbacks("x", monitor="loss", verbose=1) == []
    progress.set_progress(False)
    assert progress.progress_callbacks("x", monitor="loss") == []


def _finetune(tmp_path, data_dir, *extra):
    return main(["finetune", "--dataset", "cora", "--data-dir", str(data_dir), "--epochs", "20",
                 "--out", str(tmp_path / "run"), "--set", "model.hidden_units=8",
                 "--set", "train.tensorboard=false", "--overwrite", *extra])  # fmt: skip


def test_cli_finetune_shows_progress_then_a_summary_table_not_json(tmp_path, data_dir, capsys):
    assert _finetune(tmp_path, data_dir) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "fine-tune: up to 20 epochs" in lines
    assert 5 <= sum(line.startswith("fine-tune epoch ") for line in lines) <= 12
    table = lines.index(next(line for line in lines if line.startswith("metric ")))
    assert lines[table].split() == ["metric", "train", "validation", "test"]
    assert lines[table + 1].split()[0] == "accuracy"
    assert "epochs run" in out and "{" not in out  # JSON only with --json.

    # --json: stdout is exactly the JSON (pipe it to jq); progress goes to stderr.
    assert _finetune(tmp_path, data_dir, "--json") == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["epochs_run"] == 20
    assert "fine-tune: up to 20 epochs" in captured.err

    assert _finetune(tmp_path, data_dir, "--quiet", "--json") == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["epochs_run"] == 20
    assert "fine-tune" not in captured.out + captured.err


def test_readme_main_command_shows_progress_and_ends_with_a_summary(tmp_path, data_dir, capsys):
    # The README's `tfgraphtune run --config configs/cora_dgi_lora.yaml`, shortened.
    config = Path(__file__).resolve().parents[2] / "configs" / "cora_dgi_lora.yaml"
    argv = ["run", "--config", str(config), "--out", str(tmp_path / "cora"),
            "--data-dir", str(data_dir), "--epochs", "3", "--set", "pretrain.epochs=3",
            "--set", "model.hidden_units=16", "--set", "train.tensorboard=false"]  # fmt: skip
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    for header in ("pre-train (dgi): up to 3 epochs", "fine-tune: up to 3 epochs",
                   "export (version 1): up to 3 steps"):  # fmt: skip
        assert header in lines
    assert any(line.startswith("pre-train (dgi) epoch 3/3 loss ") for line in lines)
    assert any(line.startswith("fine-tune epoch 3/3 loss ") for line in lines)
    table = next(i for i, line in enumerate(lines) if line.startswith("metric "))
    assert table > max(i for i, line in enumerate(lines) if line.startswith("fine-tune"))
    assert [line.split()[0] for line in lines[table + 1 : table + 3]] == ["accuracy", "macro_f1"]
    assert lines[-1] == f"pipeline folder: {tmp_path / 'cora'}"
    # The pipeline folder's report: the pre-training's column (loss curve) and the model's.
    page = tmp_path / "cora.html"
    assert main(["report", str(tmp_path / "cora"), "--out", str(page)]) == 0
    assert "(2 columns, 4 pictures)" in capsys.readouterr().out
    assert "pretrain (dgi)" in page.read_text()


def test_tf_gnn_internal_warning_is_dropped_and_others_are_kept():
    import logging

    from tfgraphtune.quiet import drop_known_tensorflow_warnings

    seen = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    handler = Keep()
    logger = tf.get_logger()
    logger.addHandler(handler)
    try:
        drop_known_tensorflow_warnings()
        drop_known_tensorflow_warnings()  # Idempotent: one filter.
        # What TensorFlow logs when TF-GNN maps over its own feature mappings.
        logger.warning(
            "Mapping types may not work well with tf.nest. Prefer using MutableMapping for %s",
            "<class 'tensorflow_gnn.graph.graph_tensor._ImmutableMapping'>",
        )
        logger.warning("a warning a user should see")
    finally:
        logger.removeHandler(handler)
    assert seen == ["a warning a user should see"]
    assert sum(type(f).__name__ == "_DropKnownNoise" for f in logger.filters) == 1
