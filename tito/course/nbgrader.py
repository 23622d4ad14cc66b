"""An NBGrader course made from the exercise regions: one assignment per module.

``write_course(COURSE_DIR, modules)`` writes::

    COURSE_DIR/nbgrader_config.py
    COURSE_DIR/source/NN_slug/NN_slug.ipynb   the assignment notebook (solutions included)
    COURSE_DIR/source/NN_slug/tinytorch/      the student edition, modules before NN filled
    COURSE_DIR/source/NN_slug/tests/          the tests a learner sees, and pytest.ini

The notebook has one solution cell per exercise region of the module, holding the region's
reference code between NBGrader's solution delimiters: the same regions, and so the same
code, as the student edition (``tito.course.edition``). A cell starts with the cell magic
``%%exercise NN K``: running it writes the cell's code into exercise K of module NN in the
assignment's ``tinytorch/`` (``write_exercise``), so the learner's code lives in the package,
as in a workspace. The last cell is a locked, autograded test cell worth the module's
``points`` (manifest): it runs the module's tests (``tito module test``'s selection) on that
package and fails unless all of them pass.

``nbgrader generate_assignment NN_slug`` turns each solution into NBGrader's stub, and
``nbgrader autograde`` copies the source's ``tinytorch/`` over the submitted one (a learner's
files never count, only the notebook) and runs the notebook, which writes the learner's code
into the package and tests it. ``autograde`` below wraps it: a submission without its
notebook scores zero and is reported instead of stopping the run; ``grades`` reads the
gradebook. Both need the ``nbgrader`` extra; writing the course does not.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tito.course.edition import PACKAGE, build_edition
from tito.course.manifest import REPOSITORY, Manifest, Module
from tito.course.notebook import METADATA, NBFORMAT, NBFORMAT_MINOR, Cell, notebook_cell
from tito.course.progress import write_atomic
from tito.course.regions import BEGIN, END, Region, module_regions, parse_regions
from tito.course.scope import course_scope
from tito.course.workspace import copy_tests, pytest_command, workspace_env, write_pytest_ini

SOURCE = "source"
CONFIG = "nbgrader_config.py"
MAGIC = "exercise"
DELIMITERS = ("### BEGIN SOLUTION", "### END SOLUTION")  # NBGrader's, around a solution
INSTALL = 'pip install -e ".[nbgrader]"'
CONFIG_TEXT = """# The NBGrader configuration of the TinyTorch course (`tito nbgrader generate`).
c = get_config()  # noqa: F821 - NBGrader provides get_config
c.CourseDirectory.course_id = "tinytorch"
# The assignment's package is copied from the source over a submission's; keep its size limit
# well above the package's.
c.CourseDirectory.max_file_size = 100000
"""
INTRO = """# Module {tag}: {title} (NBGrader assignment)

Textbook chapter: *{chapter}* ({url}). The full lesson is `modules/{name}/lesson.py` of the
course.

Write each exercise in the cell under its description, in place of
`raise NotImplementedError()`. Running a cell writes its code into the package in this folder
(`tinytorch/`), at the place the description shows; the last cell runs the module's tests on
that package, and is worth {points} points once they all pass. Run the set-up cell first.
"""
SETUP = """# Set-up (locked): registers the %%exercise cell magic, which writes an exercise into
# this folder's tinytorch/.
from tito.course.nbgrader import load_exercise_magic

load_exercise_magic()"""
TESTS = """# The tests of module {tag} (locked): {points} points once all of them pass.
from tito.course.nbgrader import run_module_tests

run_module_tests({number})"""


class NbgraderMissingError(RuntimeError):
    """The ``nbgrader`` package is not installed in this Python."""


def _cell(kind: str, text: str, index: int, grading: dict[str, Any] | None = None) -> dict:
    """One nbformat cell; ``grading`` becomes its ``nbgrader`` metadata (schema 3)."""
    cell = notebook_cell(Cell(kind, text), index)
    if grading is not None:
        defaults = {"grade": False, "solution": False, "locked": False, "task": False}
        cell["metadata"]["nbgrader"] = {**defaults, **grading, "schema_version": 3}
    return cell


def _enclosing_function(source: str, line: int) -> tuple[int, int]:
    """First and last line (1-based) of the innermost function around ``line``."""
    spans = [
        (node.lineno, node.end_lineno or node.lineno)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.lineno <= line <= (node.end_lineno or node.lineno)
    ]
    return max(spans) if spans else (line, line)


def context(student_source: str, region: Region, number: int) -> str:
    """The student edition's function around ``region``, without region markers, with the
    exercise shown as ``...``: what the learner's code fills in."""
    lines = student_source.splitlines()
    first, last = _enclosing_function(student_source, region.begin)
    shown = []
    for index in range(first - 1, last):
        if index == region.begin:  # the stub line, just after the BEGIN marker
            shown.append(f"{region.indent}...  # exercise {number}: the cell below")
        elif not (BEGIN.match(lines[index]) or END.match(lines[index])):
            shown.append(lines[index])
    return "\n".join(textwrap.dedent("\n".join(shown)).splitlines())


