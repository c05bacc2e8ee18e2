"""The CLI's one error boundary: user mistakes are exit 2 and a short message, bugs a traceback.

Every command runs through `run_command`. What the user can fix (a config key, a file, a
folder, a damaged checkpoint, a permission) ends with exit code 2 and a few lines naming the
culprit and the fix; anything else is a bug in tfgraphtune: its traceback, then a line
asking to report it, and exit code 1.
"""

from __future__ import annotations

import argparse
import sys
import traceback

EXIT_OK = 0
EXIT_BUG = 1
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
# Longer messages are cut: a message names the culprit, it never dumps data.
MAX_MESSAGE_CHARS = 1500


def _user_error_types() -> tuple[type[BaseException], ...]:
    import tensorflow as tf

    from tfgraphtune.cli.errors import UserError
    from tfgraphtune.data.errors import ValidationError
    from tfgraphtune.training.config import ConfigError

    # TensorFlow's file errors are about paths the user gave (a folder that vanished, a
    # file it may not read); its other errors are ours.
    return (
        UserError,
        ValidationError,
        ConfigError,
        tf.errors.NotFoundError,
        tf.errors.PermissionDeniedError,
    )


_PATH_ERRORS = (
    FileNotFoundError,
    FileExistsError,
    PermissionError,
    IsADirectoryError,
    NotADirectoryError,
)


def short_message(err: BaseException) -> str:
    """The error's message, cut to `MAX_MESSAGE_CHARS`; OS errors name their file."""
    import tensorflow as tf

    if isinstance(err, tf.errors.OpError):
        text = (err.message or str(err)).strip().splitlines()[0]
    elif isinstance(err, OSError) and err.filename is not None:
        target = f" -> {err.filename2!r}" if err.filename2 else ""
        text = (
            f"cannot use {str(err.filename)!r}{target}: {err.strerror or err}; check the path "
            "and its permissions."
        )
    else:
        text = str(err).strip() or type(err).__name__
    if len(text) > MAX_MESSAGE_CHARS:
        text = f"{text[:MAX_MESSAGE_CHARS]}... ({len(text) - MAX_MESSAGE_CHARS} more characters)"
    return text


def is_user_error(err: BaseException) -> bool:
    """Whether `err` is the user's to fix (see the module docstring)."""
    if isinstance(err, _user_error_types()):
        return True
    # An OS error on a named file (a path the user gave, or one inside a folder they gave),
    # or one that is about a path whatever it names.
    return isinstance(err, OSError) and (err.filename is not None or isinstance(err, _PATH_ERRORS))


def run_command(args: argparse.Namespace) -> int:
    """Runs the parsed command's handler; returns the process exit code."""
    prefix = f"tfgraphtune {args.command}"
    try:
        return int(args.handler(args) or EXIT_OK)
    except KeyboardInterrupt:
        print(f"{prefix}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as err:  # noqa: BLE001  (the boundary: sorted into user errors and bugs)
        if is_user_error(err):
            print(f"{prefix}: error: {short_message(err)}", file=sys.stderr)
            return EXIT_USER_ERROR
        traceback.print_exc()
        print(
            f"{prefix}: internal error ({type(err).__name__}). This is a bug in tfgraphtune, "
            "not in your input: please report it on the project's issue tracker with the "
            "command and the traceback above.",
            file=sys.stderr,
        )
        return EXIT_BUG
