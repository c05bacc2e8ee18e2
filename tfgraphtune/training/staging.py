"""Output folders written atomically: into a hidden sibling, renamed into place when done.

A process killed mid-write leaves only the hidden ``.NAME.tmp-PID-*`` sibling, never a
folder that mixes an old and a new result; an existing result is replaced only when asked
to, and only at the moment the new one is complete.

Every writer of ``NAME`` holds ``.NAME.lock`` (an ``fcntl`` lock, released by the kernel
when the process dies, even by SIGKILL) from before any work until the folder is renamed
into place, so a second process writing the same folder fails at once with a message
naming the first one's pid instead of silently losing one of the two runs. Staging
folders left by dead processes are removed by the next writer.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import uuid
from pathlib import Path

from tfgraphtune.data.errors import ValidationError


class OutputFolderError(ValidationError):
    """An output folder cannot be written (a file is in the way, it exists, no permission)."""


class FolderLockedError(OutputFolderError):
    """Another live process is writing the same output folder."""


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


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # Exists, owned by another user.
    return True


def _pid_of(name: str, marker: str) -> int | None:
    """The pid in ``...{marker}PID-...`` names, else None."""
    _, found, rest = name.partition(marker)
    digits = rest.split("-", 1)[0]
    return int(digits) if found and digits.isdigit() else None


def remove_stale(out: Path) -> list[Path]:
    """Cleans what dead writers of `out` left: staging folders, and old folders moved aside.

    An old folder (``.NAME.old-PID-*``) is put back when `out` is missing: its writer died
    between moving it aside and renaming the new folder in, so it is still the last
    complete result.

    Returns:
      The paths removed or put back.
    """
    prefix = f".{out.name}"
    cleaned = []
    try:
        entries = sorted(out.parent.iterdir())
    except OSError:
        return cleaned
    for entry in entries:
        rest = entry.name[len(prefix) :] if entry.name.startswith(prefix) else ""
        marker = next((m for m in (".tmp-", ".old-") if rest.startswith(m)), None)
        pid = _pid_of(rest, marker) if marker else None
        if pid is None or pid == os.getpid() or pid_alive(pid):
            continue
        if marker == ".old-" and not out.exists():
            os.rename(entry, out)
        else:
            shutil.rmtree(entry, ignore_errors=True)
        cleaned.append(entry)
    return cleaned


def remove_dead_temp(folder: Path, prefix: str = ".tmp-") -> list[Path]:
    """Removes ``{prefix}PID-*`` entries of `folder` whose process is dead."""
    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if entry.name.startswith(prefix):
            pid = _pid_of(entry.name, prefix)
            if pid is not None and pid != os.getpid() and not pid_alive(pid):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
    return removed


def folder_mode() -> int:
    """The mode a plain ``mkdir`` gives a folder (0755 under the usual umask 022)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


class FolderLock:
    """An exclusive, non-blocking lock on ``.NAME.lock`` next to the folder ``NAME``.

    Args:
      out: The folder the lock guards.
      what: What the folder is, for messages.

    Raises:
      FolderLockedError: Another process holds it (the message names its pid).
    """

    def __init__(self, out: Path, *, what: str):
        self.path = out.parent / f".{out.name}.lock"
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 64).decode(errors="replace").strip() or "another process"
                os.close(fd)
                raise FolderLockedError(
                    f"{what} {str(out)!r} is being written by process {holder} (lock "
                    f"{str(self.path)!r}); wait for it to finish or choose another --out."
                ) from None
            # The holder before us may have removed the file on release: lock what is there.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        """Removes the lock file and releases the lock (idempotent)."""
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        os.close(self._fd)
        self._fd = None


def write_file_atomic(path: str | Path, data: str | bytes) -> Path:
    """Writes a file by renaming a fresh sibling over it.

    A symlink (or anything else) at `path` is replaced, never written through, and a
    reader never sees half a file.

    Returns:
      The path written.
    """
    path = Path(path)
    payload = data.encode() if isinstance(data, str) else data
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(payload)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


class StagedFolder:
    """A folder written in a hidden staging sibling and renamed to `out` by `commit`.

    Created before any work starts, so an output path that cannot be written, or that
    another process is writing, fails first.

    Args:
      out: The folder to write.
      overwrite: Whether an existing folder may be replaced (only at `commit`).
      what: What the folder is, for messages.
      marker: A file that marks a finished folder of this kind.

    Attributes:
      path: The staging folder to write into.

    Raises:
      OutputFolderError: See `check_output_folder`, or the parent is not writable.
      FolderLockedError: Another live process writes `out`.
    """

    def __init__(self, out, *, overwrite: bool = False, what: str = "output folder", marker=None):
        self.out = Path(out)
        self.overwrite = overwrite
        self.what = what
        self.marker = marker
        self.lock = None
        # Run after the rename, before the lock is released (e.g. removing a backup).
        self.on_commit: list = []
        check_output_folder(self.out, overwrite=overwrite, what=what, marker=marker)
        try:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            self.lock = FolderLock(self.out, what=what)
            remove_stale(self.out)
            suffix = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
            self.path = self.out.parent / f".{self.out.name}.tmp-{suffix}"
            self.path.mkdir()
        except OSError as err:
            self._release()
            raise OutputFolderError(
                f"cannot write {what} {str(self.out)!r}: {err.strerror or err}; choose a "
                "writable --out."
            ) from None
        try:  # Again: a dead writer's old folder may have been put back.
            check_output_folder(self.out, overwrite=overwrite, what=what, marker=marker)
        except OutputFolderError:
            self.discard()
            raise

    def commit(self) -> Path:
        """Renames the staging folder to `out` (an old folder goes only with overwrite)."""
        from tfgraphtune.training import test_hooks

        old = None
        try:
            if self.out.exists():
                check_output_folder(
                    self.out, overwrite=self.overwrite, what=self.what, marker=self.marker
                )
                old = self.out.parent / f".{self.out.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
                os.rename(self.out, old)
                test_hooks.kill_point("commit")
            os.rename(self.path, self.out)
            for action in self.on_commit:
                action()
        finally:
            self._release()
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.out

    def discard(self) -> None:
        """Removes the staging folder (on failure)."""
        shutil.rmtree(self.path, ignore_errors=True)
        self._release()

    def _release(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None


def is_exists_error(err: OSError) -> bool:
    """Whether a rename failed because the target exists (and is not empty)."""
    return err.errno in (errno.EEXIST, errno.ENOTEMPTY)
