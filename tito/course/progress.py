"""A learner's progress, ``.tito/progress.json`` in the workspace: versioned, written atomically.

A missing, corrupt or outdated file is never a crash: ``load_progress`` backs it up, starts a
fresh record and returns a warning that says so. Every read-modify-write holds an exclusive
lock on ``.tito/progress.lock`` (``fcntl.flock``; where the OS has no ``fcntl``, as on
Windows, commands run in parallel may still lose an update)::

    with edit_progress(root) as (progress, warning):
        progress.started.setdefault(3, now())
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

VERSION = 1
STATE_DIR = ".tito"
PROGRESS_FILE = f"{STATE_DIR}/progress.json"
BACKUP_DIR = f"{STATE_DIR}/backups"
LOCK_FILE = f"{STATE_DIR}/progress.lock"
EXAMPLE = '{"version": 1, "started": {"01": "2026-01-01T09:00:00+00:00"}, "completed": {}}'


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_backup_dir(root: Path) -> Path:
    """A fresh, empty ``.tito/backups/<timestamp>/`` folder."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    folder = root / BACKUP_DIR / stamp
    folder.mkdir(parents=True)
    return folder


@dataclass
class Progress:
    """When each module was started and completed (ISO times), by module number."""

    started: dict[int, str] = field(default_factory=dict)
    completed: dict[int, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The file's content: numbers become two-digit keys."""
        return {
            "version": VERSION,
            "started": {f"{number:02d}": time for number, time in sorted(self.started.items())},
            "completed": {f"{number:02d}": time for number, time in sorted(self.completed.items())},
        }

    @classmethod
    def from_json(cls, data: Any) -> Progress:
        """Parse the file's content; ``ValueError`` says what does not fit version ``VERSION``."""
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ValueError(f"it is not a version {VERSION} progress record")
        return cls(started=_times(data, "started"), completed=_times(data, "completed"))


def _times(data: dict[str, Any], key: str) -> dict[int, str]:
    """``data[key]``: two-digit module numbers mapped to times, as ``{3: "2026-..."}``."""
    entries = data.get(key)
    if not isinstance(entries, dict) or not all(
        isinstance(number, str) and number.isdigit() and isinstance(time, str)
        for number, time in entries.items()
    ):
        raise ValueError(f'"{key}" must map module numbers to times, as in {EXAMPLE}')
    return {int(number): time for number, time in entries.items()}


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old file or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save_progress(root: Path, progress: Progress) -> None:
    """Write the workspace's progress file atomically."""
    write_atomic(root / PROGRESS_FILE, json.dumps(progress.to_json(), indent=2) + "\n")


@contextmanager
def progress_lock(root: Path) -> Iterator[None]:
    """Hold the workspace's progress lock: one read-modify-write at a time."""
    path = root / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _read_or_recover(root: Path) -> tuple[Progress, str | None]:
    """``load_progress`` without the lock (its caller holds it)."""
    path = root / PROGRESS_FILE
    if not path.exists():
        progress = Progress()
        save_progress(root, progress)
        return progress, f"no progress file; started a new one at {path}"
    try:
        return Progress.from_json(json.loads(path.read_text(encoding="utf-8"))), None
    except (OSError, ValueError) as error:
        backup = new_backup_dir(root) / path.name
        shutil.move(path, backup)
        progress = Progress()
        save_progress(root, progress)
        return progress, (
            f"{path} was not a progress file tito can read: {error}. It is kept as {backup}; "
            "a new one was started. Either copy your entries from the kept file into the new "
            "one, or run `tito module complete NN` again for the modules you finished"
        )


def load_progress(root: Path) -> tuple[Progress, str | None]:
    """The workspace's progress and a warning, if the file had to be recovered.

    A missing file gives a fresh record; a corrupt or outdated one is moved to a backup
    folder, replaced by a fresh record, and reported in the warning.
    """
    with progress_lock(root):
        return _read_or_recover(root)


@contextmanager
def edit_progress(root: Path) -> Iterator[tuple[Progress, str | None]]:
    """Load the progress under the lock, let the caller change it, save it (unless it raised)."""
    with progress_lock(root):
        progress, warning = _read_or_recover(root)
        yield progress, warning
        save_progress(root, progress)
