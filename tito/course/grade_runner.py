"""The graded process of ``tito grade``: it seals itself, runs pytest and reports every test.

``tito.course.grading`` copies this file beside the tests of a grading run and starts it as
``python -I -B grade_runner.py OPTIONS -- PYTEST_ARGS``, inside ``unshare`` (new network, PID
and mount namespaces) where the system allows. Before any graded code is imported it

1. covers the course's secrets and the submission with empty read-only mounts (``--hide``),
   gives the run private ``/tmp``, ``/var/tmp`` and ``/dev/shm``, lets the unprivileged user
   reach Python where a folder such as ``/root`` blocks it (``--expose``), sets resource
   limits (CPU time, address space, file size, no core file) and drops to that user
   (``--user``);
2. takes a snapshot of every function and class of pytest, pluggy and the Hypothesis plugin
   (the only plugin loaded: the runner turns off the automatic loading of installed ones,
   whose hooks would otherwise count as foreign);
3. runs pytest with ``Referee``, a plugin that decides each test's outcome itself, from the
   exceptions raised through its own wrappers of the setup, call and teardown hooks, and
   writes one JSON line per event, carrying a per-run token, to the pipe ``--channel`` that
   the grader opened. Pytest's reports, JUnit XML and terminal output are never read.

Whatever the graded code changed in pytest while it was imported (a function or class
replaced, a foreign hook wrapped around the tests) is put back before the first test runs and
reported, so it changes no outcome. A test passes only if its setup, call and teardown all ran
through these wrappers without an exception, and at its end pytest is still the pytest of the
snapshot; a change made while a test ran fails that test (``tampered``) and is put back before
the next one. A skip raised from the submission's code is a failure. Each phase stops after
``--test-seconds`` (SIGALRM); the grader kills a process that ignores it. Standard library and
pytest only: this file runs without ``tito``.

Events (``e``): ``isolation``, ``collected`` (``--collect``: one per test ``id``),
``collect-error``, ``ready`` (the number ``n`` of tests to run), ``start``, ``end`` (with
``outcome``), ``done``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _pytest.outcomes import Skipped, XFailed

TOKEN_VARIABLE = "TITO_GRADE_TOKEN"
SNAPSHOT_ROOTS = ("_pytest", "pytest", "pluggy", "_hypothesis_pytestplugin")
GUARDED_HOOKS = (
    "pytest_runtest_protocol",
    "pytest_runtest_setup",
    "pytest_runtest_call",
    "pytest_runtest_teardown",
    "pytest_pyfunc_call",
)
# Pytest's reporting: replacing it cannot change an outcome here, so a test that does it is
# not failed for it (it is put back and reported all the same).
REPORTING_MODULES = ("_pytest.reports", "_pytest.junitxml", "_pytest.terminal")
REPORTING = {"_pytest.runner.pytest_runtest_makereport", "_pytest.runner.call_and_report"}
# Module globals that pytest itself rebinds while a test runs.
DYNAMIC_GLOBALS = {
    ("_pytest.assertion.util", name) for name in ("_reprcompare", "_config", "_assertion_pass")
}
PHASES = {"setup", "call", "teardown"}


Entry = tuple[str, Any, str, Any]  # qualified name, owner (module or class), key, object


class TimeLimitError(Exception):
    """A test phase ran longer than ``--test-seconds``."""


class Channel:
    """JSON lines to the grader's pipe, each carrying the run's token."""

    def __init__(self, fd: int, token: str) -> None:
        self.fd, self.token = fd, token
        self.write, self.dumps = os.write, json.dumps  # bound now, before any graded import

    def send(self, event: str, **fields: Any) -> None:
        line = self.dumps({"token": self.token, "e": event, **fields}) + "\n"
        data = line.encode("utf-8")
        while data:
            data = data[self.write(self.fd, data) :]


def set_limit(kind: int, value: int) -> None:
    """Set soft and hard limit ``kind`` to ``value`` (or to the hard limit, if lower)."""
    hard = resource.getrlimit(kind)[1]
    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(kind, (value, value))


def mount(*args: str, keep: tuple[int, ...] = ()) -> bool:
    """Run ``mount ARGS`` (in the run's own mount namespace), passing it the file descriptors
    ``keep``; whether it worked."""
    done = subprocess.run(["mount", *args], pass_fds=keep, capture_output=True, check=False)
    return done.returncode == 0


def private_temp_folders(folders: list[str], scratch: Path) -> list[str]:
    """Cover the shared writable ``folders`` with private, size-limited ones, so that nothing
    the graded code leaves there outlives the run; ``scratch`` (often in ``/tmp``) is bound
    back at its place through a descriptor opened before. The folders covered."""
    keep = os.open(scratch, os.O_RDONLY | os.O_DIRECTORY)
    covered = []
    for folder in map(Path, folders):
        if not mount("-t", "tmpfs", "-o", "mode=1777,size=64m", "tito-tmp", str(folder)):
            continue
        covered.append(str(folder))
        if scratch.is_relative_to(folder):
            scratch.mkdir(mode=0o711, parents=True)
            source = f"/proc/self/fd/{keep}"  # not resolved to a path: that is covered now
            mount("--no-canonicalize", "--bind", source, str(scratch), keep=(keep,))
    os.close(keep)
    return covered


def blocking_folder(path: Path) -> Path | None:
    """The highest folder above ``path`` that other users may not enter (``/root``, 0700)."""
    for folder in reversed(path.parents):
        if os.path.isdir(folder) and not folder.stat().st_mode & stat.S_IXOTH:
            return folder
    return None


def expose(paths: list[str], scratch: Path) -> None:
    """Let the unprivileged user reach ``paths`` (Python, its packages) where a folder above
    blocks it: that folder is covered by an empty one that others may enter, holding only the
    entries that lead to ``paths``, bound to the originals (kept under ``scratch``, 0700)."""
    entries: dict[Path, set[str]] = {}
    for path in map(Path, paths):
        blocked = blocking_folder(path)
        if blocked is not None:
            entries.setdefault(blocked, set()).add(path.relative_to(blocked).parts[0])
    for index, (blocked, names) in enumerate(sorted(entries.items())):
        original = scratch / f"exposed-{index}"
        original.mkdir(mode=0o700, exist_ok=True)
        mount("--bind", str(blocked), str(original))
        mount("-t", "tmpfs", "-o", "mode=0711,size=64k", "tito-exposed", str(blocked))
        for name in sorted(names):
            (blocked / name).mkdir()
            mount("--bind", str(original / name), str(blocked / name))


def seal(options: argparse.Namespace) -> dict[str, Any]:
    """Hide paths, set limits, drop privileges; what was done, for the gradebook."""
    if options.user and options.expose:
        expose(options.expose, Path(options.scratch))
    hidden, not_hidden = [], []
    for path in options.hide:
        done = mount("-t", "tmpfs", "-o", "ro,size=4k,mode=0", "tito-hidden", path)
        (hidden if done else not_hidden).append(path)
    temp = private_temp_folders(options.private_temp, Path(options.scratch))
    set_limit(resource.RLIMIT_CPU, options.cpu_seconds)
    set_limit(resource.RLIMIT_AS, options.memory_mb << 20)
    set_limit(resource.RLIMIT_FSIZE, options.file_mb << 20)
    set_limit(resource.RLIMIT_CORE, 0)
    if options.user:
        uid, gid = (int(part) for part in options.user.split(":"))
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    os.umask(0o077)
    return {"hidden": hidden, "not_hidden": not_hidden, "private_temp": temp, "uid": os.getuid()}


def is_code(value: Any) -> bool:
    """Functions, classes and method descriptors: what a patch would replace."""
    return callable(value) or isinstance(value, (property, staticmethod, classmethod))


def snapshot() -> list[Entry]:
    """Every function and class of pytest, pluggy and the Hypothesis plugin, and the methods
    of those classes, each with the module or class that holds it."""
    entries: list[Entry] = []
    for module_name, module in list(sys.modules.items()):
        if module is None or module_name.split(".")[0] not in SNAPSHOT_ROOTS:
            continue
        for name, value in list(vars(module).items()):
            if (module_name, name) in DYNAMIC_GLOBALS or not is_code(value):
                continue
            entries.append((f"{module_name}.{name}", module, name, value))
            if isinstance(value, type) and value.__module__ == module_name:
                entries += [(f"{module_name}.{name}.{member}", value, member, item)
                            for member, item in vars(value).items() if is_code(item)]  # fmt: skip
    return entries


def changed(before: list[Entry]) -> list[str]:
    """The snapshot entries that are gone or no longer the same objects. (Attributes pytest
    adds while it configures itself are new entries, not changes.)"""
    return [name for name, owner, key, value in before if vars(owner).get(key) is not value]


def restore(before: list[Entry]) -> list[str]:
    """Put back every snapshot entry that is gone or was replaced; the names put back. (One
    that cannot be set again stays changed, and ``changed`` still finds it.)"""
    restored = []
    for name, owner, key, value in before:
        if vars(owner).get(key) is not value:
            try:
                setattr(owner, key, value)
            except (AttributeError, TypeError):
                continue
            restored.append(name)
    return restored


def is_reporting(name: str) -> bool:
    """Whether ``name`` (``module.attribute``) belongs to pytest's reporting only."""
    return name in REPORTING or name.startswith(tuple(f"{m}." for m in REPORTING_MODULES))


class Referee:
    """The pytest plugin that decides and reports each test's outcome."""

    def __init__(self, channel: Channel, options: argparse.Namespace) -> None:
        self.channel, self.collect_only = channel, options.collect
        self.package = Path(options.package).resolve()
        self.seconds = options.test_seconds
        self.skip = set(json.loads(Path(options.skip).read_text())) if options.skip else set()
        self.skips = (Skipped, XFailed)
        self.before = snapshot()
        self.known = {id(entry[-1]) for entry in self.before}
        self.phases: dict[str, set[str]] = {}
        self.outcomes: dict[str, str] = {}
        self.repaired: list[str] = []  # what the graded code changed in pytest, put back

    def pytest_load_initial_conftests(self, early_config: Any) -> None:
        """The snapshot, taken after pytest has set itself up (its ``tryfirst`` hooks) and
        before the first conftest, and so the graded package, is imported (``trylast``)."""
        self.before = snapshot()
        self.known = {id(entry[-1]) for entry in self.before}

    # Collection: the test ids (``--collect``), or how many tests will run.
    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            self.channel.send("collect-error", id=report.nodeid)

    @pytest.hookimpl(trylast=True)  # after pytest's own selection (-m, -k, deselect)
    def pytest_collection_modifyitems(self, config: Any, items: list[Any]) -> None:
        self._repair(config.pluginmanager)  # the graded package has been imported by now
        items[:] = [item for item in items if item.nodeid not in self.skip]
        if self.collect_only:
            for item in items:
                self.channel.send("collected", id=item.nodeid)
        else:
            self.channel.send("ready", n=len(items))

    # The run of one test.
    def _alarm(self, signum: int, frame: Any) -> None:
        raise TimeLimitError(f"this test phase ran longer than {self.seconds} s")

    def _phase(self, item: Any, phase: str) -> Any:
        signal.signal(signal.SIGALRM, self._alarm)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        try:
            result = yield
        except BaseException as error:
            self._record(item.nodeid, self._outcome_of(error))
            raise
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        self.phases.setdefault(item.nodeid, set()).add(phase)
        return result

    def _outcome_of(self, error: BaseException) -> str:
        """``skipped`` for a skip that pytest or a test raised; ``failed`` otherwise."""
        if not isinstance(error, self.skips):
            return "failed"
        trace = error.__traceback__
        while trace is not None:
            if Path(trace.tb_frame.f_code.co_filename).resolve().is_relative_to(self.package):
                return "failed"
            trace = trace.tb_next
        return "skipped"

    def _record(self, nodeid: str, outcome: str) -> None:
        if self.outcomes.get(nodeid) != "failed":
            self.outcomes[nodeid] = outcome

    def _foreign_hooks(self, manager: Any) -> dict[str, Any]:
        """Implementations of the guarded hooks that are neither pytest's nor this plugin's:
        ``"HOOK of PLUGIN"`` -> the plugin that holds it."""
        foreign = {}
        for name in GUARDED_HOOKS:
            for implementation in getattr(manager.hook, name).get_hookimpls():
                function = getattr(implementation.function, "__func__", implementation.function)
                if id(function) not in self.known and implementation.plugin is not self:
                    foreign[f"{name} of {implementation.plugin_name}"] = implementation.plugin
        return foreign

    def _repair(self, manager: Any) -> list[str]:
        """Put pytest back as the snapshot holds it and unregister the plugins that bring
        foreign hooks; what had been changed, by name (also kept in ``repaired``)."""
        changes = restore(self.before)
        for name, plugin in self._foreign_hooks(manager).items():
            if manager.is_registered(plugin):
                manager.unregister(plugin)
            changes.append(name)
        self.repaired += [name for name in changes if name not in self.repaired]
        return changes

    def _verdict(self, item: Any) -> str:
        """The test's outcome; a change to pytest made while it ran (other than to its
        reporting) makes it ``tampered``. Pytest is put back either way."""
        changes = self._repair(item.config.pluginmanager)
        outcome = self.outcomes.get(item.nodeid)
        if outcome is not None:
            return outcome
        if self.phases.get(item.nodeid) != PHASES:
            return "not run"
        if any(not is_reporting(name) for name in changes):
            return "tampered"
        return "passed"

    @pytest.hookimpl(wrapper=True, trylast=True)  # innermost of the wrappers
    def pytest_runtest_protocol(self, item: Any, nextitem: Any) -> Any:
        self.channel.send("start", id=item.nodeid)
        try:
            return (yield)
        finally:
            verdict = self._verdict(item)
            self.channel.send("end", id=item.nodeid, outcome=verdict)

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_setup(self, item: Any) -> Any:
        return (yield from self._phase(item, "setup"))

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_call(self, item: Any) -> Any:
        return (yield from self._phase(item, "call"))

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_teardown(self, item: Any, nextitem: Any) -> Any:
        return (yield from self._phase(item, "teardown"))


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channel", type=int, required=True, help="pipe fd to report on")
    parser.add_argument("--package", required=True, help="the graded package's folder")
    parser.add_argument("--hide", action="append", default=[], help="path to cover")
    parser.add_argument("--user", help="UID:GID to run as")
    parser.add_argument("--expose", action="append", default=[], help="path the user needs")
    parser.add_argument("--scratch", help="the grading run's folder")
    parser.add_argument("--private-temp", action="append", default=[], help="folder to cover")
    parser.add_argument("--test-seconds", type=float, default=60)
    parser.add_argument("--cpu-seconds", type=int, default=1800)
    parser.add_argument("--memory-mb", type=int, default=4096)
    parser.add_argument("--file-mb", type=int, default=256)
    parser.add_argument("--skip", help="JSON list of test ids not to run")
    parser.add_argument("--collect", action="store_true", help="only list the test ids")
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)
    if options.pytest_args[:1] == ["--"]:
        options.pytest_args = options.pytest_args[1:]
    return options


def hypothesis_plugin() -> list[str]:
    """``-p`` for Hypothesis's pytest plugin where Hypothesis is installed (``main`` turns
    off the automatic loading of installed plugins, so a plugin loads only when named)."""
    try:
        import _hypothesis_pytestplugin  # noqa: F401
    except ImportError:
        return []
    return ["-p", "_hypothesis_pytestplugin"]


def main(argv: list[str]) -> int:
    options = parse(argv)
    channel = Channel(options.channel, os.environ.pop(TOKEN_VARIABLE))
    channel.send("isolation", **seal(options))
    referee = Referee(channel, options)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # installed plugins' hooks are foreign
    code = pytest.main([*hypothesis_plugin(), *options.pytest_args], plugins=[referee])
    channel.send("done", code=int(code), repaired=referee.repaired)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
