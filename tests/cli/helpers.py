"""Running ``tito`` by subprocess, as a learner or an instructor would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tito.course.manifest import REPOSITORY


def tito(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``python -m tito.main ARGS`` in ``cwd``, with this repository's tito importable."""
    env = dict(os.environ, PYTHONPATH=str(REPOSITORY))
    command = [sys.executable, "-m", "tito.main", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
