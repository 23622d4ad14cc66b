"""Which modules a course offers: the instructor's integration models.

A course may offer every module (the full course), a range (``1-9``: half a semester;
``14-19``: the optimization tier) or any list (``1-3,7``). The modules it offers are the
learner's to write; the earlier modules they need (their prerequisites, followed back to
module 01) that the course does not offer arrive **filled** from the reference, so that a
learner who starts at profiling has a working framework. Later modules are not offered::

    >>> scope = course_scope(parse_modules("14-19", load_manifest()), load_manifest())
    >>> scope.offered, scope.filled[:3]
    ((14, 15, 16, 17, 18, 19), (1, 2, 3))

The scope of a workspace is ``.tito/course.json``; a workspace without one takes the full
course. A student release records its scope in ``modules/scope.json``, which ``tito init``
in the release reads, so its workspaces have the instructor's range.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tito.course.manifest import REPOSITORY, Manifest
from tito.course.progress import STATE_DIR, write_atomic

WORKSPACE_SCOPE = f"{STATE_DIR}/course.json"
RELEASE_SCOPE = "modules/scope.json"
RANGE_HELP = "a number (7), a range (1-9, 14-19) or a comma-separated list of both (1-3,7)"


class ScopeError(ValueError):
    """A module range that the course cannot offer; the message says what is allowed."""


@dataclass(frozen=True)
class Scope:
    """The modules a course offers (the learner writes them) and those filled from the
    reference (prerequisites of the offered ones that the course does not offer)."""

    offered: tuple[int, ...]
    filled: tuple[int, ...] = ()

    @property
    def label(self) -> str:
        """The offered modules written as ranges: ``"14-19"``, ``"1-3, 7"``."""
        return format_modules(self.offered)

    def to_json(self) -> dict[str, list[int]]:
        """The scope file's content."""
        return {"offered": list(self.offered), "filled": list(self.filled)}


def format_modules(numbers: tuple[int, ...] | list[int]) -> str:
    """Module numbers as ranges: ``[1, 2, 3, 7]`` -> ``"01-03, 07"``."""
    parts, numbers = [], sorted(numbers)
    start = previous = None
    for number in [*numbers, None]:
        if previous is not None and number == previous + 1:
            previous = number
            continue
        if start is not None:
            parts.append(f"{start:02d}" if start == previous else f"{start:02d}-{previous:02d}")
        start = previous = number
    return ", ".join(parts)


def _bound(text: str, whole: str, last: int) -> int:
    """One module number of a range; ``ScopeError`` unless it is one of 1..``last``."""
    if not text.strip().isdigit():
        raise ScopeError(f"{whole!r} is not a module range: write {RANGE_HELP}")
    number = int(text)
    if not 1 <= number <= last:
        raise ScopeError(f"no module {number} in {whole!r}: the course has modules 1-{last}")
    return number


def parse_modules(text: str, manifest: Manifest) -> tuple[int, ...]:
    """The module numbers of ``text`` (``"14-19"``, ``"1,2,5"``, ``"1-3,7"``), sorted.

    ``ScopeError`` names what is wrong and what is allowed: a number outside 1..N (``0``,
    ``25``), a reversed range (``5-3``), or anything that is not numbers and dashes.
    """
    last = len(manifest.modules)
    numbers: set[int] = set()
    for part in text.split(","):
        first, dash, final = part.partition("-")
        low = _bound(first, text, last)
        high = _bound(final, text, last) if dash else low
        if high < low:
            raise ScopeError(
                f"{part.strip()!r} runs backwards: write the lower module first ({high}-{low})"
            )
        numbers.update(range(low, high + 1))
    return tuple(sorted(numbers))


def prerequisites_of(numbers: tuple[int, ...], manifest: Manifest) -> set[int]:
    """Every module that ``numbers`` need, directly or through another module."""
    needed: set[int] = set()
    waiting = [p for number in numbers for p in manifest.module(number).prerequisites]
    while waiting:
        number = waiting.pop()
        if number not in needed:
            needed.add(number)
            waiting.extend(manifest.module(number).prerequisites)
    return needed


def course_scope(offered: tuple[int, ...], manifest: Manifest) -> Scope:
    """The scope offering ``offered``: their prerequisites outside it come filled."""
    filled = prerequisites_of(offered, manifest) - set(offered)
    return Scope(tuple(sorted(offered)), tuple(sorted(filled)))


def full_scope(manifest: Manifest) -> Scope:
    """The full course: every module offered, none filled."""
    return Scope(tuple(module.number for module in manifest.modules))


def _read(path: Path, manifest: Manifest) -> Scope:
    """The scope in ``path``; ``ScopeError`` if it is not one this course can offer."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        offered = tuple(int(number) for number in data["offered"])
        text = ",".join(str(number) for number in offered)
        scope = course_scope(parse_modules(text, manifest), manifest)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ScopeError(f"{path} is not a course scope tito can read: {error}") from error
    if set(data.get("filled", [])) != set(scope.filled):
        raise ScopeError(f"{path}: its filled modules are not the prerequisites of its range")
    return scope


def default_scope(manifest: Manifest, source_root: Path = REPOSITORY) -> Scope:
    """The scope of the course at ``source_root``: a release's ``modules/scope.json``, else
    the full course."""
    path = source_root / RELEASE_SCOPE
    return _read(path, manifest) if path.is_file() else full_scope(manifest)


def workspace_scope(root: Path, manifest: Manifest) -> Scope:
    """The scope of the workspace at ``root`` (the full course where it has none).

    ``ScopeError`` where ``.tito/course.json`` is unreadable: guessing could hand a learner
    modules the instructor did not offer, so the message says how to repair it.
    """
    path = root / WORKSPACE_SCOPE
    return _read(path, manifest) if path.is_file() else full_scope(manifest)


def save_scope(path: Path, scope: Scope) -> None:
    """Write a scope file atomically (``.tito/course.json`` or a release's ``scope.json``)."""
    write_atomic(path, json.dumps(scope.to_json(), indent=2) + "\n")
