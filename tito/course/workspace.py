"""A learner's workspace: the student edition, the tests a learner sees, and ``.tito/``.

Layout of a workspace made by ``create_workspace``::

    DIR/tinytorch/        the student edition, where the learner writes the exercises
    DIR/tests/            the module tests a learner sees (tests/NN_slug/) and their helpers
    DIR/modules/          the lesson sources (NN_slug/lesson.py); ``tito module start`` adds
                          the notebook lesson.ipynb beside each
    DIR/milestones/       the milestone scripts, run by ``tito milestones run``
    DIR/pytest.ini        the markers and options of the repository's pytest set-up
    DIR/.tito/            progress.json, backups/ and course.json (the modules it offers)

Hidden tests (``tests/NN_slug/hidden/``) stay with the instructor: they are copied only into
the folder where ``tito grade`` runs a submission.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

from tito.course.edition import PACKAGE, SKIPPED, build_edition
from tito.course.manifest import REPOSITORY, Manifest, Module, load_manifest, tomllib
from tito.course.progress import STATE_DIR, Progress, new_backup_dir, save_progress
from tito.course.scope import WORKSPACE_SCOPE, Scope, default_scope, save_scope

TEST_HELPERS = ("__init__.py", "conftest.py", "helpers.py")
HIDDEN = "hidden"
PYTEST_CONFIG = "pytest.ini"
LESSON = "lesson.py"
MILESTONES = "milestones"
CONTENT = (PACKAGE, "tests", "modules", MILESTONES, PYTEST_CONFIG)


def find_workspace(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` that holds a ``.tito`` folder."""
    for folder in (start.resolve(), *start.resolve().parents):
        if (folder / STATE_DIR).is_dir():
            return folder
    return None


def pytest_ini(source_root: Path = REPOSITORY) -> str:
    """A ``pytest.ini`` carrying the markers and options of the repository's pyproject."""
    with open(source_root / "pyproject.toml", "rb") as file:
        options = tomllib.load(file)["tool"]["pytest"]["ini_options"]
    markers = "".join(f"\n    {marker}" for marker in options.get("markers", []))
    return (
        "[pytest]\ntestpaths = tests\n"
        f"addopts = {options.get('addopts', '')}\npythonpath = .\nmarkers ={markers}\n"
    )


def copy_tests(
    target: Path,
    manifest: Manifest,
    source_root: Path = REPOSITORY,
    hidden: bool = False,
    up_to: int | None = None,
) -> None:
    """Copy the module tests that exist (tests/NN_slug/) and their helpers to ``target``.

    The hidden tests (``tests/NN_slug/hidden/``) are copied only if ``hidden``; only the
    folders of modules 1..``up_to`` if it is given (a test of module k lives in the folder of
    module k or an earlier one).
    """
    tests = target / "tests"
    tests.mkdir(parents=True)
    for name in TEST_HELPERS:
        if (source_root / "tests" / name).exists():
            shutil.copy2(source_root / "tests" / name, tests / name)
    ignore = SKIPPED if hidden else shutil.ignore_patterns("__pycache__", "*.pyc", HIDDEN)
    for module in manifest.modules:
        if up_to is not None and module.number > up_to:
            continue
        if (source_root / module.tests_dir).is_dir():
            shutil.copytree(
                source_root / module.tests_dir, target / module.tests_dir, ignore=ignore
            )


def write_pytest_ini(target: Path, source_root: Path = REPOSITORY) -> None:
    """Write ``target/pytest.ini``, with which the tests run against ``target/tinytorch``."""
    (target / PYTEST_CONFIG).write_text(pytest_ini(source_root), encoding="utf-8")


def copy_course_files(
    target: Path,
    manifest: Manifest,
    source_root: Path = REPOSITORY,
    offered: Iterable[int] | None = None,
) -> None:
    """Copy the lesson sources that exist (of the ``offered`` modules only, if given) and the
    milestone scripts to ``target``."""
    wanted = None if offered is None else set(offered)
    for module in manifest.modules:
        if wanted is not None and module.number not in wanted:
            continue
        lesson = source_root / module.lesson_dir / LESSON
        if lesson.is_file():
            (target / module.lesson_dir).mkdir(parents=True, exist_ok=True)
            shutil.copy2(lesson, target / module.lesson_dir / LESSON)
    if (source_root / MILESTONES).is_dir():
        shutil.copytree(source_root / MILESTONES, target / MILESTONES, ignore=SKIPPED)


