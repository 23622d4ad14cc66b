"""Colab and Binder: a release's lesson notebooks install TinyTorch and make a workspace.

The install cell and ``binder/postBuild`` run in a fresh virtual environment that has only
what Colab's Python has before the cell runs (NumPy, pip and setuptools, linked from this
Python so that nothing is downloaded) and installs from a release on disk instead of GitHub.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import venv
from pathlib import Path

import pytest

from tests.cli.helpers import tito
from tito.course.hosted import WORKSPACE_NAME, colab_url
from tito.course.manifest import load_manifest

pytestmark = pytest.mark.cli

MANIFEST = load_manifest()
LESSON = MANIFEST.module(1)
PRESENT = ("numpy", "pip", "setuptools")  # what Colab has before the install cell runs
EXTRA = "test"  # the extra the install cell and postBuild install: its packages are linked too


def _requirements(name: str, extra: str = "") -> set[str]:
    """``name`` and every distribution it needs (with ``extra``), as installed here."""
    from packaging.requirements import Requirement

    found, waiting = set(), [(name, extra)]
    while waiting:
        current, wanted = waiting.pop()
        if current in found:
            continue
        found.add(current)
        for text in importlib.metadata.distribution(current).requires or ():
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is None or marker.evaluate({"extra": wanted}):
                waiting.append((requirement.name, ""))
    return found


def _version(name: str) -> tuple[int, ...]:
    """The installed version of ``name`` as numbers: ``(70, 1)``."""
    return tuple(int(part) for part in importlib.metadata.version(name).split(".")[:2])


def _link_distribution(name: str, into: Path) -> None:
    """Make the installed distribution ``name`` of this Python (its packages, modules,
    metadata and bundled libraries) importable from ``into``."""
    distribution = importlib.metadata.distribution(name)
    tops = {Path(file).parts[0] for file in distribution.files or ()}
    for top in sorted(tops):
        skipped = top in ("..", "__pycache__") or top.endswith(".pth")
        if not skipped and not (into / top).exists():
            (into / top).symlink_to(Path(str(distribution.locate_file(top))))


@pytest.fixture(scope="module")
def python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python of a fresh virtual environment that has only NumPy, pip, setuptools and the
    packages of the ``test`` extra: the install cell finds them there instead of on PyPI."""
    folder = tmp_path_factory.mktemp("hosted")
    venv.create(folder / "venv", with_pip=False)
    present = folder / "present"
    present.mkdir()
    needed = set(PRESENT) | _requirements("tinytorch", EXTRA) - {"tinytorch"}
    if _version("setuptools") < (70, 1):  # older ones need the wheel package to build
        pytest.skip("an offline editable install needs setuptools>=70.1 (the test extra): "
                    "python -m pip install -e '.[test]'")  # fmt: skip
    for name in sorted(needed):
        _link_distribution(name, present)
    site = next((folder / "venv").glob("lib/python*/site-packages"))
    (site / "colab-base.pth").write_text(f"{present}\n", encoding="utf-8")
    return folder / "venv" / "bin" / "python"


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A student release, as it would be published on GitHub."""
    out = tmp_path_factory.mktemp("release") / "tinytorch-student"
    result = tito("release", str(out), "--github", "example/tinytorch-student", cwd=out.parent)
    assert result.returncode == 0, result.stderr
    return out


def _code_cells(release: Path) -> list[str]:
    """The code cells of the release's lesson 01 notebook."""
    notebook = json.loads((release / LESSON.lesson_dir / "lesson.ipynb").read_text())
    return ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]


def _offline_env(python: Path, home: Path) -> dict[str, str]:
    """The fresh environment's variables: pip offline, building with the setuptools present
    (``PIP_NO_BUILD_ISOLATION=0`` turns isolation off), ``home`` as the home folder."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env.update(HOME=str(home), PIP_NO_INDEX="1", PIP_NO_BUILD_ISOLATION="0")
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PATH=f"{python.parent}:{env['PATH']}")
    return env


def _run(python: Path, code: str, cwd: Path, home: Path) -> subprocess.CompletedProcess:
    """Run ``code`` as a notebook kernel would, offline, with ``home`` as the home folder."""
    env = _offline_env(python, home)
    return subprocess.run([str(python), "-c", code], cwd=cwd, env=env, capture_output=True,
                          text=True, check=False)  # fmt: skip


def test_every_lesson_notebook_opens_in_colab_and_installs_first(release: Path) -> None:
    notebooks = sorted(release.glob("modules/*/lesson.ipynb"))
    assert len(notebooks) == len(list(release.glob("modules/*/lesson.py"))) > 0
    for path in notebooks:
        module = MANIFEST.module(int(path.parent.name[:2]))
        cells = json.loads(path.read_text())["cells"]
        assert cells[0]["cell_type"] == "markdown"
        assert colab_url("example/tinytorch-student", module) in "".join(cells[0]["source"])
        install = "".join(cells[1]["source"])
        assert 'COURSE = "https://github.com/example/tinytorch-student"' in install
        assert f'open_workspace("{module.name}")' in install
    assert os.access(release / "binder" / "postBuild", os.X_OK)


def test_the_install_cell_makes_a_workspace_where_the_lesson_runs(
    python: Path, release: Path, tmp_path: Path
) -> None:
    install, setup, imports = _code_cells(release)[:3]
    install = install.replace("https://github.com/example/tinytorch-student", str(release))
    home, notebook_folder = tmp_path / "home", tmp_path / "content"
    home.mkdir()
    notebook_folder.mkdir()
    code = "\n".join([install, setup, imports, "print('LESSON', tinytorch.__file__)"])
    result = _run(python, code, cwd=notebook_folder, home=home)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    workspace = home / WORKSPACE_NAME
    assert (workspace / ".tito" / "progress.json").is_file()
    assert f"Testing the tinytorch of {workspace}" in result.stdout
    assert f"LESSON {workspace / 'tinytorch' / '__init__.py'}" in result.stdout
    assert "NotImplementedError" in (workspace / "tinytorch" / "creation.py").read_text()


def test_binder_installs_the_release_and_a_workspace_the_lesson_finds(
    python: Path, release: Path
) -> None:
    """Binder's home is the repository; postBuild runs there when the image is built."""
    env = _offline_env(python, release)
    built = subprocess.run(["bash", "binder/postBuild"], cwd=release, env=env,
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    install, setup = _code_cells(release)[:2]
    lesson = release / LESSON.lesson_dir
    result = _run(python, f"{install}\n{setup}", cwd=lesson, home=release)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Made your workspace" not in result.stdout
    assert f"Testing the tinytorch of {release / WORKSPACE_NAME}" in result.stdout


def test_the_grader_passes_the_token_under_the_runners_name() -> None:
    """``tito`` reads the runner's variable name without importing it (it imports pytest)."""
    from tito.course import grade_runner, grading

    assert grading.TOKEN_VARIABLE == grade_runner.TOKEN_VARIABLE
    assert Path(grade_runner.__file__) == grading.RUNNER_SOURCE
