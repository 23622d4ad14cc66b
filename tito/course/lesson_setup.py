"""The first code cell of every lesson: import the workspace's ``tinytorch``, reload edits.

A lesson runs as a notebook (Jupyter starts the kernel in the notebook's folder,
``modules/NN_slug/``) or as a script (``python modules/NN_slug/lesson.py``). Either way the
``tinytorch`` it must test is the one in the folder above ``modules/``: the learner's
workspace (or this repository, for the reference), never an installed copy::

    from tito.course.lesson_setup import use_workspace

    use_workspace()

Under IPython (Jupyter) it also turns on ``%autoreload 2``, so an edit to the package is
picked up by the next cell without restarting the kernel.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

PACKAGE = "tinytorch"


def ipython_shell() -> Any | None:
    """The running IPython shell (Jupyter's kernel), or ``None`` in a plain Python script."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def lesson_folder(shell: Any | None) -> Path:
    """Where the lesson runs: the script's folder, or the kernel's working folder."""
    script = getattr(sys.modules.get("__main__"), "__file__", None)
    if shell is None and script:
        return Path(script).resolve().parent
    return Path.cwd().resolve()


def package_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` that holds ``tinytorch/__init__.py``."""
    for folder in (start, *start.parents):
        if (folder / PACKAGE / "__init__.py").is_file():
            return folder
    return None


def use_workspace(shell: Any | None = None) -> Path:
    """Put the lesson's workspace first on ``sys.path``, import its ``tinytorch``; its root.

    ``shell`` is the IPython shell (found by itself when ``None``). Prints a warning when
    ``tinytorch`` was already imported from elsewhere (restart the kernel to fix it).
    """
    shell = shell if shell is not None else ipython_shell()
    start = lesson_folder(shell)
    root = package_root(start)
    if root is None:
        raise RuntimeError(
            f"no {PACKAGE}/ folder at or above {start}: open the lesson inside your workspace "
            "(made by `tito init DIR`), e.g. `jupyter lab modules/01_tensor/lesson.ipynb`"
        )
    sys.path[:] = [str(root), *(entry for entry in sys.path if entry != str(root))]
    if shell is not None:
        shell.run_line_magic("load_ext", "autoreload")
        shell.run_line_magic("autoreload", "2")
    location = Path(importlib.import_module(PACKAGE).__file__).resolve()
    if location.is_relative_to(root / PACKAGE):
        print(f"Testing the {PACKAGE} of {root}")
    else:
        print(
            f"WARNING: {PACKAGE} was imported from {location.parent}, not from {root / PACKAGE}:"
            " this lesson would test that copy, not your code. Restart the kernel (or Python)"
            " and run this cell first.",
            file=sys.stderr,
        )
    return root
