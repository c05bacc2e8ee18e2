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
    "report",
    "explain",
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
    for subparser in subparsers.choices.values():
        if "--quiet" not in subparser._option_string_actions:
            subparser.add_argument(
                "--quiet", action="store_true", help="no progress bars, only the summary"
            )
    return parser


def add_data_dir_argument(parser: argparse.ArgumentParser) -> None:
    """Adds the ``--data-dir`` flag every command that reads data sets accepts."""
    parser.add_argument(
        "--data-dir",
        default=None,
        help="folder with local copies of the data sets (default: $TFGRAPHTUNE_DATA_DIR, "
        "else the download cache)",
    )


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


def print_facts(title: str, facts: dict) -> None:
    """A titled two-column table of facts (None values are left out)."""
    rows = [(str(k), v) for k, v in facts.items() if v is not None]
    print(title)
    if not rows:
        return
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        if isinstance(value, float):
            value = f"{value:.4g}"
        print(f"  {name.ljust(width)}  {value}")


def print_summary(metrics: dict) -> None:
    """A short table of the per-split metrics (the full JSON stays in the run folder),
    then the run's facts (epochs, time, strategy) when `metrics` holds them."""
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
    facts = {
        "epochs run": metrics.get("epochs_run"),
        "training time (s)": metrics.get("train_time_s"),
        "strategy": metrics.get("strategy"),
        "trainable fraction": metrics.get("trainable_fraction"),
    }
    if any(value is not None for value in facts.values()):
        print_facts("run:", facts)


def main(argv: list[str] | None = None) -> int:
    """Runs the command line; returns the exit code.

    Parsing needs no TensorFlow (``--help`` stays fast); a command imports it when it runs.
    """
    args = build_parser().parse_args(argv)
    from tfgraphtune.quiet import quiet_tensorflow

    # Not in a cluster: a multi-worker strategy must configure collective ops first.
    quiet_tensorflow(start_runtime=not os.environ.get("TF_CONFIG"), python_warnings=True)
    from tfgraphtune.training.progress import set_progress

    # Under --json stdout holds only the JSON: progress goes to stderr.
    set_progress(
        not getattr(args, "quiet", False),
        stream="stderr" if getattr(args, "json", False) else None,
    )
    from tfgraphtune.cli.boundary import run_command

    # User mistakes: exit 2 and a short message; bugs: a traceback and a request to report.
    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
