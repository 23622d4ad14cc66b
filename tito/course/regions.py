"""Exercise regions: the code a learner writes, fenced in the package by its module's tag.

One syntax (see docs/developing.md), each marker alone on its line::

    # BEGIN SOLUTION 02
    ...reference code...
    # END SOLUTION

    # BEGIN SOLUTION 05 | stub: return output

Parsing is strict: an unclosed, nested, stray or mis-indented marker raises ``RegionError``
naming the file and line, so a broken region never reaches a learner.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BEGIN = re.compile(r"^(?P<indent>[ ]*)# BEGIN SOLUTION (?P<tag>\d\d)(?: \| stub: (?P<stub>\S.*))?$")
END = re.compile(r"^(?P<indent>[ ]*)# END SOLUTION$")
MARKER_WORDS = ("BEGIN SOLUTION", "END SOLUTION")


class RegionError(ValueError):
    """A region marker is malformed, unclosed, nested or mismatched."""


@dataclass(frozen=True)
class Region:
    """One fenced region: lines ``begin`` and ``end`` (1-based) are its two markers."""

    path: str
    module: int
    begin: int
    end: int
    indent: str
    stub: str | None
    symbol: str

    @property
    def location(self) -> str:
        """``path:line`` of the BEGIN marker."""
        return f"{self.path}:{self.begin}"


def _qualified_names(source: str) -> list[tuple[int, int, str]]:
    """(first line, last line, qualified name) of every function and class, outer first."""
    spans: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                spans.append((child.lineno, child.end_lineno or child.lineno, name))
                visit(child, f"{name}.")
            else:
                visit(child, prefix)

    try:
        visit(ast.parse(source), "")
    except SyntaxError:  # a learner's unfinished file: regions still parse, symbols degrade
        return []
    return spans


def _symbol(spans: list[tuple[int, int, str]], line: int, path: str) -> str:
    """The innermost function or class around ``line``, else the file's module path."""
    around = [name for first, last, name in spans if first <= line <= last]
    if around:
        return around[-1]
    return path.removesuffix(".py").replace("/", ".")


def _markers(lines: list[str], path: str) -> Iterator[tuple[int, re.Match[str], bool]]:
    """(line number, match, is_begin) for every marker line; raise on a malformed one."""
    for number, line in enumerate(lines, start=1):
        text = line.rstrip()
        if not any(word in text for word in MARKER_WORDS):
            continue
        begin, end = BEGIN.match(text), END.match(text)
        if begin:
            yield number, begin, True
        elif end:
            yield number, end, False
        elif text.lstrip().startswith("#"):
            raise RegionError(f"{path}:{number}: malformed region marker: {text.strip()!r}")


def parse_regions(source: str, path: str) -> list[Region]:
    """Every region of one file's ``source``, in order; ``path`` is used in messages."""
    lines = source.splitlines()
    spans = _qualified_names(source)
    regions: list[Region] = []
    opened: tuple[int, re.Match[str]] | None = None
    for number, match, is_begin in _markers(lines, path):
        if is_begin and opened:
            raise RegionError(f"{path}:{number}: region nested in the one opened at {opened[0]}")
        if is_begin:
            opened = (number, match)
            continue
        if opened is None:
            raise RegionError(f"{path}:{number}: END SOLUTION without BEGIN SOLUTION")
        start, begin = opened
        if match["indent"] != begin["indent"]:
            raise RegionError(f"{path}:{number}: END indented unlike its BEGIN at line {start}")
        if number == start + 1:
            raise RegionError(f"{path}:{start}: empty region")
        regions.append(
            Region(
                path=path,
                module=int(begin["tag"]),
                begin=start,
                end=number,
                indent=begin["indent"],
                stub=begin["stub"],
                symbol=_symbol(spans, start, path),
            )
        )
        opened = None
    if opened:
        raise RegionError(f"{path}:{opened[0]}: region never closed (no END SOLUTION)")
    return regions


def package_regions(root: Path, package: str = "tinytorch") -> dict[str, list[Region]]:
    """The regions of every ``.py`` file under ``root/package`` that has any, by path."""
    found: dict[str, list[Region]] = {}
    for file in sorted((root / package).rglob("*.py")):
        path = file.relative_to(root).as_posix()
        source = file.read_text(encoding="utf-8")
        if any(word in source for word in MARKER_WORDS):
            regions = parse_regions(source, path)
            if regions:
                found[path] = regions
    return found


def module_regions(root: Path, number: int, package: str = "tinytorch") -> list[Region]:
    """The regions of module ``number`` under ``root/package``, in file and line order: the
    exercises 1, 2, ... of the module, as ``tito module start`` numbers them."""
    return [
        region
        for regions in package_regions(root, package).values()
        for region in regions
        if region.module == number
    ]
