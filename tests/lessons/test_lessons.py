"""Every lesson (``modules/NN_slug/lesson.py``) runs against the reference package and has the
parts a lesson needs.

A lesson is a jupytext "percent" script. Two kinds of test per lesson:

* executed: ``python modules/NN_slug/lesson.py`` from the repository root exits with 0, prints
  at least one passed check (a line starting with "✓") and no failed one ("✗" or "FAIL");
* structural: its Markdown has headings for the learning objectives, the exercises, the systems
  analysis and the reflection; it names the textbook (mlsysbook.ai), the module's chapter from
  the manifest and its prerequisites; every package file it names exists; every exercise
  region of its module (``# BEGIN SOLUTION NN`` in the package) is named by file and symbol
  (``Add.forward``, ``tensor``, ``Module.__setattr__``); and each paragraph that starts with
  ``**Write**``, which states where an exercise lives as
  ``**Write** in `path`: `Symbol`, `Class.method` `` (one file per paragraph), names only
  symbols fenced by that module's regions in that file.

Lessons are found when the tests are collected, so a new lesson is tested without editing
this file.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tito.course.manifest import load_manifest

pytestmark = pytest.mark.lesson

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted(ROOT.glob("modules/*/lesson.py"))
LESSON_IDS = [path.parent.name for path in LESSONS]
BEGIN = re.compile(r"^\s*# BEGIN SOLUTION (\d{2})\b")
PACKAGE_PATH = re.compile(r"`(tinytorch/[\w/]+\.py)`")
TIME_LIMIT_S = 60  # a lesson should take seconds; this only stops a hung one
ENGINE_CTX = {"saved_tensors", "needs_input_grad"}  # set by save_for_backward and the engine


def module_number(lesson: Path) -> int:
    return int(lesson.parent.name.split("_", 1)[0])


def enclosing_symbols(path: Path) -> dict[int, str]:
    """For every line of a Python file, the qualified name of the innermost function around
    it (``Class.method`` or ``function``); lines outside any function are left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    symbols: dict[int, str] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    for line in range(child.lineno, (child.end_lineno or child.lineno) + 1):
                        symbols[line] = name  # inner definitions overwrite outer ones
                visit(child, f"{name}.")

    visit(tree, "")
    return symbols