def solution_body(reference: str, region: Region) -> str:
    """The reference code of ``region``, without its indentation."""
    lines = reference.splitlines()[region.begin : region.end - 1]
    return textwrap.dedent("\n".join(lines))


def exercise_cells(module: Module, student: Path, start: int) -> list[dict[str, Any]]:
    """A description and a solution cell for every exercise of ``module``."""
    cells: list[dict[str, Any]] = []
    regions = module_regions(REPOSITORY, module.number)
    stubbed = module_regions(student, module.number)  # the same regions, in the same order
    for number, (region, stub) in enumerate(zip(regions, stubbed), start=1):
        reference = (REPOSITORY / region.path).read_text(encoding="utf-8")
        student_source = (student / region.path).read_text(encoding="utf-8")
        text = (
            f"## Exercise {number}: `{region.symbol}` in `{region.path}`\n\n"
            f"```python\n{context(student_source, stub, number)}\n```"
        )
        cells.append(_cell("markdown", text, start + len(cells)))
        body = solution_body(reference, region)
        begin, end = DELIMITERS
        code = f"%%{MAGIC} {module.tag} {number}\n{begin}\n{body}\n{end}"
        grading = {"solution": True, "grade_id": f"exercise-{module.tag}-{number}"}
        cells.append(_cell("code", code, start + len(cells), grading))
    return cells


def assignment_notebook(module: Module, manifest: Manifest, student: Path) -> dict[str, Any]:
    """The source notebook of ``module``'s assignment (``student``: its student edition)."""
    intro = INTRO.format(
        tag=module.tag,
        title=module.title,
        chapter=module.chapter,
        url=manifest.textbook_url,
        name=module.name,
        points=module.points,
    )
    cells = [
        _cell("markdown", intro, 0),
        _cell("code", SETUP, 1, {"locked": True, "grade_id": "setup"}),
    ]
    cells += exercise_cells(module, student, len(cells))
    tests = TESTS.format(tag=module.tag, points=module.points, number=module.number)
    grading = {"grade": True, "locked": True, "points": module.points}
    cells.append(_cell("code", tests, len(cells), {**grading, "grade_id": f"tests-{module.tag}"}))
    return {
        "cells": cells,
        "metadata": METADATA,
        "nbformat": NBFORMAT,
        "nbformat_minor": NBFORMAT_MINOR,
    }


