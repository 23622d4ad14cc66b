"""The evaluation worker: claim a queued submission, measure it in a sandbox, record the result.

``tito olympics serve`` starts ``--workers N`` of these as separate processes
(``python -m tito.leaderboard.worker``). Each loops:

1. claim the oldest waiting submission with a lease (``Store.claim``), renewing the lease from
   a thread while it works, so a killed worker's submission is claimed again once its lease
   runs out;
2. check the artifact against the checksum taken at upload and the archive rules again, unpack
   it into a scratch folder;
3. ask its evaluation host (``python -m tito.leaderboard.sandbox``, see its docstring for the
   isolation) to call ``tinytorch.olympics.evaluate.evaluate`` on it: a fresh process with the
   track's time and memory limits; a host that overruns the time limit is killed and replaced;
4. reject results that are not finite or out of range, and record ``done`` or ``failed`` with
   the reason. A crash, hang or memory blow-up of a submission is a ``failed`` row; the worker
   carries on with the next one.

A worker exits when the server that started it is gone (its parent process changes). It
records nothing of an evaluation it was in the middle of: a server started since may have
cleared the scratch folder under it; the lease lapses and a worker of that server tries again.
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import importlib.util
import json
import logging
import math
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tito.leaderboard.archive import ArchiveError, ArchiveLimits, read_archive, unpack_files
from tito.leaderboard.sandbox import configured_track, parse_track_options
from tito.leaderboard.store import Claim, Store, open_store

log = logging.getLogger("tito.leaderboard.worker")

ARTIFACTS, SCRATCH = "artifacts", "scratch"
DATABASE_URL_ENV = "TITO_OLYMPICS_DATABASE_URL"
UNSHARE = ["unshare", "--user", "--map-root-user", "--net", "--pid", "--fork", "--kill-child"]
#: Seconds an evaluation may take beyond the track's own time limit (start-up, loading data).
SANDBOX_MARGIN_S = 60.0


@dataclass(frozen=True)
class WorkerSettings:
    """A worker's data directory, lease and polling periods, and the evaluation's settings."""

    data_dir: Path
    lease_s: float = 20.0
    poll_s: float = 0.2
    max_attempts: int = 3
    dataset_dir: Path | None = None
    track_options: tuple[str, ...] = ()
    archive_limits: ArchiveLimits = ArchiveLimits()


def metric_problem(evaluation: dict[str, Any]) -> str | None:
    """Why an evaluation must not be ranked, or None when it may be.

    The harness's own verdict comes first (crash, timeout, memory, below the accuracy floor);
    then every metric must be a finite number in its range: accuracy in [0, 1], p90 latency
    >= 0 ms, size > 0 bytes.
    """
    if not evaluation.get("valid"):
        return evaluation.get("error") or "the harness marked the evaluation invalid"
    checks = {
        "score": lambda v: True,
        "accuracy": lambda v: 0.0 <= v <= 1.0,
        "p90_ms": lambda v: v >= 0.0,
        "size_bytes": lambda v: v > 0,
    }
    for key, in_range in checks.items():
        value = evaluation.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"metric {key} is missing or not a number ({value!r})"
        if not math.isfinite(value):
            return f"metric {key} is {value} (not finite): not ranked"
        if not in_range(value):
            return f"metric {key} = {value} is out of range: not ranked"
    return None


def network_isolation_available() -> bool:
    """Can this machine run a command in new user, network and PID namespaces?"""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run([*UNSHARE, "true"], capture_output=True, timeout=30)
    return probe.returncode == 0


PR_SET_PDEATHSIG = 1
#: Linux's prctl, looked up here: between fork and exec the child may only call it, not import.
_PRCTL = ctypes.CDLL(None).prctl if sys.platform.startswith("linux") else None


def _kill_with_parent() -> None:
    """Run in the host's process before exec: on Linux, die with SIGKILL when the worker dies."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL)


def _sandbox_environment(scratch: Path) -> dict[str, str]:
    """A bare environment: no database URL, no tokens; HOME and TMPDIR in the scratch folder."""
    packages = ("tinytorch", "tito")
    roots = {str(Path(importlib.util.find_spec(name).origin).parents[1]) for name in packages}
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join(sorted(roots)),
        "HOME": str(scratch),
        "TMPDIR": str(scratch),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


