"""What ``tito module test`` prints after pytest: the run summarised by exercise and file.

A module's exercises are its regions in the workspace, in file and line order, numbered from
1 (``tito module start`` lists them so). Each test record (``tito.course.testreport``) names
the exercises the test reached and the one its failure happened in; a failure counts against
the exercise it happened in, or, where it happened outside every exercise (a wrong value
caught by an assertion), against every exercise of the module the test reached.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tito.course.manifest import Manifest, Module
from tito.course.regions import Region

DETAIL_LINES = 25
MISSING_PACKAGE = "could not import"
TEST_TOOLS = "python -m pip install -e '.[test,torch]'"


def read_records(path: Path) -> list[dict[str, Any]]:
    """The JSON records of a ``--tito-report`` file (none if it was never written)."""
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def missing_package_skips(records: list[dict[str, Any]]) -> int:
    """How many tests skipped because a package (PyTorch, hypothesis) is not installed."""
    return sum(1 for r in records if r["outcome"] == "skipped" and MISSING_PACKAGE in r["skip"])


@dataclass
class Piece:
    """One exercise of the run: its region, number, and the tests that judge it."""

    number: int
    region: Region
    reached: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.region.location} {self.region.symbol}"

    def named_in(self, module: Module, manifest: Manifest) -> str:
        """``exercise 3: path:line symbol``, or the other module's label for its region."""
        if self.region.module == module.number:
            return f"exercise {self.number}: {self.name}"
        return f"{manifest.module(self.region.module).label}: {self.name}"

    def verdict(self) -> str:
        """``ok``, ``not written yet``, ``FAILS``, or ``no test reached it``."""
        if self.failures:
            stub = all("NotImplementedError" in f["message"] for f in self.failures)
            return f"{'not written yet' if stub else 'FAILS'} ({_tests(len(self.failures))})"
        return f"ok ({_tests(self.reached)})" if self.reached else "no test reached it"


def _tests(count: int) -> str:
    return f"{count} test{'s' if count != 1 else ''}"


def _blamed(record: dict[str, Any], module: Module, regions: list[Region]) -> list[int]:
    """The pieces (1-based indices into ``regions``) a failing ``record`` counts against."""
    failed_in = record.get("failed_in")
    if failed_in is not None:
        return [failed_in]
    return [n for n in record.get("reached", []) if regions[n - 1].module == module.number]


def pieces_of(
    records: list[dict[str, Any]], module: Module, regions: list[Region]
) -> dict[int, Piece]:
    """Every region of the run as a ``Piece`` (by number), with its tests and failures."""
    pieces = {number: Piece(number, region) for number, region in enumerate(regions, start=1)}
    for record in records:
        for number in record.get("reached", []):
            pieces[number].reached += 1
        if record["outcome"] == "failed":
            for number in _blamed(record, module, regions):
                pieces[number].failures.append(record)
    return pieces


def _counts(records: list[dict[str, Any]]) -> str:
    counts = Counter(record["outcome"] for record in records)
    return ", ".join(f"{counts[o]} {o}" for o in ("passed", "failed", "skipped") if counts[o])


def _detail(record: dict[str, Any]) -> list[str]:
    lines = record.get("detail", "").rstrip().splitlines()
    return [f"    {line}" for line in lines[-DETAIL_LINES:]]


def summary(
    records: list[dict[str, Any]],
    module: Module,
    manifest: Manifest,
    regions: list[Region],
    exercise: int | None = None,
    failing_only: bool = False,
) -> tuple[list[str], bool]:
    """The lines to print and whether the run passes (for ``exercise`` alone, if given).

    ``failing_only`` lists only the exercises with failures (a run stopped at the first).

    ``regions`` are the workspace's regions of every module, those of ``module`` first (so
    that exercise N is ``regions[N - 1]``).
    """
    if exercise is not None:
        records = [record for record in records if exercise in record.get("reached", [])]
    pieces = pieces_of(records, module, regions)
    own = [piece for piece in pieces.values() if piece.region.module == module.number]
    if exercise is not None:  # the exercise, then those its tests fail in first
        own = [pieces[exercise]] + [p for p in own if p.failures and p.number != exercise]
    if failing_only:
        own = [piece for piece in own if piece.failures]
    lines = [f"{module.label}: {_counts(records) or 'no tests ran'}"]
    failed = [record for record in records if record["outcome"] == "failed"]
    lines.append("\nBy exercise (tito module test NN --exercise N tests one):")
    lines += [f"  {p.number:>3}  {p.name:<58} {p.verdict()}" for p in own]
    elsewhere = Counter(
        record["failed_in"]
        for record in failed
        if record.get("failed_in") and pieces[record["failed_in"]].region.module != module.number
    )
    for number, count in sorted(elsewhere.items()):
        lines.append(f"  {_tests(count)} fail in {pieces[number].named_in(module, manifest)}")
    by_file = {record["file"]: [] for record in records}
    for record in records:
        by_file[record["file"]].append(record)
    lines.append("\nBy test file:")
    lines += [f"  {name:<58} {_counts(group)}" for name, group in by_file.items()]
    if failed:
        first = failed[0]
        where = first.get("failed_in")
        piece = f" (in {pieces[where].named_in(module, manifest)})" if where else ""
        lines.append(f"\nFirst failure: {first['test']}{piece}")
        lines += _detail(first)
    if exercise is not None:
        passes = bool(records) and not pieces[exercise].failures
    else:
        passes = not failed
    return lines, passes