def write_assignment(course: Path, module: Module, manifest: Manifest) -> Path:
    """Write ``course/source/NN_slug/``: the package, the tests and the notebook."""
    folder = course / SOURCE / module.name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    build_edition(folder, course_scope((module.number,), manifest).filled, manifest=manifest)
    copy_tests(folder, manifest, up_to=module.number)
    write_pytest_ini(folder)
    notebook = assignment_notebook(module, manifest, folder)
    path = folder / f"{module.name}.ipynb"
    write_atomic(path, json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
    return path


def assignable(manifest: Manifest, numbers: tuple[int, ...]) -> list[Module]:
    """The modules of ``numbers`` that have exercises and tests (an assignment needs both)."""
    modules = [manifest.module(number) for number in numbers]
    return [
        module
        for module in modules
        if module_regions(REPOSITORY, module.number) and (REPOSITORY / module.tests_dir).is_dir()
    ]


def write_course(course: Path, manifest: Manifest, numbers: tuple[int, ...]) -> list[Path]:
    """Write the NBGrader course for the modules ``numbers``; the notebooks written."""
    course.mkdir(parents=True, exist_ok=True)
    write_atomic(course / CONFIG, CONFIG_TEXT)
    return [write_assignment(course, module, manifest) for module in assignable(manifest, numbers)]


# --- in the assignment's kernel -------------------------------------------------------------


def write_exercise(root: Path, module: int, number: int, code: str) -> Path:
    """Write ``code`` (unindented) as the body of exercise ``number`` of ``module`` in the
    package under ``root``; the file written. ``ValueError`` if there is no such exercise."""
    regions = module_regions(root, module)
    if not 1 <= number <= len(regions):
        raise ValueError(f"module {module:02d} has exercises 1-{len(regions)}, not {number}")
    region = regions[number - 1]
    path = root / region.path
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    body = [f"{region.indent}{line}".rstrip() + "\n" for line in code.strip("\n").splitlines()]
    lines[region.begin : region.end - 1] = body or [f"{region.indent}pass\n"]
    text = "".join(lines)
    parse_regions(text, region.path)  # the markers must still pair up
    write_atomic(path, text)
    return path


def exercise_magic(line: str, cell: str) -> None:
    """``%%exercise NN K``: write the cell into exercise K of module NN of ``./tinytorch``.

    NBGrader's solution delimiters (still in the instructor's notebook) are left out.
    """
    module, number = (int(word) for word in line.split())
    code = "\n".join(row for row in cell.splitlines() if row.strip() not in DELIMITERS)
    path = write_exercise(Path.cwd(), module, number, code)
    print(f"exercise {number} of module {module:02d} written to {path.relative_to(Path.cwd())}")


def load_exercise_magic() -> None:
    """Register ``%%exercise`` in the running IPython kernel."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        raise RuntimeError("the %%exercise magic needs Jupyter (an IPython kernel)")
    shell.register_magic_function(exercise_magic, magic_kind="cell", magic_name=MAGIC)
    if not (Path.cwd() / PACKAGE / "__init__.py").is_file():
        raise RuntimeError(f"no {PACKAGE}/ in {Path.cwd()}: open the notebook in its folder")


def run_module_tests(number: int, manifest: Manifest | None = None) -> None:
    """Run module ``number``'s tests on ``./tinytorch``; ``AssertionError`` unless all pass.

    pytest's report goes to standard output: NBGrader gives no points to a cell that writes
    to standard error.
    """
    from tito.course.manifest import load_manifest

    manifest = manifest or load_manifest()
    module, root = manifest.module(number), Path.cwd()
    command = pytest_command(root, [module], number, manifest) + [
        "-q",
        "--tb=line",
        "-rN",
        "--color=no",
    ]
    run = subprocess.run(
        command,
        cwd=root,
        env=workspace_env(root),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    print(run.stdout[-6000:])
    assert run.returncode == 0, f"{module.label}: tests fail (pytest exit code {run.returncode})"


# --- the instructor's side: autograde and the gradebook -------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One submission of one module: its score, out of ``possible``, and what happened."""

    student: str
    module: str
    score: float
    possible: float
    status: str


def _nbgrader_api(course: Path) -> Any:
    """An ``NbGraderAPI`` on ``course``; ``NbgraderMissingError`` without nbgrader."""
    try:
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory
    except ImportError as error:
        raise NbgraderMissingError(f"nbgrader is not installed: {INSTALL}") from error
    return NbGraderAPI(coursedir=CourseDirectory(root=str(course.resolve())))


def _database(course: Path) -> str:
    """The URL of the course's gradebook (NBGrader's default place)."""
    return f"sqlite:///{course.resolve() / 'gradebook.db'}"


def _record_missing(course: Path, assignment: str, student: str) -> None:
    """A submission without its notebook: record it in the gradebook with zero points."""
    from nbgrader.api import Gradebook

    with warnings.catch_warnings(), Gradebook(_database(course)) as gradebook:
        warnings.simplefilter("ignore")  # SQLAlchemy's notes on NBGrader's own session use
        gradebook.update_or_create_student(student)
        submission = gradebook.update_or_create_submission(assignment, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.auto_score = 0
                grade.needs_manual_grade = False
        gradebook.db.commit()


def autograde(course: Path, assignments: list[str]) -> list[str]:
    """Autograde every submission of ``assignments`` (``submitted/STUDENT/NN_slug/``); what
    went wrong, one line per submission (empty when all were graded)."""
    api, problems = _nbgrader_api(course), []
    for assignment in assignments:
        for folder in sorted((course / "submitted").glob(f"*/{assignment}")):
            student = folder.parent.name
            if not (folder / f"{assignment}.ipynb").is_file():
                _record_missing(course, assignment, student)
                problems.append(f"{student} {assignment}: notebook missing, graded zero")
                continue
            result = api.autograde(assignment, student)
            if not result["success"]:
                problems.append(f"{student} {assignment}: autograde failed: {result.get('error')}")
    return problems


def grades(course: Path) -> list[Outcome]:
    """Every (student, assignment) of the gradebook; ``no submission`` and ``notebook
    missing`` score zero."""
    _nbgrader_api(course)
    from nbgrader.api import Gradebook, MissingEntry

    outcomes = []
    with Gradebook(_database(course)) as gradebook:
        for assignment in sorted(gradebook.assignments, key=lambda a: a.name):
            for student in sorted(gradebook.students, key=lambda s: s.id):
                try:
                    submission = gradebook.find_submission(assignment.name, student.id)
                except MissingEntry:
                    status, score = "no submission", 0.0
                else:
                    graded = course / "autograded" / student.id / assignment.name
                    found = (graded / f"{assignment.name}.ipynb").is_file()
                    status = "graded" if found else "notebook missing"
                    score = float(submission.score)
                possible = float(assignment.max_score)
                outcomes.append(Outcome(student.id, assignment.name, score, possible, status))
    return outcomes
