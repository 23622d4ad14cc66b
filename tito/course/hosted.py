"""Lessons in a hosted notebook: Colab and Binder.

``tito release`` writes each lesson's notebook (``modules/NN_slug/lesson.ipynb``) with two
cells in front of the lesson: a Markdown header with "Open in Colab" and "Launch Binder"
links to that notebook in the published release (``[course] github`` of the manifest, or
``tito release --github OWNER/REPO``), and an install cell. On Colab the install cell clones
the release, installs it with the test tools that ``tito module test`` uses
(``pip install -e ".[test]"``) and makes a workspace with the student edition (``tito
init``); on Binder (``binder/postBuild`` did both when the image was built) and inside a
workspace it only finds the workspace. Either way it then moves into the lesson's folder of
that workspace, so the lesson's own first cell (``use_workspace``) tests the learner's
``tinytorch``::

    open_workspace("01_tensor")   # -> ~/tinytorch-course/modules/01_tensor (made if missing)
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from tito.course.manifest import Manifest, Module
from tito.course.workspace import create_workspace, find_workspace

WORKSPACE_NAME = "tinytorch-course"
COLAB_HOME = Path("/content")  # the folder Colab's file browser shows
HEADER = """[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab})
[![Launch Binder](https://mybinder.org/badge_logo.svg)]({binder})

Module {tag} of {title}. On Colab or Binder, run the next cell first: it installs TinyTorch
and makes your workspace, where you write the exercises."""
INSTALL_CELL = """# On Colab or Binder: install TinyTorch, make your workspace, open the lesson.
import importlib.util
import subprocess
import sys
from pathlib import Path

COURSE = {source}
if importlib.util.find_spec("tito") is None:
    clone = Path(COURSE) if Path(COURSE).is_dir() else Path.home() / "tinytorch-release"
    if not clone.exists():
        subprocess.run(["git", "clone", "--depth=1", COURSE, str(clone)], check=True)
    install = [sys.executable, "-m", "pip", "install", "-q", "-e", f"{{clone}}[test]"]
    subprocess.run(install, check=True)  # the package, tito and the test tools
    sys.path.insert(0, str(clone))  # this kernel sees the install without a restart
from tito.course.hosted import open_workspace

open_workspace("{name}")"""


def colab_url(github: str, module: Module) -> str:
    """Colab's address of the lesson notebook in the GitHub repository ``github``."""
    notebook = f"{module.lesson_dir}lesson.ipynb"
    return f"https://colab.research.google.com/github/{github}/blob/main/{notebook}"


def binder_url(github: str, module: Module) -> str:
    """Binder's address of the lesson notebook in the GitHub repository ``github``."""
    notebook = f"{module.lesson_dir}lesson.ipynb"
    return f"https://mybinder.org/v2/gh/{github}/HEAD?urlpath=lab/tree/{notebook}"


def header(manifest: Manifest, module: Module, github: str) -> str:
    """The Markdown cell with the Colab and Binder links of ``module``'s lesson."""
    return HEADER.format(
        colab=colab_url(github, module),
        binder=binder_url(github, module),
        tag=module.tag,
        title=manifest.title,
    )


def install_cell(module: Module, source: str) -> str:
    """The install cell of ``module``'s lesson; ``source`` is the release: a git URL, or a
    folder (a course copy on a shared disk, and the tests)."""
    return INSTALL_CELL.format(source=json.dumps(source), name=module.name)


def default_location() -> Path:
    """Where a hosted notebook makes the workspace: Colab's ``/content`` (its file browser
    shows it) or the home folder, unless ``TINYTORCH_WORKSPACE`` names one."""
    if os.environ.get("TINYTORCH_WORKSPACE"):
        return Path(os.environ["TINYTORCH_WORKSPACE"])
    colab = "google.colab" in sys.modules and COLAB_HOME.is_dir()
    return (COLAB_HOME if colab else Path.home()) / WORKSPACE_NAME


def open_workspace(lesson: str) -> Path:
    """Move into the folder of ``lesson`` (``"01_tensor"``) in the learner's workspace; the
    workspace's root. The workspace is the one around the current folder, else the one at
    ``default_location()``, made with ``tito init`` if it is not there yet."""
    root = find_workspace(Path.cwd())
    if root is None:
        root = default_location()
        if find_workspace(root) != root.resolve():
            create_workspace(root)
            print(f"Made your workspace at {root}: your code goes into {root / 'tinytorch'}")
    folder = root / "modules" / lesson
    if not folder.is_dir():
        raise RuntimeError(f"{root} has no lesson {lesson}: the course there does not offer it")
    os.chdir(folder)
    print(f"Working in {folder}")
    return root
