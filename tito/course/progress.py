"""A learner's progress, ``.tito/progress.json`` in the workspace: versioned, written atomically.

A missing, corrupt or outdated file is never a crash: ``load_progress`` backs it up, starts a
fresh record and returns a warning that says so.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

VERSION = 1
STATE_DIR = ".tito"
PROGRESS_FILE = f"{STATE_DIR}/progress.json"
BACKUP_DIR = f"{STATE_DIR}/backups"


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
        """Parse the file's content; ``ValueError`` if it is not version ``VERSION``'s shape."""
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise ValueError(f"not a version {VERSION} progress record")
        return cls(
            started={int(key): str(time) for key, time in data["started"].items()},
            completed={int(key): str(time) for key, time in data["completed"].items()},
        )


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


def load_progress(root: Path) -> tuple[Progress, str | None]:
    """The workspace's progress and a warning, if the file had to be recovered.

    A missing file gives a fresh record; a corrupt or outdated one is moved to a backup
    folder, replaced by a fresh record, and reported in the warning.
    """
    path = root / PROGRESS_FILE
    if not path.exists():
        progress = Progress()
        save_progress(root, progress)
        return progress, f"no progress file; started a new one at {path}"
    try:
        return Progress.from_json(json.loads(path.read_text(encoding="utf-8"))), None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        backup = new_backup_dir(root) / path.name
        shutil.move(path, backup)
        progress = Progress()
        save_progress(root, progress)
        return progress, (
            f"progress file was unreadable ({error}); kept it as {backup} and started a new "
            "one: run `tito module complete NN` again for the modules you finished"
        )
