"""The percent-script to notebook converter: valid nbformat-4 JSON that keeps every cell."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tito.course.manifest import REPOSITORY
from tito.course.notebook import parse_percent, to_notebook, write_notebook

pytestmark = pytest.mark.cli

LESSONS = sorted(REPOSITORY.glob("modules/*/lesson.py"))
SAMPLE = """import numpy as np

# %% [markdown]
# # Title
#
# Some *text*.

# %%
x = np.ones(3)
# a comment stays code

# %%
print(x)
"""


def _valid_cell(cell: dict) -> None:
    """Assert the nbformat-4.5 shape of one cell."""
    assert cell["cell_type"] in ("code", "markdown")
    assert isinstance(cell["id"], str) and 1 <= len(cell["id"]) <= 64
    assert cell["metadata"] == {}
    assert all(isinstance(line, str) for line in cell["source"])
    assert all(line.endswith("\n") for line in cell["source"][:-1])
    if cell["cell_type"] == "code":
        assert cell["execution_count"] is None and cell["outputs"] == []
    else:
        assert "outputs" not in cell and "execution_count" not in cell


def _percent(notebook: dict) -> str:
    """A percent script rebuilt from a notebook, Markdown lines commented again."""
    parts = []
    for cell in notebook["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            lines = [f"# {line}" if line else "#" for line in text.splitlines()]
            parts.append("# %% [markdown]\n" + "\n".join(lines))
        else:
            parts.append("# %%\n" + text)
    return "\n\n".join(parts) + "\n"


def test_the_sample_becomes_three_kinds_of_cell_in_order() -> None:
    notebook = to_notebook(SAMPLE)
    kinds = [cell["cell_type"] for cell in notebook["cells"]]
    assert kinds == ["code", "markdown", "code", "code"]
    assert notebook["cells"][1]["source"] == ["# Title\n", "\n", "Some *text*."]
    assert "".join(notebook["cells"][2]["source"]) == "x = np.ones(3)\n# a comment stays code"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda path: path.parent.name)
def test_every_lesson_becomes_a_valid_notebook(lesson: Path, tmp_path: Path) -> None:
    target = tmp_path / "lesson.ipynb"
    write_notebook(lesson, target)
    notebook = json.loads(target.read_text(encoding="utf-8"))
    assert set(notebook) == {"cells", "metadata", "nbformat", "nbformat_minor"}
    assert notebook["nbformat"] == 4 and notebook["nbformat_minor"] >= 5
    assert notebook["metadata"]["kernelspec"]["language"] == "python"
    assert notebook["cells"]
    for cell in notebook["cells"]:
        _valid_cell(cell)
    assert len({cell["id"] for cell in notebook["cells"]}) == len(notebook["cells"])


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda path: path.parent.name)
def test_every_lesson_round_trips_its_cells(lesson: Path) -> None:
    source = lesson.read_text(encoding="utf-8")
    rebuilt = _percent(to_notebook(source))
    assert parse_percent(rebuilt) == parse_percent(source)
    assert _non_blank(rebuilt) == _non_blank(source)


def _non_blank(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]
