"""Lesson notebooks: a jupytext "percent" script turned into an nbformat-4 notebook.

A lesson (``modules/NN_slug/lesson.py``) is a Python file cut into cells by ``# %%`` lines;
``# %% [markdown]`` starts a Markdown cell whose lines are comments (``# text``). This module
writes the equivalent ``.ipynb`` JSON without jupytext or nbformat::

    write_notebook(Path("modules/01_tensor/lesson.py"), Path("lesson.ipynb"))
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tito.course.manifest import REPOSITORY
from tito.course.progress import write_atomic

CELL = re.compile(r"^# %%(?P<title>[^\[]*)(?:\[(?P<kind>\w+)\])?\s*$")
MARKDOWN_KINDS = ("markdown", "md")
NBFORMAT, NBFORMAT_MINOR = 4, 5
METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


@dataclass(frozen=True)
class Cell:
    """One cell of a lesson: ``"code"`` or ``"markdown"``, and its text (no trailing newline)."""

    kind: str
    text: str


def _uncomment(line: str) -> str:
    """A Markdown line from its percent form: ``# text`` -> ``text``, ``#`` -> empty."""
    if line.startswith("# "):
        return line[2:]
    return line[1:] if line.startswith("#") else line


def _cell(kind: str, lines: list[str]) -> Cell | None:
    """The cell made of ``lines`` (blank lines around it dropped), or ``None`` if empty."""
    if kind == "markdown":
        lines = [_uncomment(line) for line in lines]
    text = "\n".join(lines).strip("\n")
    return Cell(kind, text) if text.strip() else None


def parse_percent(source: str) -> list[Cell]:
    """The cells of a percent script; code before the first ``# %%`` is a code cell."""
    cells: list[Cell | None] = []
    kind, lines = "code", []
    for line in source.splitlines():
        match = CELL.match(line)
        if match is None:
            lines.append(line)
            continue
        cells.append(_cell(kind, lines))
        kind = "markdown" if match["kind"] in MARKDOWN_KINDS else "code"
        lines = []
    cells.append(_cell(kind, lines))
    return [cell for cell in cells if cell is not None]


def _source_lines(text: str) -> list[str]:
    """nbformat's multi-line string: lines keep their newline, the last has none."""
    return text.splitlines(keepends=True)


def notebook_cell(cell: Cell, index: int) -> dict[str, Any]:
    """The nbformat-4.5 JSON object of one cell (``id`` is ``cell-<index>``)."""
    entry: dict[str, Any] = {
        "cell_type": cell.kind,
        "id": f"cell-{index}",
        "metadata": {},
        "source": _source_lines(cell.text),
    }
    if cell.kind == "code":
        entry.update(execution_count=None, outputs=[])
    return entry


def to_notebook(source: str, prelude: tuple[Cell, ...] = ()) -> dict[str, Any]:
    """The nbformat-4 notebook (a JSON-ready dict) of a percent script, after the cells of
    ``prelude`` (the Colab header and install cell of a release's notebooks)."""
    parsed = [*prelude, *parse_percent(source)]
    cells = [notebook_cell(cell, index) for index, cell in enumerate(parsed)]
    return {
        "cells": cells,
        "metadata": METADATA,
        "nbformat": NBFORMAT,
        "nbformat_minor": NBFORMAT_MINOR,
    }


def write_notebook(source: Path, target: Path, prelude: tuple[Cell, ...] = ()) -> None:
    """Write the notebook of the percent script ``source`` (after ``prelude``) to ``target``,
    atomically."""
    notebook = to_notebook(source.read_text(encoding="utf-8"), prelude)
    write_atomic(target, json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")


def jupyter_install_command() -> str:
    """The command that installs Jupyter into this Python: the ``course`` extra of the clone."""
    if (REPOSITORY / "pyproject.toml").is_file():
        return f'{sys.executable} -m pip install -e "{REPOSITORY}[course]"'
    return f"{sys.executable} -m pip install jupyterlab"


def how_to_open(notebook: Path) -> str:
    """The commands that open ``notebook`` (relative to the workspace) in JupyterLab.

    The notebook's first cell finds the workspace by itself, so no ``PYTHONPATH`` is needed.
    Where JupyterLab is not installed in this Python, the install command comes first.
    """
    if importlib.util.find_spec("jupyterlab") is None:
        return f"Install Jupyter, then open it:\n  {jupyter_install_command()}\n" + (
            f"  {sys.executable} -m jupyterlab {notebook}"
        )
    opener = "jupyter lab" if shutil.which("jupyter") else f"{sys.executable} -m jupyterlab"
    return f"Open it from this folder: {opener} {notebook}"
