"""A lesson tests the workspace's package: its first cell, ``module start``'s instructions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.helpers import tito
from tito.course.manifest import REPOSITORY
from tito.course.notebook import jupyter_install_command

pytestmark = pytest.mark.cli

NOTEBOOK = Path("modules/01_tensor/lesson.ipynb")
FAKE_IPYTHON = """
import sys, types
magics = []
class Shell:
    def run_line_magic(self, name, line):
        magics.append((name, line))
shell = Shell()
sys.modules["IPython"] = types.ModuleType("IPython")
sys.modules["IPython"].get_ipython = lambda: shell
"""
REPORT = "\nimport tinytorch\nprint('FILE', tinytorch.__file__)\nprint('MAGICS', magics)\n"


def _first_code_cell(workspace: Path) -> str:
    """The first code cell of module 01's notebook, built by ``tito module start 01``."""
    assert tito("module", "start", "01", cwd=workspace).returncode == 0
    cells = json.loads((workspace / NOTEBOOK).read_text(encoding="utf-8"))["cells"]
    return "".join(next(cell for cell in cells if cell["cell_type"] == "code")["source"])


def _run_in_kernel_folder(workspace: Path, code: str) -> subprocess.CompletedProcess:
    """Run ``code`` as Jupyter's kernel would: in the notebook's folder, the reference
    package importable (a clone installed with ``pip install -e .``)."""
    env = dict(os.environ, PYTHONPATH=str(REPOSITORY))
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=workspace / NOTEBOOK.parent,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_notebook_imports_the_workspace_package_and_autoreloads(workspace: Path) -> None:
    cell = _first_code_cell(workspace)
    result = _run_in_kernel_folder(workspace, FAKE_IPYTHON + cell + REPORT)
    assert result.returncode == 0, result.stderr
    location = result.stdout.split("FILE ", 1)[1].splitlines()[0]
    assert Path(location).resolve() == (workspace / "tinytorch" / "__init__.py").resolve()
    assert "MAGICS [('load_ext', 'autoreload'), ('autoreload', '2')]" in result.stdout
    assert "WARNING" not in result.stderr


def test_the_notebook_warns_when_another_tinytorch_is_already_imported(
    workspace: Path,
) -> None:
    cell = _first_code_cell(workspace)
    result = _run_in_kernel_folder(workspace, "import tinytorch\n" + FAKE_IPYTHON + cell)
    assert result.returncode == 0, result.stderr
    assert "WARNING: tinytorch was imported from" in result.stderr
    assert str(REPOSITORY / "tinytorch") in result.stderr
    assert "Restart the kernel" in result.stderr


def test_a_plain_script_run_turns_on_no_ipython_magic(workspace: Path) -> None:
    cell = _first_code_cell(workspace)
    result = _run_in_kernel_folder(workspace, "magics = []\n" + cell + REPORT)
    assert result.returncode == 0, result.stderr
    assert "MAGICS []" in result.stdout
    assert str(workspace.resolve() / "tinytorch") in result.stdout


def test_start_says_how_to_open_the_notebook_without_pythonpath(workspace: Path) -> None:
    result = tito("module", "start", "01", cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert "PYTHONPATH" not in result.stdout
    assert f"jupyter lab {NOTEBOOK}" in result.stdout or f"jupyterlab {NOTEBOOK}" in result.stdout
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        assert jupyter_install_command() in result.stdout
        assert "[course]" in result.stdout


def test_the_course_extra_installs_jupyterlab() -> None:
    text = (REPOSITORY / "pyproject.toml").read_text(encoding="utf-8")
    assert 'course = ["jupyterlab' in text