class Worker:
    """One evaluation worker on ``store``."""

    def __init__(self, store: Store, settings: WorkerSettings, parent_pid: int | None = None):
        self.store = store
        self.settings = settings
        self.parent_pid = parent_pid
        self.isolated = network_isolation_available()
        self._options = parse_track_options(list(settings.track_options))
        self.host = EvaluationHost(settings.data_dir / SCRATCH, self.isolated)

    def parent_gone(self) -> bool:
        return self.parent_pid is not None and os.getppid() != self.parent_pid

    def run_forever(self) -> None:
        log.info("worker %d started (network isolation: %s)", os.getpid(), self.isolated)
        while not self.parent_gone():
            if not self.run_once():
                time.sleep(self.settings.poll_s)  # nothing queued: wait before asking again

    def run_once(self) -> bool:
        """Evaluate one waiting submission; False when none was waiting."""
        if not self.store.has_work():
            return False
        claim = self.store.claim(self.settings.lease_s)
        if claim is None:
            return False
        if claim.attempts > self.settings.max_attempts:
            error = f"evaluation interrupted {claim.attempts - 1} times; not tried again"
            self.store.finish(claim, evaluation=None, error=error)
            return True
        stop = threading.Event()
        heartbeat = threading.Thread(target=self._keep_lease, args=(claim, stop), daemon=True)
        heartbeat.start()
        try:
            evaluation, error = self.evaluate(claim)
        finally:
            stop.set()
            heartbeat.join()
        if self.parent_gone():
            # A server started after ours may have cleared the scratch folder under this
            # evaluation; record nothing, and the lapsed lease has it evaluated again.
            log.info("submission %d: server gone; left to the next worker", claim.id)
            return True
        recorded = self.store.finish(claim, evaluation=evaluation, error=error)
        log.info("submission %d: %s%s", claim.id, error or "done", "" if recorded else " (lost)")
        return True

    def _keep_lease(self, claim: Claim, stop: threading.Event) -> None:
        """Renew the lease every third of its length; leave at once if the server is gone."""
        while not stop.wait(self.settings.lease_s / 3):
            if self.parent_gone():
                os._exit(1)  # the sandbox child dies with us (PDEATHSIG); the lease expires
            self.store.renew(claim, self.settings.lease_s)

    def evaluate(self, claim: Claim) -> tuple[dict[str, Any] | None, str | None]:
        """(evaluation dict, None) for a rankable result, else (evaluation or None, reason)."""
        scratch = self.settings.data_dir / SCRATCH / f"{claim.id}-{claim.claim[:8]}"
        try:
            files = self._artifact_files(claim)
            if isinstance(files, str):
                return None, files
            submission = unpack_files(files, scratch / "submission")
            evaluation = self._run_sandbox(claim.track, submission, scratch)
            if isinstance(evaluation, str):
                return None, evaluation
            return evaluation, metric_problem(evaluation)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _artifact_files(self, claim: Claim) -> dict[str, bytes] | str:
        """The stored archive's files, or the reason it cannot be evaluated."""
        path = self.settings.data_dir / ARTIFACTS / claim.artifact
        if not path.is_file():
            return f"the stored artifact {claim.artifact} is missing"
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != claim.sha256:
            return "the stored artifact does not match the checksum taken at upload"
        try:
            return read_archive(data, self.settings.archive_limits)
        except ArchiveError as error:
            return f"rejected archive: {error}"

    def _run_sandbox(self, track: str, submission: Path, scratch: Path) -> dict[str, Any] | str:
        """Evaluate ``submission`` in the host; its evaluation dict, or why there is none."""
        options = self._options.get(track, {})
        dataset = self.settings.dataset_dir
        request = {
            "submission": str(submission),
            "track": track,
            "options": options,
            "data_dir": None if dataset is None else str(dataset),
        }
        limit = configured_track(track, options).time_limit_s + SANDBOX_MARGIN_S
        return self.host.run(request, limit)

    def close(self) -> None:
        """Stop the evaluation host (it also dies on its own when this process does)."""
        self.host.stop()


class EvaluationHost:
    """The worker's end of ``python -m tito.leaderboard.sandbox``: started on first use, and
    again after it was stopped or died."""

    def __init__(self, folder: Path, isolated: bool) -> None:
        self.folder = folder
        self.isolated = isolated
        self.process: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "tito.leaderboard.sandbox"]
        self.log = self.folder / f"host-{os.getpid()}.log"
        with open(self.log, "ab") as log:
            return subprocess.Popen(
                [*UNSHARE, *command] if self.isolated else command,
                cwd=self.folder,
                env=_sandbox_environment(self.folder),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                preexec_fn=_kill_with_parent,
            )

    def run(self, request: dict[str, Any], timeout: float) -> dict[str, Any] | str:
        """Send one request; the evaluation dict, or the reason there is none."""
        if self.process is None or self.process.poll() is not None:
            self.process = self._start()
        try:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            return f"the evaluation host died (exit {self.stop()}): {self._last_log_line()}"
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            self.stop()
            return f"the evaluation did not finish within {timeout:g} s"
        line = self.process.stdout.readline()
        if not line:
            return f"the evaluation host died (exit {self.stop()}): {self._last_log_line()}"
        reply = json.loads(line)
        return reply["evaluation"] if "evaluation" in reply else reply["error"]

    def stop(self) -> int | None:
        """Kill the host (and, through its namespace, all it started); its exit code."""
        if self.process is None:
            return None
        process, self.process = self.process, None
        process.kill()
        code = process.wait()
        process.stdin.close()
        process.stdout.close()
        return code

    def _last_log_line(self) -> str:
        lines = self.log.read_text(errors="replace").strip().splitlines()
        return lines[-1] if lines else "no output"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tito.leaderboard.worker")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--dataset-dir", type=Path, default=None)
    parser.add_argument("--lease-s", type=float, default=20.0)
    parser.add_argument("--track-option", action="append", default=[])
    parser.add_argument("--parent-pid", type=int, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    store = open_store(args.data_dir, os.environ.get(DATABASE_URL_ENV))
    settings = WorkerSettings(
        data_dir=args.data_dir,
        lease_s=args.lease_s,
        dataset_dir=args.dataset_dir,
        track_options=tuple(args.track_option),
    )
    worker = Worker(store, settings, parent_pid=args.parent_pid)
    try:
        worker.run_forever()
    except KeyboardInterrupt:  # Ctrl-C in serve's terminal reaches its workers too
        pass
    finally:
        worker.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
