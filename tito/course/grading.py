"""Grading a learner's submission against every test of the course, hidden ones included.

A submission is a workspace (``tinytorch/`` and ``.tito/progress.json``). Only its package is
used: it is copied into a fresh folder beside the course's own tests (never the learner's
copies, which a learner may have edited), and each module's tests run there in a subprocess
that writes pytest's JUnit XML. Each test case is worth one point when it passes; a skipped
one counts neither way::

    grades = grade_submission(Path("alice"), [1, 2])
    write_gradebook(Path("grades/alice"), grades)   # gradebook.csv and gradebook.json
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tito.course.edition import PACKAGE, SKIPPED
from tito.course.manifest import REPOSITORY, Manifest, Module, load_manifest
from tito.course.progress import PROGRESS_FILE, Progress, write_atomic
from tito.course.workspace import copy_tests, pytest_command, workspace_env, write_pytest_ini

TIMEOUT_S = 900
OUTCOMES = {"failure": "failed", "error": "error", "skipped": "skipped"}
CSV_FIELDS = ("module", "test", "outcome", "points", "possible")


@dataclass(frozen=True)
class CaseResult:
    """One test case: its id, ``passed``/``failed``/``error``/``skipped``, and its points."""

    test: str
    outcome: str
    points: int
    possible: int


@dataclass
class ModuleGrade:
    """A module's grade; ``status`` is ``graded``, ``not graded``, ``timed out`` or an error."""

    number: int
    title: str
    status: str
    tests: list[CaseResult] = field(default_factory=list)

    @property
    def points(self) -> int:
        """Points earned: the passed tests."""
        return sum(result.points for result in self.tests)

    @property
    def possible(self) -> int:
        """Points possible: the tests that ran (not skipped)."""
        return sum(result.possible for result in self.tests)

    def to_json(self) -> dict:
        """The module's grade as a JSON-ready dict."""
        return {**asdict(self), "points": self.points, "possible": self.possible}


def completed_modules(submission: Path) -> tuple[set[int], str | None]:
    """The modules the submission's progress marks complete, and a warning if unreadable.

    Read-only: unlike ``load_progress`` it never repairs the learner's file.
    """
    path = submission / PROGRESS_FILE
    try:
        return set(Progress.from_json(json.loads(path.read_text(encoding="utf-8"))).completed), None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        return set(), f"cannot read {path} ({error}); no module counts as completed"


def parse_junit(path: Path) -> list[CaseResult]:
    """The test cases of a pytest ``--junitxml`` report."""
    results = []
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        tags = [child.tag for child in case if child.tag in OUTCOMES]
        outcome = OUTCOMES[tags[0]] if tags else "passed"
        test = f"{case.get('classname', '')}::{case.get('name', '')}"
        passed, ran = outcome == "passed", outcome != "skipped"
        results.append(CaseResult(test, outcome, int(passed), int(ran)))
    return results


def prepare(submission: Path, target: Path, manifest: Manifest) -> None:
    """Lay out ``target``: the submission's package beside every test of the course."""
    shutil.copytree(submission / PACKAGE, target / PACKAGE, ignore=SKIPPED)
    copy_tests(target, manifest, REPOSITORY, hidden=True)
    write_pytest_ini(target)


def grade_module(root: Path, module: Module, manifest: Manifest) -> ModuleGrade:
    """Run ``module``'s tests in the prepared folder ``root`` and grade them."""
    grade = ModuleGrade(module.number, module.title, "graded")
    report = root / f"junit-{module.tag}.xml"
    command = pytest_command(root, [module], module.number, manifest)
    command += ["-q", f"--junitxml={report}"]
    try:
        subprocess.run(
            command,
            cwd=root,
            env=workspace_env(root),
            capture_output=True,
            timeout=TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        grade.status = "timed out"
        return grade
    try:
        grade.tests = parse_junit(report)
    except (OSError, ElementTree.ParseError) as error:
        grade.status = f"no test report ({error})"
    return grade


def gradable(manifest: Manifest) -> list[Module]:
    """The modules that have tests in the course."""
    return [module for module in manifest.modules if (REPOSITORY / module.tests_dir).is_dir()]


def grade_submission(
    submission: Path, selected: Iterable[int], manifest: Manifest | None = None
) -> list[ModuleGrade]:
    """Grade the ``selected`` modules of ``submission``; every other module scores zero."""
    manifest = manifest or load_manifest()
    chosen = set(selected)
    with tempfile.TemporaryDirectory(prefix="tito-grade-") as folder:
        root = Path(folder)
        prepare(submission, root, manifest)
        return [
            grade_module(root, module, manifest)
            if module.number in chosen
            else ModuleGrade(module.number, module.title, "not graded")
            for module in gradable(manifest)
        ]


def gradebook(submission: Path, grades: list[ModuleGrade]) -> dict:
    """The JSON gradebook: per module (per test), and the total."""
    return {
        "submission": str(submission),
        "modules": [grade.to_json() for grade in grades],
        "points": sum(grade.points for grade in grades),
        "possible": sum(grade.possible for grade in grades),
    }


def gradebook_csv(grades: list[ModuleGrade]) -> str:
    """One row per test, then one ``(module total)`` row per module and a ``(total)`` row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for grade in grades:
        for result in grade.tests:
            row = (result.test, result.outcome, result.points, result.possible)
            writer.writerow((grade.number, *row))
        writer.writerow(
            (grade.number, "(module total)", grade.status, grade.points, grade.possible)
        )
    total = (sum(g.points for g in grades), sum(g.possible for g in grades))
    writer.writerow(("", "(total)", "", *total))
    return buffer.getvalue()


def write_gradebook(out: Path, submission: Path, grades: list[ModuleGrade]) -> tuple[Path, Path]:
    """Write ``out/gradebook.csv`` and ``out/gradebook.json`` atomically; return both paths."""
    paths = (out / "gradebook.csv", out / "gradebook.json")
    write_atomic(paths[0], gradebook_csv(grades))
    write_atomic(paths[1], json.dumps(gradebook(submission, grades), indent=2) + "\n")
    return paths
