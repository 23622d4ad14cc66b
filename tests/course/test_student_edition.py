"""The student-edition invariant and the course manifest.

For every k from 0 to the highest module with regions and tests: the student edition with the
regions of modules 1..k filled passes the tests of modules 1..k (those whose module markers are
all <= k), module k+1's tests fail, the package imports and ``tito`` runs. Each edition is
tested in a subprocess where ``import tinytorch`` resolves to the generated copy.

To stay fast, only module k's own tests run for edition k: modules before k were tested in
their own editions, with more still stubbed. The edition with every region filled is the
reference package itself, byte for byte, so the suite's own run of the module tests is that
edition's run. ``TINYTORCH_COURSE_FULL=1`` tests 1..k for every k.
"""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tito.course.manifest import REPOSITORY, load_manifest
from tito.course.regions import RegionError, package_regions, parse_regions
from tito.course.workspace import create_workspace, pytest_command, workspace_env

pytestmark = pytest.mark.course

MANIFEST = load_manifest()
REGIONS = package_regions(REPOSITORY)
MODULES_WITH_REGIONS = {region.module for regions in REGIONS.values() for region in regions}


def _highest_ready() -> int:
    """The largest k such that modules 1..k all have regions and a tests folder."""
    k = 0
    for module in MANIFEST.modules:
        ready = module.number in MODULES_WITH_REGIONS
        if not ready or not (REPOSITORY / module.tests_dir).is_dir():
            break
        k = module.number
    return k


HIGHEST = _highest_ready()
FULL = os.environ.get("TINYTORCH_COURSE_FULL") == "1"
FULLY_TESTED = set(range(HIGHEST + 1)) if FULL else {0}


def _run(command: list[str], root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=root, env=workspace_env(root), capture_output=True, text=True, check=False
    )


def _differences(left: Path, right: Path) -> list[str]:
    """Files that differ, or exist on one side only, between two trees (caches left out)."""
    compared = filecmp.dircmp(left, right, ignore=["__pycache__", ".pytest_cache"])
    found = [str(left / name) for name in compared.left_only + compared.diff_files]
    found += [str(right / name) for name in compared.right_only + compared.funny_files]
    for name in compared.common_dirs:
        found += _differences(left / name, right / name)
    return found


def _pytest(root: Path, numbers: range, up_to: int, *extra: str) -> subprocess.CompletedProcess:
    modules = [MANIFEST.module(number) for number in numbers]
    return _run(pytest_command(root, modules, up_to, MANIFEST) + ["-q", *extra], root)


def test_every_module_up_to_8_has_regions_and_tests() -> None:
    assert HIGHEST >= 8


def test_manifest_lists_the_files_that_hold_each_modules_regions() -> None:
    for module in MANIFEST.modules:
        holding = {
            path for path, regions in REGIONS.items() for r in regions if r.module == module.number
        }
        assert set(module.files) == holding, f"{module.label}: fix `files` in modules/manifest.toml"


def test_every_region_belongs_to_a_module_of_the_manifest() -> None:
    numbers = {module.number for module in MANIFEST.modules}
    assert MODULES_WITH_REGIONS <= numbers


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("def f():\n    # BEGIN SOLUTION 01\n    return 1\n", "never closed"),
        ("def f():\n    return 1\n    # END SOLUTION\n", "without BEGIN"),
        ("def f():\n    # BEGIN SOLUTION 01\n    # BEGIN SOLUTION 02\n", "nested"),
        ("def f():\n    # BEGIN SOLUTION 01\n    return 1\n  # END SOLUTION\n", "indented"),
        ("def f():\n    # BEGIN SOLUTION 1\n    return 1\n    # END SOLUTION\n", "malformed"),
    ],
)
def test_broken_markers_raise_with_file_and_line(source: str, problem: str) -> None:
    with pytest.raises(RegionError, match=rf"^f\.py:\d+: .*{problem}"):
        parse_regions(source, "f.py")


@pytest.mark.parametrize("k", range(HIGHEST + 1))
def test_edition_with_modules_1_to_k_filled(k: int, tmp_path: Path) -> None:
    root = tmp_path / "edition"
    create_workspace(root, filled=range(1, k + 1), manifest=MANIFEST)
    where = _run([sys.executable, "-c", "import tinytorch; print(tinytorch.__file__)"], root)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(root), "the reference package was imported"
    if k in FULLY_TESTED:
        tito = _run([sys.executable, "-m", "tito.main", "--help"], root)
        assert tito.returncode == 0, tito.stderr
    if k == HIGHEST and not FULL:
        assert not _differences(root / "tinytorch", REPOSITORY / "tinytorch")
    elif k:
        first = 1 if k in FULLY_TESTED else k
        passing = _pytest(root, range(first, k + 1), k)
        assert passing.returncode == 0, passing.stdout[-3000:]
    if k < HIGHEST:
        failing = _pytest(root, range(k + 1, k + 2), k + 1, "-x")
        assert failing.returncode == 1, f"module {k + 1}'s tests pass on stubs"
