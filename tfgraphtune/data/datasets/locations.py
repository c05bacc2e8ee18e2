"""Where data set files come from: a local folder, or a checksummed download into a cache."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path

from tfgraphtune.data.errors import ValidationError

DATA_DIR_ENV = "TFGRAPHTUNE_DATA_DIR"
CACHE_DIR_ENV = "TFGRAPHTUNE_CACHE_DIR"


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path | None:
    """Returns the local data folder: `data_dir`, else ``$TFGRAPHTUNE_DATA_DIR``, else None.

    None means "use the download cache" (see `cache_dir`).

    Raises:
      ValidationError: The folder named does not exist.
    """
    chosen = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV) or None
    if chosen is None:
        return None
    path = Path(chosen).expanduser().resolve()
    if not path.is_dir():
        origin = "--data-dir" if data_dir is not None else f"${DATA_DIR_ENV}"
        raise ValidationError(
            f"data folder {str(chosen)!r} (from {origin}) does not exist; point it at the folder "
            "that holds planetoid/ and tu/, or unset it to download into the cache."
        )
    return path


def cache_dir() -> Path:
    """The download cache: ``$TFGRAPHTUNE_CACHE_DIR``, else ``~/.cache/tfgraphtune``."""
    return Path(os.environ.get(CACHE_DIR_ENV, Path.home() / ".cache" / "tfgraphtune"))


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, target: Path, sha256: str | None) -> Path:
    """Downloads `url` to `target` atomically and checks its SHA-256 when one is known.

    Args:
      url: The public address of the file.
      target: Where the file ends up; its folder is created.
      sha256: The expected hex digest, or None for files without a pinned checksum (the
        digest is then written beside the file, so later reads detect a changed file).

    Returns:
      `target`.

    Raises:
      ValidationError: The download failed or its checksum does not match.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
        try:
            with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (https only)
                shutil.copyfileobj(response, tmp)
        except OSError as err:
            Path(tmp.name).unlink(missing_ok=True)
            raise ValidationError(
                f"could not download {url}: {err}; download it by hand into {target.parent} "
                f"and pass that folder's parent with --data-dir / ${DATA_DIR_ENV}."
            ) from None
    actual = sha256_of(Path(tmp.name))
    if sha256 is not None and actual != sha256:
        Path(tmp.name).unlink(missing_ok=True)
        raise ValidationError(
            f"checksum mismatch for {url}: expected sha256 {sha256}, got {actual}; the file "
            "was not kept. Retry, or report the changed upstream file."
        )
    os.replace(tmp.name, target)
    if sha256 is None:
        target.with_name(target.name + ".sha256").write_text(actual + "\n")
    return target


def verify_recorded_checksum(path: Path) -> None:
    """Checks a downloaded file against the digest recorded at its first download, if any.

    Raises:
      ValidationError: The file changed since it was downloaded.
    """
    record = path.with_name(path.name + ".sha256")
    if record.exists() and sha256_of(path) != record.read_text().strip():
        raise ValidationError(
            f"{path} changed since it was downloaded; delete it to download again."
        )
