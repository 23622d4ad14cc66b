"""``tito module start``'s notebook, ``tito milestones``, ``tito release`` and ``tito grade``."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.helpers import tito
from tito.course.edition import build_edition
from tito.course.manifest import REPOSITORY, load_manifest
from tito.course.progress import Progress, save_progress
from tito.course.regions import package_regions
from tito.course.workspace import HIDDEN, create_workspace

pytestmark = pytest.mark.cli

MANIFEST = load_manifest()
NOTEBOOK = Path("modules/01_tensor/lesson.ipynb")


def _complete(root: Path, numbers: range) -> None:
    """Mark ``numbers`` complete in the workspace's progress (what ``module complete`` does)."""
    save_progress(root, Progress(completed={number: "2025-01-01" for number in numbers}))


def test_init_copies_the_lessons_and_milestones(workspace: Path) -> None:
    assert (workspace / "modules" / "01_tensor" / "lesson.py").is_file()
    assert (workspace / "milestones" / "01_1958_perceptron").is_dir()
    assert not list((workspace / "tests").rglob(HIDDEN))


def test_start_builds_the_notebook_once_and_keeps_the_learners(workspace: Path) -> None:
    first = tito("module", "start", "01", cwd=workspace)
    assert first.returncode == 0, first.stderr
    assert str(NOTEBOOK) in first.stdout and "(new)" in first.stdout
    notebook = workspace / NOTEBOOK
    assert json.loads(notebook.read_text(encoding="utf-8"))["nbformat"] == 4
    notebook.write_text('{"my": "notes"}', encoding="utf-8")
    again = tito("module", "start", "01", cwd=workspace)
    assert "(yours, unchanged)" in again.stdout
    assert notebook.read_text(encoding="utf-8") == '{"my": "notes"}'


def test_package_milestones_need_the_manifests_modules() -> None:
    from tinytorch.milestones import list_milestones

    for milestone in list_milestones():
        assert milestone.modules == MANIFEST.milestone(milestone.number).modules
    code = "import sys, tinytorch.milestones; print('tito' in sys.modules)"
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert imported.stdout.strip() == "False", "importing tinytorch must not import tito"


def test_milestones_are_locked_until_their_modules_are_complete(workspace: Path) -> None:
    status = json.loads(tito("milestones", "status", "--json", cwd=workspace).stdout)
    first = status["milestones"][0]
    assert not first["unlocked"] and first["missing_modules"] == [1, 2, 3, 4]
    refused = tito("milestones", "run", "01", "--fast", cwd=workspace)
    assert refused.returncode == 1 and "01, 02, 03, 04" in refused.stderr
    assert "tito module start 01" in refused.stderr
    assert tito("milestones", "run", "99", cwd=workspace).returncode == 2
    listing = tito("milestones", "list", cwd=workspace.parent)
    assert listing.returncode == 0 and ": locked" not in listing.stdout


def test_a_milestone_runs_on_the_workspaces_package(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    create_workspace(root, filled=range(1, 5), manifest=MANIFEST)
    _complete(root, range(1, 5))
    result = tito("milestones", "run", "01", "--fast", "--data-dir", str(tmp_path), cwd=root)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert json.loads((root / ".tinytorch/results/01_1958_perceptron.json").read_text())["passed"]
    status = json.loads(tito("milestones", "status", "--json", cwd=root).stdout)
    assert status["milestones"][0]["passed"] is True


def _secret_lines() -> set[str]:
    """Region body lines (over 30 characters) of the reference that appear nowhere else in it."""
    secret, public = set(), set()
    regions = package_regions(REPOSITORY)
    for file in (REPOSITORY / "tinytorch").rglob("*.py"):
        fenced = regions.get(file.relative_to(REPOSITORY).as_posix(), [])
        inside = {n for r in fenced for n in range(r.begin, r.end - 1)}  # 0-based body lines
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines()):
            (secret if number in inside else public).add(line.strip())
    return {line for line in secret - public if len(line) > 30}


def test_release_has_no_solution_and_no_hidden_test(tmp_path: Path) -> None:
    out = tmp_path / "release"
    result = tito("release", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ("README.md", "pyproject.toml", "tinytorch", "tito", "modules", "tests"):
        assert (out / name).exists(), name
    assert (out / "modules" / "01_tensor" / "lesson.py").is_file()
    assert not list(out.rglob(HIDDEN))
    secret = _secret_lines()
    assert len(secret) > 100
    for file in (path for path in out.rglob("*") if path.is_file()):
        text = file.read_text(encoding="utf-8", errors="replace")
        leaked = [line for line in secret if line in text]
        assert not leaked, f"{file} holds solution lines: {leaked[:3]}"
    refused = tito("release", str(out), cwd=tmp_path)
    assert refused.returncode == 1 and "--force" in refused.stderr
    forced = tito("release", str(out), "--force", cwd=tmp_path)
    assert forced.returncode == 0 and list(tmp_path.glob("release.backup-*/README.md"))


def _gradebook(out: Path) -> tuple[dict, list[dict]]:
    """The JSON gradebook and the CSV rows written to ``out``."""
    record = json.loads((out / "gradebook.json").read_text(encoding="utf-8"))
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    return record, rows


def test_grade_gives_full_points_to_a_filled_module_and_zero_to_stubs(
    workspace: Path, tmp_path: Path
) -> None:
    build_edition(tmp_path / "filled", filled=[1])
    shutil.copytree(tmp_path / "filled" / "tinytorch", workspace / "tinytorch", dirs_exist_ok=True)
    _complete(workspace, range(1, 2))
    out = tmp_path / "grades"
    result = tito("grade", str(workspace), "--module", "01", "--module", "02", "--out", str(out),
                  "--json", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    record, rows = _gradebook(out)
    assert json.loads(result.stdout) == record
    one, two = record["modules"][0], record["modules"][1]
    assert one["status"] == "graded" and one["points"] == one["possible"] > 0
    assert any("hidden" in test["test"] for test in one["tests"])
    # Stubs fail module 02's tests, but for the few that check argument validation, which
    # sits outside the exercise regions and so is already in the student edition.
    assert two["possible"] > 0 and two["points"] <= two["possible"] // 10
    assert record["points"] == one["points"] + two["points"]
    assert rows[-1]["test"] == "(total)" and int(rows[-1]["points"]) == record["points"]
    assert len([row for row in rows if row["module"] == "1"]) == len(one["tests"]) + 1


def test_grade_of_an_empty_workspace_is_zero_everywhere(workspace: Path, tmp_path: Path) -> None:
    out = tmp_path / "grades"
    result = tito("grade", str(workspace), "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    record, rows = _gradebook(out)
    assert record["points"] == 0 and all(m["points"] == 0 for m in record["modules"])
    assert {m["status"] for m in record["modules"]} == {"not graded"}
    assert all(int(row["points"]) == 0 for row in rows)
    assert tito("grade", str(tmp_path / "nothing"), cwd=tmp_path).returncode == 2


def test_the_tour_runs_only_the_unlocked_milestones_of_a_workspace(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    create_workspace(root, filled=range(1, 5), manifest=MANIFEST)
    _complete(root, range(1, 5))
    result = tito("milestones", "tour", "--fast", cwd=root)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert "Tour: milestone 01_1958_perceptron" in result.stdout
    assert "Tour: milestone 02_1969_xor" not in result.stdout
    assert "locked: complete module(s) 05, 06" in result.stdout
    assert json.loads((root / ".tinytorch/results/01_1958_perceptron.json").read_text())["passed"]
