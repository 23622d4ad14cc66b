"""Grading a learner's submission against every test of the course, hidden ones included.

A submission is a workspace (``tinytorch/`` and ``.tito/progress.json``). Only its package is
used: it is copied into a fresh scratch folder beside a copy of the course's own tests (never
the learner's copies), and each module's tests run there in a sealed child process
(``tito/course/grade_runner.py``, see its docstring), which the submission cannot reach from
outside and whose verdicts the grader reads from a pipe, never from files the graded code could
rewrite:

- the test ids come from a collection with the course's reference package, so a test that
  the submission hides, deselects or crashes counts as failed (``not run``);
- the child runs as ``python -I -B`` (no ``PYTHONPATH``, user site or startup file) with a
  scrubbed environment, under CPU, memory and file-size limits, as user ``nobody`` when the
  grader is root, and inside new network, PID and mount namespaces where ``unshare`` works:
  no network, the course's ``tests/`` and ``tinytorch/`` and the submission covered by empty
  mounts;
- a test phase that runs too long fails; a process that hangs or dies is killed and started
  again on the tests not yet judged, the one it was running counting as failed;
- the scratch folder, with its copy of the hidden tests, is deleted afterwards.

Each test case is worth one point when it passes; a skipped one counts neither way::

    grades = grade_submission(Path("alice"), [1, 2])
    write_gradebook(Path("grades/alice"), grades)   # gradebook.csv and gradebook.json
"""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tito.course.edition import PACKAGE, SKIPPED
from tito.course.manifest import REPOSITORY, Manifest, Module, load_manifest
from tito.course.progress import PROGRESS_FILE, Progress, write_atomic
from tito.course.workspace import copy_tests, pytest_command, write_pytest_ini

# The child's program, copied into the scratch folder. Not imported here: it imports pytest,
# which `tito` must not need for anything but running tests.
RUNNER_SOURCE = Path(__file__).with_name("grade_runner.py")
TOKEN_VARIABLE = "TITO_GRADE_TOKEN"  # grade_runner.TOKEN_VARIABLE: the run's token, for the child
CSV_FIELDS = ("module", "test", "outcome", "points", "possible")
NOBODY = 65534  # the unprivileged user graded code runs as when the grader is root
UNSHARE_FLAGS = ("--net", "--pid", "--fork", "--kill-child", "--mount")
SHARED_TEMP = ("/tmp", "/var/tmp", "/dev/shm")  # made private to a run where Python is not there
COLLECT_SECONDS = 300  # the longest a child may take to import and collect the tests
MAX_LINE = 1 << 16  # a longer line on the channel is dropped
RUNNER, LOG, SKIP = "runner.py", "child.log", "skip.json"
OUTCOMES = {"passed", "failed", "skipped", "not run", "tampered", "timed out", "crashed"}
PASS_THROUGH = ("LANG", "LC_ALL", "OPENBLAS_", "OMP_", "MKL_")  # kept in the child's environment


class GradingError(RuntimeError):
    """The course's own tests cannot run in the grading sandbox (not the learner's fault)."""


@dataclass(frozen=True)
class Limits:
    """Limits of a module's grading run: seconds per test phase and per module, memory (address
    space) and the largest file the graded code may write, in MiB, and how long a child that
    ignores a test's time limit is given before it is killed."""

    test_seconds: float = 60
    module_seconds: int = 1800
    memory_mb: int = 4096
    file_mb: int = 256
    grace_seconds: float = 15  # after a test's own limit, before the child is killed


@dataclass(frozen=True)
class Sandbox:
    """How this machine isolates graded code: the ``unshare`` prefix (empty where it does not
    work), the user to run as (root only), the paths to cover with empty mounts, those that
    user must reach (Python and its packages) and the shared temporary folders to make
    private."""

    prefix: tuple[str, ...]
    user: str | None
    hide: tuple[str, ...]
    expose: tuple[str, ...] = ()
    private_temp: tuple[str, ...] = ()

    def describe(self) -> dict[str, str]:
        """What isolation a grading run has, in words, for the gradebook."""
        return {
            "process": "python -I -B in a scratch copy, scrubbed environment, verdicts on a pipe",
            "network": "off (own network namespace)" if self.prefix else "ON: unshare unavailable",
            "user": f"uid {self.user}" if self.user else "the grader's own (run as root to drop)",
            "limits": "CPU time, address space, file size; per-test and per-module time",
            "files": f"private {', '.join(self.private_temp) or 'none'}; shared: the rest",
        }


