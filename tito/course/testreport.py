"""A pytest plugin that ties each test of a module run to the exercise regions ("pieces").

``tito module test/complete`` load it (``-p tito.course.testreport``) with two options:
``--tito-pieces FILE`` (JSON: the workspace's regions, from ``write_pieces``) and
``--tito-report FILE``, where it writes one JSON record per test::

    {"test": "tests/01_tensor/test_ops_forward.py::test_binary[add-shapes0]",
     "file": "tests/01_tensor/test_ops_forward.py", "outcome": "failed",
     "reached": [3], "failed_in": 3, "message": "NotImplementedError: Module 01 ...",
     "skip": null, "detail": "Traceback ..."}

``reached`` lists the pieces whose function the test called (``sys.setprofile``, active only
while a test runs); ``failed_in`` is the innermost
piece in the traceback of a failure, if any. ``tito.course.testsummary`` reads the records.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

import pytest

from tito.course.regions import Region

DETAIL_CHARS = 4000
DETAILED_FAILURES = 5  # the first failures carry their traceback


def write_pieces(path: Path, root: Path, regions: list[Region]) -> None:
    """Write the ``--tito-pieces`` file: ``regions`` (numbered from 1) with absolute paths."""
    pieces = [
        {
            "number": number,
            "module": region.module,
            "path": str((root / region.path).resolve()),
            "begin": region.begin,
            "end": region.end,
        }
        for number, region in enumerate(regions, start=1)
    ]
    path.write_text(json.dumps(pieces), encoding="utf-8")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tito")
    group.addoption("--tito-pieces", help="JSON file of the exercise regions to watch")
    group.addoption("--tito-report", help="file to write one JSON record per test into")


def pytest_configure(config: pytest.Config) -> None:
    pieces, report = config.getoption("--tito-pieces"), config.getoption("--tito-report")
    if pieces and report:
        config.pluginmanager.register(PieceTracker(Path(pieces), Path(report)), "tito-pieces")


class PieceTracker:
    """Records, per test, the pieces it reached, where it failed, and its outcome."""

    def __init__(self, pieces: Path, report: Path) -> None:
        self.pieces: list[dict[str, Any]] = json.loads(pieces.read_text(encoding="utf-8"))
        self.files = {piece["path"] for piece in self.pieces}
        self.report = report.open("w", encoding="utf-8")
        self.paths: dict[str, str | None] = {}
        self.watched: dict[CodeType, list[dict[str, Any]]] = {}
        self.reached: set[int] = set()
        self.records: dict[str, dict[str, Any]] = {}
        self.detailed = 0

    # ------------------------------------------------------------------ line tracing
    def _piece_file(self, filename: str) -> str | None:
        """The resolved path of ``filename`` if it holds a piece (cached)."""
        if filename not in self.paths:
            resolved = str(Path(filename).resolve())
            self.paths[filename] = resolved if resolved in self.files else None
        return self.paths[filename]

    def _pieces_in(self, code: CodeType, path: str) -> list[dict[str, Any]]:
        """The pieces with a line in ``code`` (cached per code object)."""
        if code not in self.watched:
            lines = {line for _, _, line in code.co_lines() if line}
            self.watched[code] = [
                piece
                for piece in self.pieces
                if piece["path"] == path
                and any(piece["begin"] < line < piece["end"] for line in lines)
            ]
        return self.watched[code]

    def _profile(self, frame: FrameType, event: str, arg: Any) -> None:
        """On each Python call, note the pieces of the called function."""
        if event != "call":
            return
        path = self._piece_file(frame.f_code.co_filename)
        if path:
            self.reached.update(piece["number"] for piece in self._pieces_in(frame.f_code, path))

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Any:
        self.reached = set()
        sys.setprofile(self._profile)
        try:
            yield
        finally:
            sys.setprofile(None)

    # ------------------------------------------------------------------ outcomes
    def _failed_in(self, call: pytest.CallInfo) -> int | None:
        """The innermost piece named in the failure's traceback."""
        found = None
        for entry in call.excinfo.traceback if call.excinfo else []:
            path, line = str(Path(entry.path).resolve()), entry.lineno + 1
            for piece in self.pieces:
                if piece["path"] == path and piece["begin"] < line < piece["end"]:
                    found = piece["number"]
        return found

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Any:
        outcome = yield
        report = outcome.get_result()
        record = self.records.setdefault(
            item.nodeid,
            {"test": item.nodeid, "file": item.nodeid.split("::")[0], "outcome": "passed"},
        )
        if call.when == "call":
            record["reached"] = sorted(self.reached)
        if report.failed and record["outcome"] != "failed":
            record["outcome"] = "failed"
            record["failed_in"] = self._failed_in(call)
            record["message"] = call.excinfo.exconly().splitlines()[0] if call.excinfo else ""
            if call.excinfo and self.detailed < DETAILED_FAILURES:
                self.detailed += 1
                record["detail"] = str(call.excinfo.getrepr(style="short"))[-DETAIL_CHARS:]
        elif report.skipped and record["outcome"] == "passed":
            record["outcome"] = "skipped"
            record["skip"] = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        record = self.records.pop(nodeid, None)
        if record is not None:
            self.report.write(json.dumps(record) + "\n")
            self.report.flush()

    def pytest_unconfigure(self) -> None:
        self.report.close()
