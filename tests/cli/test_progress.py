"""Progress and workspace: locked updates, a readable recovery, status, restore, availability."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.helpers import tito
from tito.course.manifest import REPOSITORY, load_manifest
from tito.course.progress import Progress, save_progress
from tito.course.workspace import create_workspace

pytestmark = pytest.mark.cli

MANIFEST = load_manifest()
PROGRESS = Path(".tito/progress.json")
BLOCKED = "raise ModuleNotFoundError(\"No module named 'torch'\", name='torch')\n"  # as if absent


def test_parallel_starts_keep_every_entry(workspace: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPOSITORY))
    numbers = ["01", "02", "03", "04", "05", "06"]
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "tito.main", "module", "start", number],
            cwd=workspace,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for number in numbers
    ]
    assert [run.wait() for run in runs] == [0] * len(numbers)
    started = json.loads((workspace / PROGRESS).read_text(encoding="utf-8"))["started"]
    assert sorted(started) == numbers


@pytest.mark.parametrize(
    "content",
    [
        '{"version": 1, "started": [], "completed": {}}',
        '{"version": 1, "started": {"one": "today"}, "completed": {}}',
        '{"version": 1, "started": {}}',
    ],
)
def test_a_progress_file_of_the_wrong_shape_is_explained(workspace: Path, content: str) -> None:
    (workspace / PROGRESS).write_text(content, encoding="utf-8")
    result = tito("module", "status", cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert "must map module numbers to times" in result.stderr
    for internal in ("Traceback", "object has no attribute", "invalid literal", "KeyError"):
        assert internal not in result.stderr
    assert "kept as" in result.stderr and "run `tito module complete NN` again" in result.stderr


def test_status_and_list_show_a_started_module(workspace: Path) -> None:
    assert tito("module", "start", "02", cwd=workspace).returncode == 0
    status = tito("module", "status", cwd=workspace)
    assert "started 02 Activations" in status.stdout
    listing = tito("module", "list", cwd=workspace).stdout
    assert "[~] 02 Activations" in listing and "[ ] 01 Tensor" in listing


def test_modules_without_exercises_and_tests_are_not_available(workspace: Path) -> None:
    absent = [m for m in MANIFEST.modules if not (REPOSITORY / m.tests_dir).is_dir() or not m.files]
    if not absent:
        pytest.skip("every module of the course is available")
    module = absent[0]
    for command in ("start", "test", "complete"):
        result = tito("module", command, module.tag, cwd=workspace)
        assert result.returncode == 1 and "not available yet" in result.stderr
    listing = tito("module", "list", cwd=workspace).stdout
    line = next(line for line in listing.splitlines() if f" {module.tag} {module.title}" in line)
    assert "(not available yet)" in line
    assert "(not available yet)" not in next(
        line for line in listing.splitlines() if " 01 Tensor" in line
    )


def test_restore_brings_the_reset_code_back(workspace: Path) -> None:
    path = workspace / "tinytorch" / "ops" / "activation.py"
    stubbed = path.read_text(encoding="utf-8")
    mine = stubbed.replace(
        'raise NotImplementedError("Module 02 (Activations): implement ReLU.forward',
        'return a  # my relu\n        raise NotImplementedError("',
        1,
    )
    assert mine != stubbed
    path.write_text(mine, encoding="utf-8")
    assert tito("module", "reset", "02", "--force", cwd=workspace).returncode == 0
    assert path.read_text(encoding="utf-8") == stubbed
    restored = tito("module", "restore", "02", cwd=workspace)
    assert restored.returncode == 0, restored.stderr
    assert path.read_text(encoding="utf-8") == mine
    kept = list((workspace / ".tito" / "backups").glob("*/tinytorch/ops/activation.py"))
    assert len(kept) == 2, "restoring backs up what it replaces"


def test_restore_without_a_backup_says_so(workspace: Path) -> None:
    result = tito("module", "restore", "03", cwd=workspace)
    assert result.returncode == 1 and "no backup" in result.stderr


def test_complete_names_the_unfinished_modules_before_it(workspace: Path) -> None:
    save_progress(workspace, Progress(completed={1: "2026-01-01"}))
    result = tito("module", "test", "04", "--exercise", "99", cwd=workspace)
    assert result.returncode == 2 and "has exercises 1-" in result.stderr
    from tito.commands.module import _unfinished_before
    from tito.course.scope import course_scope, full_scope

    progress = Progress(completed={1: "t", 3: "t"})
    assert _unfinished_before(full_scope(MANIFEST), progress, MANIFEST.module(5)) == ["02", "04"]
    optimization = course_scope((3, 4, 5), MANIFEST)  # 01-02 filled: not the learner's to finish
    assert _unfinished_before(optimization, progress, MANIFEST.module(5)) == ["04"]


def test_complete_refuses_when_tests_skip_for_want_of_pytorch(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    create_workspace(root, filled=range(1, 5), manifest=MANIFEST)
    blocker = tmp_path / "no-torch" / "torch"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text(BLOCKED)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(blocker.parent), str(REPOSITORY)]))
    command = [sys.executable, "-m", "tito.main", "module", "complete", "04"]
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    assert result.returncode == 1, result.stdout[-2000:]
    assert "tests skipped because PyTorch" in result.stderr
    assert "pip install -e '.[test,torch]'" in result.stderr
    assert "04" not in json.loads((root / PROGRESS).read_text(encoding="utf-8"))["completed"]
