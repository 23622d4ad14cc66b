"""What the leaderboard server tests share: tiny submissions, polling with a deadline, and a
``serve`` process on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import tinytorch
from tinytorch import nn

REPOSITORY = Path(__file__).resolve().parents[2]
#: The cheapest evaluation: the compression track on 50 TinyDigits samples, 8 latency queries,
#: no accuracy floor (the tiny models here are untrained), a short time limit.
QUICK_OPTIONS = (
    "compression.eval_samples=50",
    "compression.latency_queries=8",
    "compression.accuracy_floor=0",
    "compression.fallback_accuracy_floor=0",
    "compression.time_limit_s=20",
    "compression.memory_limit_mb=1024",
)

TINY_MODEL = """from tinytorch import nn


def build_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, {hidden}), nn.ReLU(), nn.Linear({hidden}, 10))
"""


def needs_server_extras() -> None:
    """Skip the calling test module, saying what to install, without the server's extras."""
    import pytest

    pytest.importorskip("fastapi", reason='the server needs FastAPI: pip install -e ".[olympics]"')
    pytest.importorskip("httpx", reason='the tests need httpx: pip install -e ".[olympics-test]"')


def deadline_poll(check: Callable[[], object], timeout: float, what: str, every: float = 0.05):
    """Call ``check`` until it returns something truthy; fail naming ``what`` at the deadline."""
    end = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


def write_submission(
    folder: Path,
    name: str,
    *,
    hidden: int = 8,
    code: str | None = None,
    track: str = "compression",
    manifest: str | None = None,
) -> Path:
    """A submission folder: manifest, ``model.py`` (a tiny MLP, or ``code``) and weights."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "submission.toml").write_text(
        manifest
        if manifest is not None
        else f'track = "{track}"\ndivision = "closed"\nname = "{name}"\ntechniques = []\n'
    )
    (folder / "model.py").write_text(code if code is not None else TINY_MODEL.format(hidden=hidden))
    tinytorch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    tinytorch.save(model.state_dict(), folder / "model.pt")
    return folder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- a real server process ----------------------------------------------------------------
class Server:
    """``python -m tito.leaderboard.cli serve`` (what ``tito olympics serve`` runs) on
    127.0.0.1, in its own process group."""

    def __init__(self, data_dir: Path, *extra: str, database_url: str | None = None):
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra = list(extra)
        self.database_url = database_url
        self.process: subprocess.Popen | None = None

    def command(self, *words: str) -> list[str]:
        base = [sys.executable, "-m", "tito.leaderboard.cli", *words, "--data-dir",
                str(self.data_dir)]  # fmt: skip
        return base + (["--database-url", self.database_url] if self.database_url else [])

    def admin(self, *words: str) -> str:
        """Run ``admin`` with ``words``; its standard output."""
        done = subprocess.run([*self.command("admin"), *words], capture_output=True, text=True,
                              env=server_env(), timeout=60)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self) -> Server:
        words = ["--port", str(self.port), "--log-level", "warning", *self.extra]
        for option in QUICK_OPTIONS:
            words += ["--track-option", option]
        self.log = open(self.data_dir / "serve.log", "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [*self.command("serve"), *words], env=server_env(), stdout=self.log, stderr=self.log,
            start_new_session=True,
        )  # fmt: skip
        import httpx

        def answers() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited: {(self.data_dir / 'serve.log').read_text()}")
            try:
                return httpx.get(self.url + "/api/tracks", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        deadline_poll(answers, 30, "the server to answer")
        return self

    def workers(self) -> list[int]:
        """The process ids of the server's evaluation workers (its child processes)."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def kill(self) -> None:
        """SIGKILL the server process only (its workers notice and leave)."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """End the server and anything left in its process group."""
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=30)
            self.log.close()


def server_env() -> dict[str, str]:
    """The test's environment, with this repository importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [env.get("PYTHONPATH"), str(REPOSITORY)]))
    return env
