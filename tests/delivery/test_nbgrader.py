"""The NBGrader round trip with the real ``nbgrader`` package.

``tito nbgrader generate`` writes modules 01 and 02; ``nbgrader generate_assignment`` makes
the student version; alice submits module 01 with every solution cell filled in and module 02
as released (stubs); bob's module 02 folder has no notebook. After ``tito nbgrader
autograde`` the gradebook gives alice full points for 01 and zero for 02, and bob zero for 02,
reported as a missing notebook instead of stopping the run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tito.course.manifest import REPOSITORY, load_manifest

pytestmark = [pytest.mark.cli, pytest.mark.nbgrader]

MODULES = ("01_tensor", "02_activations")


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``python -m ARGS`` with this Python, its scripts (alembic) on the PATH."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = dict(os.environ, PATH=path, PYTHONPATH=str(REPOSITORY))
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, check=False)  # fmt: skip


def _notebook(course: Path, folder: str, name: str) -> dict:
    """The notebook of assignment ``name`` in ``course/folder`` (source or release)."""
    return json.loads((course / folder / name / f"{name}.ipynb").read_text(encoding="utf-8"))


def _solutions(notebook: dict) -> dict[str, list[str]]:
    """The source of every solution cell, by NBGrader grade id."""
    return {
        cell["metadata"]["nbgrader"]["grade_id"]: cell["source"]
        for cell in notebook["cells"]
        if cell["metadata"].get("nbgrader", {}).get("solution")
    }


def _submit(course: Path, student: str, name: str, notebook: dict | None) -> None:
    folder = course / "submitted" / student / name
    folder.mkdir(parents=True)
    if notebook is None:
        (folder / "notes.txt").write_text("the notebook was never uploaded", encoding="utf-8")
    else:
        (folder / f"{name}.ipynb").write_text(json.dumps(notebook), encoding="utf-8")


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course after generate, generate_assignment, three submissions and autograde."""
    pytest.importorskip(
        "nbgrader", reason="nbgrader is not installed: python -m pip install -e '.[nbgrader]'"
    )
    course = tmp_path_factory.mktemp("nbgrader") / "course"
    made = _run("tito.main", "nbgrader", "generate", str(course), "--modules", "1-2",
                cwd=REPOSITORY)  # fmt: skip
    assert made.returncode == 0, made.stderr
    released = _run("nbgrader", "generate_assignment", "*", "--force", cwd=course)
    assert released.returncode == 0, released.stderr[-3000:]
    filled, stubbed = (_notebook(course, "release", name) for name in MODULES)
    answers = _solutions(_notebook(course, "source", "01_tensor"))
    for cell in filled["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    _submit(course, "alice", "01_tensor", filled)
    _submit(course, "alice", "02_activations", stubbed)
    _submit(course, "bob", "02_activations", None)
    graded = _run("tito.main", "nbgrader", "autograde", str(course), "--modules", "1-2", cwd=course)
    assert graded.returncode == 0, graded.stdout[-3000:] + graded.stderr[-3000:]
    assert "bob 02_activations: notebook missing, graded zero" in graded.stdout
    return course


def test_the_release_replaces_every_solution_with_a_stub(course: Path) -> None:
    for name in MODULES:
        answers = _solutions(_notebook(course, "source", name))
        stubs = _solutions(_notebook(course, "release", name))
        assert answers.keys() == stubs.keys() and len(answers) >= 2
        for grade_id, lines in stubs.items():
            text = "".join(lines)
            assert "raise NotImplementedError()" in text and text != "".join(answers[grade_id])
        released_package = course / "release" / name / "tinytorch"
        assert "NotImplementedError" in (released_package / "ops/activation.py").read_text()


def test_the_gradebook_has_full_points_for_a_solved_module_and_zero_otherwise(
    course: Path,
) -> None:
    result = _run("tito.main", "nbgrader", "grades", str(course), "--json", cwd=course)
    assert result.returncode == 0, result.stderr
    grades = {(g["student"], g["module"]): g for g in json.loads(result.stdout)}
    points = load_manifest().module(1).points
    solved = grades["alice", "01_tensor"]
    assert solved["score"] == solved["possible"] == points and solved["status"] == "graded"
    assert grades["alice", "02_activations"]["score"] == 0
    assert grades["alice", "02_activations"]["status"] == "graded"
    missing = grades["bob", "02_activations"]
    assert missing["score"] == 0 and missing["status"] == "notebook missing"
    assert grades["bob", "01_tensor"]["status"] == "no submission"
