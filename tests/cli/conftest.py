"""The fixture of the CLI tests: a fresh workspace made by ``tito init``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import tito


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A new workspace at ``tmp_path/ws``: the student edition, nothing completed."""
    root = tmp_path / "ws"
    result = tito("init", str(root), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return root
