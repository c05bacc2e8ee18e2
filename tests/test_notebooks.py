"""The teaching notebooks run top to bottom in a real Jupyter kernel (nbclient + ipykernel),
print no TensorFlow start-up noise, and show the results they teach."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient", reason="install the dev extra: pip install -e .[dev]")
import nbformat  # noqa: E402

pytestmark = pytest.mark.xdist_group("notebooks")

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
# What TensorFlow's start-up and tracing print when nobody holds it back.
NOISE = re.compile(
    r"I0000|W0000|E0000|absl::InitializeLog|oneDNN|cuda|cpu_feature_guard|"
    r"WARNING:tensorflow|Mapping types may not work",
    re.IGNORECASE,
)


def _float_after(text: str, label: str) -> float:
    return float(re.search(re.escape(label) + r"\s*([0-9.]+)", text).group(1))


def _quickstart(text: str, outputs: list) -> None:
    assert _float_after(text, "'test': ") >= 0.7  # GCN on Cora after 40 epochs.
    assert "predicted classes of the first 10 papers:" in text
    assert any("image/png" in out.get("data", {}) for out in outputs)  # training curves


def _strategies(text: str, outputs: list) -> None:
    assert "DGI loss after 30 epochs" in text
    assert any("image/png" in out.get("data", {}) for out in outputs)  # the comparison plot
    for strategy in ("full", "linear_probe", "lora"):
        assert strategy in text
    assert "4 columns," in text  # the report: pre-training and the three runs


def _tables(text: str, outputs: list) -> None:
    assert _float_after(text, "test accuracy:") >= 0.8  # the communities are separable
    assert "communities of the new customers: [0 1 1]" in text


def _explain(text: str, outputs: list) -> None:
    assert _float_after(text, "test accuracy") >= 0.7
    assert "sum of attributions" in text and "top-5 edges in common:" in text
    assert sum("image/png" in out.get("data", {}) for out in outputs) >= 2  # two pictures


EXPECTED = {
    "quickstart": _quickstart,
    "pretrain_finetune_strategies": _strategies,
    "tables_to_served_model": _tables,
    "explain_a_prediction": _explain,
}


def test_every_notebook_is_tested():
    assert sorted(p.stem for p in NOTEBOOKS_DIR.glob("*.ipynb")) == sorted(EXPECTED)


@pytest.fixture
def this_python_kernel(tmp_path, monkeypatch) -> str:
    """A kernel spec running this interpreter (the one with tfgraphtune installed), found
    before any other ``python3`` spec on the machine (JUPYTER_PATH comes first)."""
    spec = tmp_path / "jupyter" / "kernels" / "tfgraphtune-test"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "tfgraphtune test", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return "tfgraphtune-test"


@pytest.mark.parametrize("name", list(EXPECTED))
def test_notebook_runs_in_a_kernel(name, data_dir, monkeypatch, this_python_kernel):
    monkeypatch.setenv("TFGRAPHTUNE_DATA_DIR", str(data_dir))  # The kernel inherits it.
    path = NOTEBOOKS_DIR / f"{name}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    # Committed without outputs, so diffs show only what a person wrote.
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
    client = nbclient.NotebookClient(
        notebook,
        timeout=300,
        kernel_name=this_python_kernel,
        resources={"metadata": {"path": str(NOTEBOOKS_DIR)}},
    )
    client.execute()  # Raises CellExecutionError, with the cell and traceback, on failure.
    outputs = [out for cell in notebook.cells for out in cell.get("outputs", [])]
    text = "\n".join(
        out.get("text", "") + str(out.get("data", {}).get("text/plain", "")) for out in outputs
    )
    noisy = [line for line in text.splitlines() if NOISE.search(line)]
    assert not noisy, f"TensorFlow noise in {name}: {noisy[:3]}"
    stderr = [out["text"] for out in outputs if out.get("name") == "stderr"]
    assert not stderr, f"{name} wrote to stderr: {stderr[:2]}"
    EXPECTED[name](text, outputs)
