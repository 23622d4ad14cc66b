"""Where datasets live on disk, and how they get there: a safe, resumable download.

Data directory: the ``root`` a reader is given, else the environment variable
``TINYTORCH_DATA``, else ``~/.tinytorch/data``. Each dataset keeps its files in a folder of
its own under it (``mnist/``, ``fashion-mnist/``, ``cifar-10/``).

A download goes to ``<name>.part`` first. If it stops, the next try asks the server for the
rest only (an HTTP ``Range`` request). The finished file is checked against its published
checksum and only then renamed to its final name, so a file under the final name is always
complete::

    >>> download_file(["https://example.org/data/"], "train.gz", Path("mnist"), "md5:...")
"""

from __future__ import annotations

import hashlib
import math
import os
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from tinytorch.training import ProgressBar

CHUNK_BYTES = 1 << 16  # bytes read per step; one step of the progress bar


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are not on disk and could not be downloaded."""


class ChecksumError(ValueError):
    """A downloaded file does not match its published checksum."""


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data directory: ``root``, else ``$TINYTORCH_DATA``, else ``~/.tinytorch/data``."""
    if root is not None:
        return Path(root).expanduser()
    from_environment = os.environ.get("TINYTORCH_DATA")
    if from_environment:
        return Path(from_environment).expanduser()
    return Path.home() / ".tinytorch" / "data"


def file_checksum(path: Path, algorithm: str) -> str:
    """The hex digest of the file at ``path`` (``algorithm`` is ``"md5"`` or ``"sha256"``)."""
    digest = hashlib.new(algorithm)
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_checksum(path: Path, expected: str) -> None:
    """Raise ``ChecksumError`` unless ``path`` matches ``expected``, e.g. ``"sha256:3f7a..."``."""
    algorithm, _, hex_digest = expected.partition(":")
    actual = file_checksum(path, algorithm)
    if actual != hex_digest.lower():
        raise ChecksumError(
            f"{path.name}: {algorithm} checksum is {actual}, expected {hex_digest}. "
            "The download is corrupt or the mirror serves another file; it was deleted."
        )


def download_file(
    mirrors: Sequence[str], filename: str, folder: Path, checksum: str, progress: bool = True
) -> Path:
    """Download ``filename`` from the first mirror that answers into ``folder``; return its path.

    Args:
        mirrors: base URLs, each ending with ``/``; ``mirror + filename`` is the file.
        filename: the file's name on the mirror and on disk.
        folder: where it goes (created if missing).
        checksum: ``"md5:<hex>"`` or ``"sha256:<hex>"``, checked before the file is kept.
        progress: draw a progress bar on stderr.

    Raises:
        DatasetNotFoundError: no mirror could be reached; says where to put the file by hand.
        ChecksumError: the file arrived but is not the published one (nothing is kept).
    """
    destination = folder / filename
    if destination.exists():
        return destination
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"{filename}.part"
    failures = []
    for mirror in mirrors:
        try:
            _fetch(mirror + filename, partial, progress)
        except (urllib.error.URLError, OSError) as error:
            failures.append(f"  {mirror + filename}: {error}")
            continue
        try:
            verify_checksum(partial, checksum)
        except ChecksumError:
            partial.unlink()
            raise
        os.replace(partial, destination)
        return destination
    raise DatasetNotFoundError(
        f"Could not download {filename} (offline?).\n" + "\n".join(failures) + "\n"
        f"Download it by hand and put it at {destination}, or pass root=... (or set "
        "TINYTORCH_DATA) to a directory that already holds it."
    )


def _fetch(url: str, partial: Path, progress: bool) -> None:
    """Append the bytes of ``url`` not yet in ``partial`` to it (an HTTP Range request)."""
    offset = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        response = urllib.request.urlopen(request, timeout=30)
    except urllib.error.HTTPError as error:
        if error.code == 416:  # nothing left to send: the .part file is already complete
            return
        raise
    with response:
        if response.status != 206:  # the server ignored the range: start from the beginning
            offset = 0
        remaining = int(response.headers.get("Content-Length", 0))
        _copy(response, partial, offset, offset + remaining, progress)


def _copy(response, partial: Path, offset: int, total: int, progress: bool) -> None:
    """Write ``response`` to ``partial`` from byte ``offset`` with a progress bar."""
    bar = ProgressBar(math.ceil(total / CHUNK_BYTES) or None, partial.stem, enabled=progress)
    bar.done = offset // CHUNK_BYTES
    written = offset
    with partial.open("ab" if offset else "wb") as file:
        for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
            file.write(chunk)
            written += len(chunk)
            bar.update(f"{written / 1e6:.1f}/{total / 1e6:.1f} MB")
    bar.close(f"{written / 1e6:.1f} MB")