def regions(number: int) -> set[tuple[str, str]]:
    """(file relative to the repository, symbol) of every region tagged with ``number``."""
    found: set[tuple[str, str]] = set()
    for path in sorted((ROOT / "tinytorch").rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        tagged = [
            index + 1
            for index, line in enumerate(lines)
            if (match := BEGIN.match(line)) and int(match.group(1)) == number
        ]
        if tagged:
            symbols = enclosing_symbols(path)
            relative = path.relative_to(ROOT).as_posix()
            found.update((relative, symbols.get(line, "<module level>")) for line in tagged)
    return found


def region_tag(lines: list[str], function: ast.FunctionDef) -> int | None:
    """The module number of the first region inside ``function``, if it has one."""
    for line in lines[function.lineno - 1 : function.end_lineno]:
        if match := BEGIN.match(line):
            return int(match.group(1))
    return None


def ctx_reads(function: ast.FunctionDef) -> set[str]:
    """The ``ctx`` attributes that ``function`` reads."""
    return {
        node.attr
        for node in ast.walk(function)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "ctx"
        and isinstance(node.ctx, ast.Load)
    }


def later_backward_reads(number: int) -> dict[str, set[str]]:
    """For each op whose forward is module ``number``'s and whose backward a later module's:
    the ``ctx`` attributes that backward reads and forward must set (engine-owned excluded)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "tinytorch").rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, ast.ClassDef):
                continue
            methods = {f.name: f for f in node.body if isinstance(f, ast.FunctionDef)}
            if "forward" not in methods or "backward" not in methods:
                continue
            forward_tag = region_tag(lines, methods["forward"])
            if forward_tag != number or region_tag(lines, methods["backward"]) == number:
                continue
            reads = ctx_reads(methods["backward"]) - ENGINE_CTX
            if reads:
                found[node.name] = reads
    return found


def markdown(text: str) -> str:
    """The Markdown of a percent-format script: the comment lines of its Markdown cells."""
    out, in_markdown = [], False
    for line in text.splitlines():
        if line.startswith("# %%"):
            in_markdown = "[markdown]" in line
        elif in_markdown and (line.startswith("# ") or line == "#"):
            out.append(line[2:])
    return "\n".join(out)


def mentions(text: str, symbol: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(symbol)}(?!\w)", text) is not None


@pytest.mark.parametrize("lesson", LESSONS, ids=LESSON_IDS)
def test_lesson_runs_against_the_reference(lesson: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONDONTWRITEBYTECODE": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, str(lesson.relative_to(ROOT))],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIME_LIMIT_S,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{lesson.parent.name} exited {result.returncode}:\n{output}"
    failed = [line for line in output.splitlines() if line.lstrip().startswith(("✗", "FAIL"))]
    assert not failed, f"{lesson.parent.name}: failed checks:\n" + "\n".join(failed)
    assert any(line.lstrip().startswith("✓") for line in output.splitlines()), (
        f"{lesson.parent.name} printed no passed check ('✓ ...')"
    )


@pytest.mark.parametrize("lesson", LESSONS, ids=LESSON_IDS)
def test_lesson_has_the_required_parts(lesson: Path) -> None:
    text = lesson.read_text(encoding="utf-8")
    notes = markdown(text)
    headings = [line for line in notes.splitlines() if line.startswith("#")]
    assert headings and headings[0].startswith("# "), "the first Markdown heading is the title"
    for part in ("objectives", "exercise", "systems analysis", "reflection"):
        assert any(part in heading.lower() for heading in headings), (
            f"{lesson.parent.name}: no Markdown heading mentions {part!r}"
        )
    assert "prerequisite" in notes.lower(), f"{lesson.parent.name}: prerequisites not stated"
    assert "mlsysbook.ai" in notes, f"{lesson.parent.name}: the textbook (mlsysbook.ai) is missing"
    chapter = load_manifest().module(module_number(lesson)).chapter
    assert chapter in notes, f"{lesson.parent.name}: the manifest's chapter {chapter!r} is missing"
    assert "\t" not in text and all(len(line) <= 100 for line in text.splitlines())


@pytest.mark.parametrize("lesson", LESSONS, ids=LESSON_IDS)
def test_lesson_names_every_region_of_its_module(lesson: Path) -> None:
    number = module_number(lesson)
    notes = markdown(lesson.read_text(encoding="utf-8"))
    named_paths = set(PACKAGE_PATH.findall(notes))
    missing_files = sorted(path for path in named_paths if not (ROOT / path).is_file())
    assert not missing_files, f"{lesson.parent.name} names files that do not exist: {missing_files}"

    expected = regions(number)
    assert expected, f"no '# BEGIN SOLUTION {number:02d}' region in the package"
    unnamed = sorted(
        f"{path}: {symbol}"
        for path, symbol in expected
        if path not in named_paths or not mentions(notes, symbol)
    )
    assert not unnamed, f"{lesson.parent.name} does not name these regions:\n" + "\n".join(unnamed)

    paragraphs = [" ".join(block.split()) for block in re.split(r"\n\s*\n", notes)]
    write_lines = [block for block in paragraphs if block.startswith("**Write**")]
    assert write_lines, f"{lesson.parent.name}: no '**Write** in `path`: `Symbol`' paragraph"
    for line in write_lines:
        tokens = re.findall(r"`([^`]+)`", line)
        paths = [token for token in tokens if token.startswith("tinytorch/")]
        assert len(paths) == 1, f"a **Write** line names exactly one file: {line!r}"
        symbols = tokens[tokens.index(paths[0]) + 1 :]
        assert symbols, f"a **Write** line names at least one symbol: {line!r}"
        for symbol in symbols:
            assert (paths[0], symbol) in expected, (
                f"{lesson.parent.name}: {symbol} in {paths[0]} is not fenced by a "
                f"'# BEGIN SOLUTION {number:02d}' region"
            )


@pytest.mark.parametrize("lesson", LESSONS, ids=LESSON_IDS)
def test_lesson_names_every_ctx_attribute_a_later_backward_reads(lesson: Path) -> None:
    notes = markdown(lesson.read_text(encoding="utf-8"))
    unnamed = sorted(
        f"{op}: ctx.{name}"
        for op, names in later_backward_reads(module_number(lesson)).items()
        for name in names
        if not mentions(notes, f"ctx.{name}")
    )
    assert not unnamed, (
        f"{lesson.parent.name} does not name these ctx attributes that a later backward reads:\n"
        + "\n".join(unnamed)
    )


@pytest.fixture(scope="module")
def stub_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A learner's workspace with every exercise still a stub."""
    from tito.course.workspace import create_workspace

    root = tmp_path_factory.mktemp("lessons") / "ws"
    create_workspace(root)
    return root


@pytest.mark.parametrize("lesson", LESSONS, ids=LESSON_IDS)
def test_lesson_run_in_a_workspace_tests_the_learners_code(
    lesson: Path, stub_workspace: Path
) -> None:
    """``python modules/NN/lesson.py`` from a workspace of stubs stops on the first stub, even
    with the reference package importable (a clone installed with ``pip install -e .``)."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONDONTWRITEBYTECODE": "1"}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, str(lesson.relative_to(ROOT))],
        cwd=stub_workspace,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIME_LIMIT_S,
    )
    assert result.returncode != 0, f"{lesson.parent.name} passed on stubs:\n{result.stdout}"
    assert f"Testing the tinytorch of {stub_workspace.resolve()}" in result.stdout
    assert "NotImplementedError: Module" in result.stderr, result.stderr[-2000:]
