"""Tests are selected by marker over the whole tree: one meaning per marker.

A test belongs to the highest module whose marker it carries, wherever its file lives, and
``tito module test/complete`` and ``tito grade`` run exactly the tests that belong to the module.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tito.course.manifest import REPOSITORY, load_manifest
from tito.course.workspace import (
    PYTEST_CONFIG,
    marker_expression,
    module_test_folders,
    pytest_command,
)

pytestmark = pytest.mark.course

MANIFEST = load_manifest()


def _collected(*arguments: str) -> list[str]:
    """The node ids pytest collects in this repository for ``arguments``."""
    command = [*arguments, "--collect-only", "-q"]
    command[command.index(PYTEST_CONFIG)] = "pyproject.toml"  # the repository's configuration
    result = subprocess.run(command, cwd=REPOSITORY, capture_output=True, text=True, check=False)
    assert result.returncode in (0, 5), result.stdout[-2000:] + result.stderr
    return [line for line in result.stdout.splitlines() if "::" in line]


def _module_tests(number: int) -> list[str]:
    command = pytest_command(REPOSITORY, [MANIFEST.module(number)], number, MANIFEST)
    return _collected(*command)


def test_every_module_test_carries_a_module_marker() -> None:
    unmarked = " and ".join(f"not {module.marker}" for module in MANIFEST.modules)
    folders = module_test_folders(REPOSITORY, MANIFEST)
    command = [sys.executable, "-m", "pytest", "-c", PYTEST_CONFIG, *folders, "-m", unmarked]
    assert _collected(*command) == [], "mark these tests with their module"


def test_every_test_file_carries_the_marker_of_its_folder() -> None:
    """What lets ``pytest_command`` skip the folders of later modules: a test in tests/NN_slug
    belongs to module NN or a later one. Markers are named in the file that holds the test,
    which lets it skip the files that do not name the module's marker."""
    for folder in module_test_folders(REPOSITORY, MANIFEST):
        marker = f"pytest.mark.module{folder.split('/')[1][:2]}"
        for path in (REPOSITORY / folder).rglob("test_*.py"):
            assert marker in path.read_text(), f"{path}: set pytestmark to include {marker}"


def test_a_modules_tests_are_found_outside_its_folder() -> None:
    autograd, activations = _module_tests(5), _module_tests(2)
    elsewhere = [test for test in autograd if test.startswith("tests/02_activations/")]
    assert elsewhere, "the backward tests of the activations belong to module 05"
    assert not set(elsewhere) & set(activations), "one module per test"
    assert any(test.startswith("tests/09_spatial/") for test in _module_tests(13))


def test_only_files_naming_the_marker_are_collected() -> None:
    command = pytest_command(REPOSITORY, [MANIFEST.module(5)], 5, MANIFEST)
    files = [argument for argument in command if argument.endswith(".py")]
    assert "tests/02_activations/test_activations.py" in files
    assert "tests/01_tensor/test_properties.py" not in files
    assert not any(file.startswith("tests/06_") for file in files)


def test_the_marker_expression_keeps_later_modules_out() -> None:
    expression = marker_expression(MANIFEST, [1, 2], 2)
    assert expression.startswith("(module01 or module02) and not module03")
    assert "not module20" in expression and "not module02" not in expression