@dataclass(frozen=True)
class CaseResult:
    """One test case: its id, its outcome (``passed``, ``failed``, ``skipped``, ``not run``,
    ``timed out``, ``crashed``, ``tampered``) and its points."""

    test: str
    outcome: str
    points: int
    possible: int


@dataclass
class ModuleGrade:
    """A module's grade; ``status`` is ``graded`` (with a note on tampering), ``not graded``
    or the reason it could not be graded. ``tampering`` (for the instructor, never written
    to the gradebook) names what the graded code altered in pytest."""

    number: int
    title: str
    status: str
    tests: list[CaseResult] = field(default_factory=list)
    isolation: dict[str, object] = field(default_factory=dict)
    tampering: list[str] = field(default_factory=list)

    @property
    def points(self) -> int:
        """Points earned: the passed tests."""
        return sum(result.points for result in self.tests)

    @property
    def possible(self) -> int:
        """Points possible: the tests that ran (not skipped)."""
        return sum(result.possible for result in self.tests)

    def to_json(self) -> dict:
        """The module's grade as a JSON-ready dict."""
        record = {**asdict(self), "points": self.points, "possible": self.possible}
        del record["tampering"]
        return record


def completed_modules(submission: Path) -> tuple[set[int], str | None]:
    """The modules the submission's progress marks complete, and a warning if unreadable.

    Read-only: unlike ``load_progress`` it never repairs the learner's file.
    """
    path = submission / PROGRESS_FILE
    try:
        return set(Progress.from_json(json.loads(path.read_text(encoding="utf-8"))).completed), None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        return set(), f"cannot read {path} ({error}); no module counts as completed"


def case_result(test: str, outcome: str) -> CaseResult:
    """One point for a pass; a skip counts neither way; anything else is worth nothing."""
    return CaseResult(test, outcome, int(outcome == "passed"), int(outcome != "skipped"))


