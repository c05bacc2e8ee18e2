"""``tfgraphtune report``: one HTML page, checked in a real headless browser (Chromium)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile

import numpy as np
import pytest
from conftest import make_config
from PIL import Image

from tfgraphtune.cli.main import main
from tfgraphtune.training.train import train

pytestmark = pytest.mark.xdist_group("chromium")

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",  # Tests run as root in CI.
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Runs headless Chromium with a fresh profile; fails (never skips) when it is absent."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.fail(
            "headless Chromium is needed to check the HTML report; install it with "
            "`apt-get install -y chromium` (.ci/run does this)."
        )
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@pytest.fixture(scope="module")
def two_runs(sources, tmp_path_factory):
    """A classification run and a link prediction run: different pictures in each column."""
    root = tmp_path_factory.mktemp("report_runs")
    runs = []
    for task in ("node_classification", "link_prediction"):
        config = make_config(task, sources["node_tables"], root / task, train={"epochs": 3})
        runs.append(train(config).run_dir)
    return runs


def test_report_renders_in_chromium_with_every_picture(two_runs, tmp_path, capsys):
    page = tmp_path / "report.html"
    assert main(["report", *map(str, two_runs), "--out", str(page)]) == 0
    assert "2 columns, 6 pictures" in capsys.readouterr().out
    text = page.read_text()
    # Self-contained: every picture inlined, nothing fetched from elsewhere.
    sources = re.findall(r'<img[^>]* src="([^"]+)"', text)
    assert len(sources) == 6
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert "http://" not in text and "https://" not in text

    dom = chromium("--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    # The page's script counts pictures decoded by the browser (naturalWidth > 0).
    assert 'data-images-loaded="6/6"' in dom.stdout
    assert "confusion matrix" in dom.stdout and "roc pr curves" in dom.stdout

    shot = tmp_path / "shot.png"
    result = chromium(f"--screenshot={shot}", "--window-size=1200,1600", page.as_uri())
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    with Image.open(shot) as image:
        pixels = np.asarray(image.convert("RGB"))
    assert pixels.shape[:2] == (1600, 1200)
    # Not blank: many colours (plots, tables), and more than a few percent non-white.
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50
    assert (pixels.min(axis=-1) < 200).mean() > 0.02


def test_report_names_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "is not a run folder" in err and "--out" in err
