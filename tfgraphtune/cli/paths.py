"""Output paths of the CLI, checked before any work: a mistake found after training loses it.

`tfgraphtune finetune` and `pretrain` check theirs when they open their staged output
folder (`training/staging.py`), before reading data. These checks are for outputs that may
exist already: a tuning folder (rerunning resumes it), an export base folder (each export
adds a version), a file written into a run folder.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tfgraphtune.cli.errors import UserError


def _nearest_existing(path: Path) -> Path:
    for candidate in [path, *path.parents]:
        if candidate.exists():
            return candidate
    return Path(os.sep)


def _check_writable(folder: Path, shown: Path, what: str, flag: str) -> None:
    """Creates and removes a probe folder in `folder` (permission bits lie for root and on
    read-only or special file systems; trying is the one honest test)."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".tfgraphtune-probe-", dir=folder))
    except OSError as err:
        raise UserError(
            f"cannot write {what} {str(shown)!r}: {err.strerror or err} in {str(folder)!r}; "
            f"choose a writable {flag}."
        ) from None


def check_output_folder(path: str | os.PathLike, *, what: str, flag: str = "--out") -> Path:
    """Fails unless `path` is, or can become, a folder this process can write into.

    Args:
      path: The output folder (it may exist).
      what: What it is, for the message (``"tuning folder"``).
      flag: The option that named it, for the message.

    Returns:
      The path.

    Raises:
      UserError: `path` is a file, lies under a file, or cannot be written.
    """
    path = Path(path)
    for parent in [path, *path.parents]:
        if parent.exists() and not parent.is_dir():
            where = "is a file" if parent == path else f"lies under the file {str(parent)!r}"
            raise UserError(f"{what} {str(path)!r} {where}; choose another {flag}.")
    _check_writable(_nearest_existing(path), path, what, flag)
    return path


def check_output_file(path: str | os.PathLike, *, what: str) -> Path:
    """Fails unless the file `path` can be written (its folder must exist).

    Raises:
      UserError: A folder is in the way, or the folder cannot be written.
    """
    path = Path(path)
    if path.is_dir():
        raise UserError(
            f"cannot write {what} {str(path)!r}: a folder of that name is in the way; move "
            "or delete it."
        )
    _check_writable(path.parent, path, what, "folder")
    return path
