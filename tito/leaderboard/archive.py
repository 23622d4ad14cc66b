"""Uploaded archives: check them before anything is stored, and store them atomically.

An upload is the ``.tar.gz`` that ``pack_submission`` makes. ``read_archive`` opens it in memory
and accepts only plain files and folders with relative paths that stay inside the submission
(no ``..``, no absolute paths, no links, devices or pipes), within a file-count and size budget.
It reads member headers before their data, so an archive that claims more bytes than allowed is
refused before it is unpacked.

``write_atomically`` makes a file appear complete or not at all: write to a temporary name in
the same folder, flush, ``fsync``, rename over the final name, ``fsync`` the folder. A crash
at any point leaves either nothing or a temporary file (``.tmp-`` prefix) that no row refers to.
"""

from __future__ import annotations

import io
import os
import tarfile
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

TEMPORARY_PREFIX = ".tmp-"


class ArchiveError(Exception):
    """The upload is not an acceptable submission archive; the message says why."""


@dataclass(frozen=True)
class ArchiveLimits:
    """What one submission archive may hold once unpacked."""

    max_files: int = 64
    max_file_bytes: int = 64 * 2**20
    max_total_bytes: int = 128 * 2**20


def _checked_path(name: str) -> PurePosixPath:
    """The member's path if it is a safe relative path inside the submission folder."""
    path = PurePosixPath(name)
    if not name or name.startswith("/") or path.is_absolute() or "\\" in name:
        raise ArchiveError(f"archive member {name!r}: absolute paths are not allowed")
    if ".." in path.parts:
        raise ArchiveError(f"archive member {name!r}: '..' is not allowed in a path")
    if ":" in path.parts[0]:
        raise ArchiveError(f"archive member {name!r}: drive letters are not allowed")
    return path


def _member_kind(member: tarfile.TarInfo) -> str:
    if member.issym() or member.islnk():
        return "a link"
    if member.ischr() or member.isblk():
        return "a device"
    if member.isfifo():
        return "a pipe"
    return "not a plain file"


def read_archive(data: bytes, limits: ArchiveLimits = ArchiveLimits()) -> dict[str, bytes]:
    """The files of a submission archive, ``{relative path: content}``; raises ArchiveError."""
    try:
        archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:gz")
    except (tarfile.TarError, OSError, EOFError) as error:
        raise ArchiveError(
            f"not a .tar.gz archive ({error}): pack it with pack_submission"
        ) from None
    files: dict[str, bytes] = {}
    total = 0
    with archive:
        try:
            for member in archive:
                path = _checked_path(member.name)
                if member.isdir():
                    continue
                if not member.isfile():
                    raise ArchiveError(f"archive member {member.name!r} is {_member_kind(member)}")
                key = str(path)
                if key in files:
                    raise ArchiveError(f"archive member {key!r} appears twice")
                if len(files) + 1 > limits.max_files:
                    raise ArchiveError(f"the archive holds more than {limits.max_files} files")
                if member.size > limits.max_file_bytes:
                    raise ArchiveError(
                        f"archive member {key!r} is {member.size} bytes;"
                        f" the limit is {limits.max_file_bytes}"
                    )
                total += member.size
                if total > limits.max_total_bytes:
                    raise ArchiveError(
                        f"the archive unpacks to more than {limits.max_total_bytes} bytes"
                    )
                content = archive.extractfile(member)
                files[key] = content.read() if content is not None else b""
        except (tarfile.TarError, OSError, EOFError) as error:
            raise ArchiveError(f"the archive is damaged ({error})") from None
    if not files:
        raise ArchiveError("the archive is empty")
    return files


def unpack_files(files: dict[str, bytes], folder: Path) -> Path:
    """Write checked files (from ``read_archive``) under ``folder``; the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return folder


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_atomically(folder: Path, name: str, data: bytes) -> Path:
    """Write ``folder/name`` so that it is either complete and durable or absent."""
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f"{TEMPORARY_PREFIX}{uuid.uuid4().hex}-{name}"
    try:
        with open(temporary, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, folder / name)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_folder(folder)
    return folder / name


def remove_temporaries(folder: Path) -> int:
    """Delete what interrupted ``write_atomically`` calls left behind; how many files."""
    if not folder.is_dir():
        return 0
    leftovers = list(folder.glob(f"{TEMPORARY_PREFIX}*"))
    for path in leftovers:
        path.unlink(missing_ok=True)
    return len(leftovers)
