"""Entry point of the ``tfgraphtune`` command.

Each subcommand lives in its own module exposing ``register(subparsers)``; the handler it
sets returns the process exit code. User mistakes (`UserError`, `ValidationError`,
`ConfigError`, OS errors on a file) end with exit code 2 and one short message on stderr,
never a traceback; bugs print theirs and ask to be reported (`cli/boundary.py`).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# Subcommand modules, in the order `--help` lists them.
_SUBCOMMANDS = (
    "run",
    "datasets",
    "validate",
    "pretrain",
    "finetune",
    "evaluate",
    "tune",
    "export",
    "sample",
    "recommend",
)

EXIT_OK = 0
EXIT_USER_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    """Returns the argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="tfgraphtune",
        description="Pre-train and fine-tune graph neural networks on TensorFlow/Keras.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in _SUBCOMMANDS:
        importlib.import_module(f"tfgraphtune.cli.{name}").register(subparsers)
    return parser


def add_data_dir_argument(parser: argparse.ArgumentParser) -> None:
    """Adds the ``--data-dir`` flag every command that reads data sets accepts."""
    parser.add_argument(
        "--data-dir",
        default=None,
        help="folder with local copies of the data sets (default: $TFGRAPHTUNE_DATA_DIR, "
        "else the download cache)",
    )


def _import_tensorflow_quietly() -> None:
    """Imports TensorFlow with its C++ start-up banner (absl INFO lines) held back.

    The banner is written straight to file descriptor 2 before any logging flag applies, so
    stderr is pointed at a temporary file during the import and replayed only on failure.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules:
        import tfgraphtune  # noqa: F401

        return
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
            import tensorflow_gnn  # noqa: F401

            import tfgraphtune  # noqa: F401  (selects tf_keras first)

            if not os.environ.get("TF_CONFIG"):
                # Device discovery logs its own lines; keep them here too. Not in a cluster:
                # a multi-worker strategy must configure collective ops before the runtime.
                tensorflow.constant(0)
        except BaseException:
            os.dup2(saved, 2)
            held.seek(0)
            sys.stderr.write(held.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def add_override_argument(parser: argparse.ArgumentParser, example: str) -> None:
    """Adds the repeatable ``--set KEY=VALUE`` flag that overrides any config key."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"override any config key, e.g. --set {example} (repeatable)",
    )


# Shortcut flags of the config commands: flag -> (config key, type, help beyond "overrides").
SHORTCUTS = {
    "--dataset": ("data.dataset", str, ""),
    "--task": ("task", str, ""),
    "--epochs": ("train.epochs", int, ""),
    "--seed": ("train.seed", int, ""),
    "--out": ("out", str, "the output folder"),
    "--backbone": ("finetune.backbone", str, "a pre-trained checkpoint (tfgraphtune pretrain)"),
    "--strategy": ("finetune.strategy", str, "the fine-tuning strategy"),
    "--resume": ("finetune.resume", str, "a fine-tuned run folder to continue on new data"),
    "--method": ("pretrain.method", str, ""),
    "--pretrain-epochs": ("pretrain.epochs", int, ""),
    "--tuner": ("tune.tuner", str, ""),
    "--max-trials": ("tune.max_trials", int, ""),
    "--tune-seed": ("tune.seed", int, "the tuner's sampling"),
    "--distribution": (
        "train.distribution",
        str,
        "auto | none | one_device | mirrored | multi_worker | parameter_server; workers read "
        "TF_CONFIG",
    ),
}


def add_config_arguments(
    parser: argparse.ArgumentParser,
    flags: list[str],
    *,
    example: str,
    renamed: dict[str, str] | None = None,
    required: tuple[str, ...] = (),
) -> None:
    """Adds ``--config``, the chosen shortcut flags, ``--set`` and ``--data-dir``.

    Args:
      parser: The subcommand's parser.
      flags: Names from `SHORTCUTS`.
      example: An example ``--set`` override for the help.
      renamed: Shortcut name -> the flag name this command shows (e.g. pretrain's
        ``--epochs`` sets ``pretrain.epochs``: ``{"--pretrain-epochs": "--epochs"}``).
      required: Flags (as shown) that must be given.
    """
    renamed = renamed or {}
    parser.add_argument("--config", help="YAML config file (default: built-in defaults)")
    shortcuts = {}
    for flag in flags:
        key, kind, extra = SHORTCUTS[flag]
        shown = renamed.get(flag, flag)
        action = parser.add_argument(
            shown,
            type=kind,
            required=shown in required,
            help=f"overrides {key}" + (f" ({extra})" if extra else ""),
        )
        shortcuts[action.dest] = key
    shortcuts["data_dir"] = "data.data_dir"
    add_override_argument(parser, example)
    add_data_dir_argument(parser)
    parser.set_defaults(shortcuts=shortcuts)


def config_overrides(args: argparse.Namespace) -> list[str]:
    """``key=value`` overrides from the shortcut flags given, then the ``--set`` ones.

    Flags left unset override nothing; ``--set`` comes last, so it wins.
    """
    pairs = [
        f"{key}={getattr(args, dest)}"
        for dest, key in args.shortcuts.items()
        if getattr(args, dest, None) is not None
    ]
    return pairs + list(args.overrides)


def print_summary(metrics: dict) -> None:
    """A short table of the per-split metrics (the full JSON stays in the run folder)."""
    splits = [s for s in ("train", "validation", "test") if isinstance(metrics.get(s), dict)]
    if not splits:
        return
    names = list(dict.fromkeys(name for s in splits for name in metrics[s]))
    width = max(len(name) for name in names)
    print(f"{'metric'.ljust(width)}  " + "  ".join(s.rjust(10) for s in splits))
    for name in names:
        cells = []
        for split in splits:
            value = metrics[split].get(name)
            cells.append(("-" if value is None else f"{value:.4f}").rjust(10))
        print(f"{name.ljust(width)}  " + "  ".join(cells))


def main(argv: list[str] | None = None) -> int:
    """Runs the command line; returns the exit code.

    Parsing needs no TensorFlow (``--help`` stays fast); a command imports it when it runs.
    """
    args = build_parser().parse_args(argv)
    _import_tensorflow_quietly()
    from tfgraphtune.cli.boundary import run_command

    # User mistakes: exit 2 and a short message; bugs: a traceback and a request to report.
    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