def detect_sandbox(submission: Path) -> Sandbox:
    """The isolation this machine allows: ``unshare`` if it works here, ``nobody`` if root.

    Paths are covered only where Python itself does not live under them.
    """
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    user = f"{NOBODY}:{NOBODY}" if root else None
    flags = UNSHARE_FLAGS if root else ("--user", "--map-root-user", *UNSHARE_FLAGS)
    unshare = shutil.which("unshare")
    probe = [unshare, *flags, "true"] if unshare else None
    if probe is None or subprocess.run(probe, capture_output=True, check=False).returncode:
        return Sandbox((), user, ())
    pythons = {Path(prefix).resolve() for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    secret = (REPOSITORY / "tests", REPOSITORY / PACKAGE, submission.resolve())
    hide = tuple(
        str(path)
        for path in secret
        if path.is_dir() and not any(python.is_relative_to(path) for python in pythons)
    )
    expose = tuple(sorted({str(python) for python in pythons}))
    temp = tuple(
        folder
        for folder in SHARED_TEMP
        if os.path.isdir(folder) and not any(p.is_relative_to(folder) for p in pythons)
    )
    return Sandbox((unshare, *flags), user, hide, expose, temp)


def _make_readable(folder: Path) -> None:
    """Folders 0755 and files 0644 under ``folder``: readable, not writable, by the child."""
    folder.chmod(0o755)
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def lay_out(target: Path, package: Path, manifest: Manifest) -> None:
    """``target``: ``package`` copied as ``tinytorch/`` beside every test of the course."""
    shutil.copytree(package, target / PACKAGE, ignore=SKIPPED, symlinks=True)  # links stay links
    copy_tests(target, manifest, REPOSITORY, hidden=True)
    write_pytest_ini(target)
    _make_readable(target)


def prepare(base: Path, submission: Path, manifest: Manifest, sandbox: Sandbox) -> None:
    """The scratch folder: the runner, the reference and the graded copies, a home."""
    base.chmod(0o711)
    shutil.copy2(RUNNER_SOURCE, base / RUNNER)
    (base / RUNNER).chmod(0o644)
    lay_out(base / "reference", REPOSITORY / PACKAGE, manifest)
    lay_out(base / "graded", submission / PACKAGE, manifest)
    home = base / "home"
    home.mkdir(mode=0o700)
    if sandbox.user:
        uid, gid = (int(part) for part in sandbox.user.split(":"))
        os.chown(home, uid, gid)


def child_env(base: Path, token: str) -> dict[str, str]:
    """The child's whole environment: no variable of the grader's but locale and BLAS ones."""
    env = {name: value for name, value in os.environ.items() if name.startswith(PASS_THROUGH)}
    home = str(base / "home")
    env.update(PATH=os.defpath, HOME=home, TMPDIR=home, HYPOTHESIS_STORAGE_DIRECTORY=home)
    env[TOKEN_VARIABLE] = token
    return env


def _parse(line: bytes, token: str) -> dict | None:
    """One event of the channel, or ``None`` for a line without the run's token."""
    try:
        event = json.loads(line)
    except ValueError:
        return None
    if not isinstance(event, dict) or event.get("token") != token:
        return None
    return event


def _read(fd: int, token: str, limits: Limits, deadline: float) -> Iterator[dict]:
    """The events of a running child; ``killed`` once it is silent for too long (collecting,
    or running one test), ``exited`` when its channel closes."""
    buffer, collecting, last = b"", True, time.monotonic()
    while True:
        limit = COLLECT_SECONDS if collecting else 3 * limits.test_seconds + limits.grace_seconds
        wait = min(last + limit, deadline) - time.monotonic()
        if wait <= 0:
            yield {"e": "killed"}
            return
        if not select.select([fd], [], [], wait)[0]:
            continue
        chunk = os.read(fd, MAX_LINE)
        if not chunk:
            yield {"e": "exited"}
            return
        *lines, buffer = (buffer + chunk).split(b"\n")
        buffer = buffer if len(buffer) < MAX_LINE else b""
        for event in filter(None, (_parse(line, token) for line in lines)):
            last, collecting = time.monotonic(), collecting and event["e"] != "ready"
            yield event
            if event["e"] == "done":
                return


def events(
    base: Path,
    folder: str,
    args: list[str],
    sandbox: Sandbox,
    limits: Limits,
    deadline: float,
    skip: Iterable[str] = (),
    collect: bool = False,
) -> Iterator[dict]:
    """Run the runner on ``base/folder`` and yield its events; the child is killed at the end."""
    token = secrets.token_hex(16)
    (base / SKIP).write_text(json.dumps(sorted(skip)), encoding="utf-8")
    (base / SKIP).chmod(0o644)
    read_fd, write_fd = os.pipe()
    command = [*sandbox.prefix, sys.executable, "-I", "-B", str(base / RUNNER)]
    command += ["--channel", str(write_fd), "--package", str(base / folder / PACKAGE)]
    command += [f"--hide={path}" for path in sandbox.hide]
    command += [f"--private-temp={folder}" for folder in sandbox.private_temp]
    command += [f"--scratch={base}"]
    if sandbox.user:
        command += [f"--user={sandbox.user}", *(f"--expose={path}" for path in sandbox.expose)]
    command += [f"--test-seconds={limits.test_seconds}", f"--cpu-seconds={limits.module_seconds}"]
    command += [f"--memory-mb={limits.memory_mb}", f"--file-mb={limits.file_mb}"]
    command += [f"--skip={base / SKIP}", *(["--collect"] if collect else []), "--", *args]
    with open(base / LOG, "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=base / folder,
            env=child_env(base, token),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            pass_fds=(write_fd,),
            start_new_session=True,
        )
    os.close(write_fd)
    try:
        yield from _read(read_fd, token, limits, deadline)
    finally:
        os.close(read_fd)
        try:  # the whole process group: the child and anything it started
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


def _log_tail(base: Path) -> str:
    """The end of the child's output, for a message about the course's own tests."""
    return (base / LOG).read_text(encoding="utf-8", errors="replace")[-2000:]


def collect(base: Path, args: list[str], sandbox: Sandbox, limits: Limits) -> list[str]:
    """The ids of the tests that ``args`` selects, collected with the reference package."""
    found, errors, finished = [], [], False
    deadline = time.monotonic() + limits.module_seconds
    for event in events(base, "reference", args + ["--collect-only"], sandbox, limits, deadline,
                        collect=True):  # fmt: skip
        if event["e"] == "collected" and isinstance(event.get("id"), str):
            found.append(event["id"])
        elif event["e"] == "collect-error":
            errors.append(str(event.get("id")))
        finished = finished or event["e"] == "done"
    if errors or not finished:
        problem = f"errors in {errors[:3]}" if errors else "the run did not finish"
        raise GradingError(
            f"the course's tests do not collect in the grading sandbox ({problem}):\n"
            + _log_tail(base)
        )
    return found


def judge(
    base: Path, args: list[str], expected: list[str], sandbox: Sandbox, limits: Limits
) -> tuple[dict[str, str], dict, list[str]]:
    """Run the graded copy until every expected test has an outcome, restarting a child that
    hangs or dies; the outcomes, the isolation the first child reported, and any tampering."""
    wanted, outcomes = set(expected), {}
    isolation: dict = {}
    tampering: list[str] = []
    deadline = time.monotonic() + limits.module_seconds
    while len(outcomes) < len(wanted) and time.monotonic() < deadline:
        judged, current, ending = len(outcomes), None, "exited"
        for event in events(base, "graded", args, sandbox, limits, deadline, skip=outcomes):
            kind, test = event["e"], event.get("id")
            if kind == "isolation" and not isolation:
                keys = ("uid", "hidden", "not_hidden", "private_temp")
                isolation = {key: event.get(key) for key in keys}
            elif kind == "start":
                current = test
            elif kind == "end" and test in wanted and test not in outcomes:
                outcome = event.get("outcome")
                outcomes[test] = outcome if outcome in OUTCOMES else "failed"
                current = None
            elif kind in ("killed", "exited", "done"):
                ending = kind
                tampering += [str(name)[:100] for name in event.get("repaired", [])[:20]]
        if current in wanted and current not in outcomes:
            outcomes[current] = "timed out" if ending == "killed" else "crashed"
        if ending == "done" or len(outcomes) == judged:
            break
    return outcomes, isolation, tampering


def grade_module(
    base: Path, module: Module, manifest: Manifest, sandbox: Sandbox, limits: Limits
) -> ModuleGrade:
    """Grade ``module`` in the prepared scratch folder ``base``."""
    command = pytest_command(base / "graded", [module], module.number, manifest)
    args = command[command.index("pytest") + 1 :] + ["--continue-on-collection-errors"]
    expected = collect(base, args, sandbox, limits)
    outcomes, isolation, tampering = judge(base, args, expected, sandbox, limits)
    status = "graded"
    if "tampered" in outcomes.values():
        status = "graded; pytest was altered while tests ran: those tests fail"
    elif tampering:
        status = "graded; the graded code altered pytest, which was put back (no effect)"
    grade = ModuleGrade(module.number, module.title, status, tampering=tampering)
    grade.tests = [case_result(test, outcomes.get(test, "not run")) for test in expected]
    grade.isolation = {**sandbox.describe(), **isolation}
    return grade


def gradable(manifest: Manifest) -> list[Module]:
    """The modules that have tests in the course."""
    return [module for module in manifest.modules if (REPOSITORY / module.tests_dir).is_dir()]


def grade_submission(
    submission: Path,
    selected: Iterable[int],
    manifest: Manifest | None = None,
    limits: Limits | None = None,
    course: Iterable[int] | None = None,
) -> list[ModuleGrade]:
    """Grade the ``selected`` modules of ``submission``; every other module scores zero.

    The grades cover the modules of ``course`` (default: every module) that have tests.
    ``GradingError`` where the course's own tests cannot run in the sandbox.
    """
    manifest, limits = manifest or load_manifest(), limits or Limits()
    chosen = set(selected)
    covered = None if course is None else set(course)
    sandbox = detect_sandbox(submission)
    with tempfile.TemporaryDirectory(prefix="tito-grade-") as folder:
        base = Path(folder)
        prepare(base, submission, manifest, sandbox)
        return [
            grade_module(base, module, manifest, sandbox, limits)
            if module.number in chosen
            else ModuleGrade(module.number, module.title, "not graded")
            for module in gradable(manifest)
            if covered is None or module.number in covered
        ]


def gradebook(submission: Path, grades: list[ModuleGrade]) -> dict:
    """The JSON gradebook: per module (per test), and the total."""
    return {
        "submission": str(submission),
        "modules": [grade.to_json() for grade in grades],
        "points": sum(grade.points for grade in grades),
        "possible": sum(grade.possible for grade in grades),
    }


def gradebook_csv(grades: list[ModuleGrade]) -> str:
    """One row per test, then one ``(module total)`` row per module and a ``(total)`` row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for grade in grades:
        for result in grade.tests:
            row = (result.test, result.outcome, result.points, result.possible)
            writer.writerow((grade.number, *row))
        writer.writerow(
            (grade.number, "(module total)", grade.status, grade.points, grade.possible)
        )
    total = (sum(g.points for g in grades), sum(g.possible for g in grades))
    writer.writerow(("", "(total)", "", *total))
    return buffer.getvalue()


def write_gradebook(out: Path, submission: Path, grades: list[ModuleGrade]) -> tuple[Path, Path]:
    """Write ``out/gradebook.csv`` and ``out/gradebook.json`` atomically; return both paths."""
    paths = (out / "gradebook.csv", out / "gradebook.json")
    write_atomic(paths[0], gradebook_csv(grades))
    write_atomic(paths[1], json.dumps(gradebook(submission, grades), indent=2) + "\n")
    return paths