def back_up_content(root: Path) -> Path | None:
    """Move the workspace content that exists into a new backup folder; return the folder."""
    present = [root / name for name in CONTENT if (root / name).exists()]
    if not present:
        return None
    backup = new_backup_dir(root)
    for path in present:
        shutil.move(path, backup / path.name)
    return backup


def create_workspace(
    target: Path,
    filled: Iterable[int] = (),
    manifest: Manifest | None = None,
    scope: Scope | None = None,
) -> Path | None:
    """Make (or refresh) a workspace at ``target``; return the backup of what it replaced.

    ``scope`` (default: the course's, see ``tito.course.scope``) names the modules offered;
    the regions of its filled modules, and of the modules in ``filled`` (tests and
    instructors), keep the reference code. Only the offered modules' lessons are copied,
    and the tests of the modules up to the last offered one.
    """
    manifest = manifest or load_manifest()
    scope = scope or default_scope(manifest)
    target.mkdir(parents=True, exist_ok=True)
    (target / STATE_DIR).mkdir(exist_ok=True)
    backup = back_up_content(target)
    build_edition(target, {*filled, *scope.filled}, manifest=manifest)
    copy_tests(target, manifest, up_to=max(scope.offered))
    write_pytest_ini(target)
    copy_course_files(target, manifest, offered=scope.offered)
    save_scope(target / WORKSPACE_SCOPE, scope)
    save_progress(target, Progress())
    return backup


def marker_expression(manifest: Manifest, numbers: Iterable[int], up_to: int) -> str:
    """A ``-m`` expression for the tests that belong to the modules ``numbers``.

    One meaning per marker: a test belongs to the highest module whose marker it carries,
    wherever its file lives (ReLU's backward test in tests/02 carries ``module02`` and
    ``module05`` and belongs to module 05). Tests of modules after ``up_to`` are left out.
    """
    wanted = " or ".join(manifest.module(number).marker for number in numbers)
    later = [module.marker for module in manifest.modules if module.number > up_to]
    return " and ".join([f"({wanted})", *(f"not {marker}" for marker in later)])


def module_test_folders(root: Path, manifest: Manifest, up_to: int = 20) -> list[str]:
    """The test folders (tests/NN_slug) of modules 1..``up_to`` under ``root``, in order."""
    return [
        module.tests_dir
        for module in manifest.modules
        if module.number <= up_to and (root / module.tests_dir).is_dir()
    ]


def module_test_files(root: Path, manifest: Manifest, numbers: Iterable[int]) -> list[str]:
    """The test files under ``root`` that can hold tests of the modules ``numbers``.

    Every file in tests/NN_slug carries the marker moduleNN, so a test of module k lives in
    the folder of module k or an earlier one, and a file holds tests of module k only if its
    text names the marker (``pytest.mark.modulekk``). Collecting just these files spares
    pytest from importing (and rewriting the asserts of) every other test file.
    """
    numbers = list(numbers)
    names = re.compile("|".join(rf"\b{manifest.module(n).marker}\b" for n in numbers))
    found = []
    for folder in module_test_folders(root, manifest, up_to=max(numbers)):
        for path in sorted((root / folder).rglob("test_*.py")):
            if names.search(path.read_text(encoding="utf-8")):
                found.append(path.relative_to(root).as_posix())
    return found


def pytest_command(
    root: Path, modules: Iterable[Module], up_to: int, manifest: Manifest
) -> list[str]:
    """The pytest command for the tests that belong to ``modules`` (see ``marker_expression``).

    Tests are selected by marker, so a module's tests run wherever they live; those of modules
    after ``up_to`` are left out. Only the files that can hold them are collected (see
    ``module_test_files``). Run it with ``cwd=root`` and ``env=workspace_env(root)``.
    ``ValueError`` where ``root`` has no tests of these modules.
    """
    numbers = [module.number for module in modules]
    files = module_test_files(root, manifest, numbers)
    if not files:  # pytest would fall back to every test under testpaths
        raise ValueError(f"no module tests in {root}")
    command = [sys.executable, "-m", "pytest", "-c", PYTEST_CONFIG, "--rootdir", "."]
    command += ["-p", "no:cacheprovider", *files]
    return command + ["-m", marker_expression(manifest, numbers, up_to)]


def workspace_env(root: Path) -> dict[str, str]:
    """The environment in which ``import tinytorch`` resolves to ``root/tinytorch``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(root), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env
