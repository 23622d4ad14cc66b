"""``tito nbgrader generate`` without NBGrader installed: the course it writes, and
``%%exercise``'s writing into the package (the round trip is in test_nbgrader.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.helpers import tito
from tito.course.manifest import REPOSITORY, load_manifest
from tito.course.nbgrader import exercise_magic, write_exercise
from tito.course.regions import Region, module_regions

pytestmark = pytest.mark.cli

MODULE = load_manifest().module(2)


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    course = tmp_path_factory.mktemp("nbgrader") / "course"
    result = tito("nbgrader", "generate", str(course), "--modules", "2", cwd=course.parent)
    assert result.returncode == 0, result.stderr
    return course


def _body(root: Path, region: Region) -> list[str]:
    """The lines between the markers of ``region`` in the package under ``root``."""
    lines = (root / region.path).read_text(encoding="utf-8").splitlines()
    return lines[region.begin : region.end - 1]


def _notebook(course: Path) -> dict:
    path = course / "source" / MODULE.name / f"{MODULE.name}.ipynb"
    return json.loads(path.read_text(encoding="utf-8"))


def test_one_solution_cell_per_region_and_a_locked_test_cell(course: Path) -> None:
    cells = _notebook(course)["cells"]
    graded = [c["metadata"]["nbgrader"] for c in cells if "nbgrader" in c["metadata"]]
    solutions = [g for g in graded if g["solution"]]
    assert len(solutions) == len(module_regions(REPOSITORY, MODULE.number))
    tests = graded[-1]
    assert tests["grade"] and tests["locked"] and tests["points"] == MODULE.points
    for cell in cells:  # NBGrader refuses solution delimiters outside solution cells
        grading = cell["metadata"].get("nbgrader", {})
        assert grading.get("solution") or "BEGIN SOLUTION" not in "".join(cell["source"])
    package = course / "source" / MODULE.name / "tinytorch"
    assert "NotImplementedError" in (package / "ops" / "activation.py").read_text()
    assert "NotImplementedError" not in (package / "creation.py").read_text()  # 01 filled


def test_exercise_cells_write_the_reference_back_into_the_package(
    course: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = course / "source" / MODULE.name
    monkeypatch.chdir(folder)
    cells = [
        c for c in _notebook(course)["cells"] if c["metadata"].get("nbgrader", {}).get("solution")
    ]
    for cell in cells:
        line, body = "".join(cell["source"]).split("\n", 1)
        exercise_magic(line.removeprefix("%%exercise "), body)
    written = module_regions(folder, MODULE.number)
    reference = module_regions(REPOSITORY, MODULE.number)
    assert len(written) == len(reference)
    for mine, theirs in zip(written, reference):
        assert _body(folder, mine) == _body(REPOSITORY, theirs), theirs.location
    with pytest.raises(ValueError, match="has exercises 1-"):
        write_exercise(folder, MODULE.number, 99, "pass")


def test_generate_refuses_to_replace_assignments_without_force(course: Path) -> None:
    again = tito("nbgrader", "generate", str(course), "--modules", "2", cwd=course)
    assert again.returncode == 1 and "--force" in again.stderr
    forced = tito("nbgrader", "generate", str(course), "--modules", "2", "--force", cwd=course)
    assert forced.returncode == 0, forced.stderr
    assert list((course / "backups").glob(f"*/{MODULE.name}/{MODULE.name}.ipynb"))
    bad = tito("nbgrader", "generate", str(course), "--modules", "5-3", cwd=course)
    assert bad.returncode == 2 and "backwards" in bad.stderr
