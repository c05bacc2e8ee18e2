"""Files a TF Serving operator needs beside the versions: model config, batching, README."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tfgraphtune.training.staging import write_file_atomic  # Read while servers run.

MODEL_CONFIG_FILE = "models.config"
BATCHING_FILE = "batching_parameters.txt"
README_FILE = "README.md"
SERVING_IMAGE = "tensorflow/serving:2.21.0"


@dataclasses.dataclass(frozen=True)
class BatchingParameters:
    """TF Serving's ``--batching_parameters_file`` (a ``BatchingParameters`` text proto).

    ``pad_variable_length_inputs`` lets requests of different graph sizes share a batch of
    the ``predict_dense`` signature: padded rows lie past ``num_nodes``/``num_edges`` and
    are ignored by the model.
    """

    max_batch_size: int = 32
    batch_timeout_micros: int = 2000
    max_enqueued_batches: int = 100
    num_batch_threads: int = 2
    pad_variable_length_inputs: bool = True

    def to_text(self) -> str:
        lines = [
            f"max_batch_size {{ value: {self.max_batch_size} }}",
            f"batch_timeout_micros {{ value: {self.batch_timeout_micros} }}",
            f"max_enqueued_batches {{ value: {self.max_enqueued_batches} }}",
            f"num_batch_threads {{ value: {self.num_batch_threads} }}",
            f"pad_variable_length_inputs: {str(self.pad_variable_length_inputs).lower()}",
        ]
        return "\n".join(lines) + "\n"


def model_config_text(model_name: str, base_path: str) -> str:
    """A ``--model_config_file`` text proto serving the latest version of one model."""
    return (
        "model_config_list {\n"
        "  config {\n"
        f'    name: "{model_name}"\n'
        f'    base_path: "{base_path}"\n'
        '    model_platform: "tensorflow"\n'
        "    model_version_policy { latest { num_versions: 1 } }\n"
        "  }\n"
        "}\n"
    )


def serve_commands(model_name: str, base_dir: str | Path) -> dict[str, str]:
    """The exact commands that serve ``base_dir`` (a folder of numbered versions)."""
    base_dir = Path(base_dir).resolve()
    config = base_dir / MODEL_CONFIG_FILE
    batching = base_dir / BATCHING_FILE
    container_dir = f"/models/{model_name}"
    return {
        "model_server": (
            "tensorflow_model_server --port=8500 --rest_api_port=8501 "
            f"--model_config_file={config} --enable_batching "
            f"--batching_parameters_file={batching}"
        ),
        "container": (
            f"docker run --rm -p 8500:8500 -p 8501:8501 -v {base_dir}:{container_dir} "
            f"{SERVING_IMAGE} --model_config_file={container_dir}/{MODEL_CONFIG_FILE}.container "
            f"--enable_batching --batching_parameters_file={container_dir}/{BATCHING_FILE}"
        ),
    }


def limits_doc(limits) -> str:
    """What a request may hold and cost (a `ServingLimits`), as the README states it."""
    return (
        "Limits (checked in the graph before any work sized by the request; a request past "
        "them gets INVALID_ARGUMENT and the model keeps serving):\n\n"
        f"- at most {limits.max_nodes} nodes and {limits.max_edges} edges (and scored pairs) "
        "per graph;\n"
        f"- at most {limits.max_request_nodes} node rows per request: graphs in the request "
        "(or server-side batch) x nodes of its largest graph;\n"
        f"- at most {limits.max_request_edges} edges (and scored pairs) per request;\n"
        "- the node and edge counts a request states (`#size`, `num_nodes`, `num_edges`) "
        "must equal the feature rows and indices it sends, so claimed sizes cost nothing.\n\n"
        "So one request costs at most about max_request_nodes x (feature width + hidden "
        "units) + max_request_edges x hidden units values of work and memory per layer, "
        "plus its own bytes. Lower the limits with `tfgraphtune export --max-nodes "
        "--max-edges` (or the config's `export` section) to bound it further.\n"
    )


def write_server_files(
    base_dir: str | Path,
    model_name: str,
    batching: BatchingParameters,
    *,
    signatures: str,
    limits=None,
) -> dict[str, Path]:
    """Writes the model config (host and container paths), batching file and README.

    Args:
      base_dir: The export's base folder.
      model_name: The model's name in ``models.config``.
      batching: Server-side batching parameters.
      signatures: The signatures' description (Markdown).
      limits: The export's `ServingLimits`, stated in the README (None: not stated).
    """
    base_dir = Path(base_dir).resolve()
    files = {
        "model_config": base_dir / MODEL_CONFIG_FILE,
        "model_config_container": base_dir / f"{MODEL_CONFIG_FILE}.container",
        "batching": base_dir / BATCHING_FILE,
        "readme": base_dir / README_FILE,
    }
    write_file_atomic(files["model_config"], model_config_text(model_name, str(base_dir)))
    write_file_atomic(
        files["model_config_container"], model_config_text(model_name, f"/models/{model_name}")
    )
    write_file_atomic(files["batching"], batching.to_text())
    commands = serve_commands(model_name, base_dir)
    write_file_atomic(
        files["readme"],
        f"# {model_name}: a tfgraphtune export for TF Serving\n\n"
        "Numbered folders are SavedModel versions; TF Serving serves the newest one.\n\n"
        "Serve it (gRPC on 8500, REST on 8501, server-side batching on):\n\n"
        f"```\n{commands['model_server']}\n```\n\n"
        "or in a container:\n\n"
        f"```\n{commands['container']}\n```\n\n"
        f"Signatures:\n\n{signatures}\n\n"
        + (limits_doc(limits) + "\n" if limits is not None else "")
        + "Call it from Python with `tfgraphtune.serving.client` (REST or gRPC), or check it "
        "without a server:\n\n"
        f"```\nsaved_model_cli show --all --dir {base_dir}/<version>\n```\n",
    )
    return files
