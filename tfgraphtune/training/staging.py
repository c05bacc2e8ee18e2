"""Output folders written atomically: into a hidden sibling, renamed into place when done.

A process killed mid-write leaves only the hidden ``.NAME.tmp-*`` sibling, never a folder
that mixes an old and a new result; an existing result is replaced only when asked to,
and only at the moment the new one is complete.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from tfgraphtune.data.errors import ValidationError


class OutputFolderError(ValidationError):
    """An output folder cannot be written (a file is in the way, it exists, no permission)."""


def check_output_folder(path: Path, *, overwrite: bool, what: str, marker: str | None = None):
    """Fails early when `path` cannot become a new output folder.

    Args:
      path: The folder to write.
      overwrite: Whether an existing non-empty folder may be replaced.
      what: What the folder is, for messages (``"run folder"``).
      marker: A file that marks a finished result of this kind, for the message.

    Raises:
      OutputFolderError: A file (or a path under a file), or an existing non-empty folder
        without `overwrite`.
    """
    for parent in [path, *path.parents]:
        if parent.exists() and not parent.is_dir():
            where = "is a file" if parent == path else f"lies under the file {str(parent)!r}"
            raise OutputFolderError(f"{what} {str(path)!r} {where}; choose another --out.")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        finished = marker is not None and (path / marker).exists()
        kind = f"a finished {what}" if finished else "a non-empty folder"
        raise OutputFolderError(
            f"{what} {str(path)!r} is {kind}; choose another --out, or pass --overwrite to "
            "replace it when the new one is complete."
        )


class StagedFolder:
    """A folder written in a hidden staging sibling and renamed to `out` by `commit`.

    Created before any work starts, so an output path that cannot be written fails first.

    Args:
      out: The folder to write.
      overwrite: Whether an existing folder may be replaced (only at `commit`).
      what: What the folder is, for messages.
      marker: A file that marks a finished folder of this kind.

    Attributes:
      path: The staging folder to write into.

    Raises:
      OutputFolderError: See `check_output_folder`, or the parent is not writable.
    """

    def __init__(self, out, *, overwrite: bool = False, what: str = "output folder", marker=None):
        self.out = Path(out)
        self.overwrite = overwrite
        self.what = what
        self.marker = marker
        check_output_folder(self.out, overwrite=overwrite, what=what, marker=marker)
        try:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            suffix = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
            self.path = self.out.parent / f".{self.out.name}.tmp-{suffix}"
            self.path.mkdir()
        except OSError as err:
            raise OutputFolderError(
                f"cannot write {what} {str(self.out)!r}: {err.strerror or err}; choose a "
                "writable --out."
            ) from None

    def commit(self) -> Path:
        """Renames the staging folder to `out` (an old folder goes only with overwrite)."""
        old = None
        if self.out.exists():
            check_output_folder(
                self.out, overwrite=self.overwrite, what=self.what, marker=self.marker
            )
            old = self.out.parent / f".{self.out.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            os.rename(self.out, old)
        os.rename(self.path, self.out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.out

    def discard(self) -> None:
        """Removes the staging folder (on failure)."""
        shutil.rmtree(self.path, ignore_errors=True)
