"""``tito olympics``: tracks, a local run, and submit/leaderboard against a fake server.

The server here is a test double of the network peer: a stdlib ``http.server`` on the
loopback address that records each request and answers as the leaderboard API does.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import tinytorch
from tinytorch.olympics.submission import SUBMISSION_FILES, write_submission
from tito.main import main

from .conftest import write_cifar

pytestmark = [pytest.mark.module20, pytest.mark.cli]

TOKEN = "s3cret-token"
VISION_CODE = """from tinytorch import nn


def build_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(3072, 10))
"""


class FakeLeaderboard(BaseHTTPRequestHandler):
    """Answers the leaderboard API; ``requests`` collects (method, path, headers, body)."""

    requests: list[tuple[str, str, dict, bytes]] = []

    def _answer(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.requests.append(("POST", self.path, dict(self.headers), body))
        if self.headers["Authorization"] != f"Bearer {TOKEN}":
            self._answer(401, {"detail": "unknown token"})
        else:
            self._answer(202, {"id": 7, "status": "queued"})

    def do_GET(self) -> None:  # noqa: N802
        self.requests.append(("GET", self.path, dict(self.headers), b""))
        if self.path == "/api/tracks/speed/leaderboard":
            entries = [
                {"rank": 1, "name": "ada", "division": "closed", "techniques": ["calibration"],
                 "score": 0.25, "accuracy": 0.985, "p90_ms": 0.25, "size_bytes": 40960,
                 "submitted_at": "2026-12-05T08:00:00Z", "id": 3},
            ]  # fmt: skip
            self._answer(200, {"track": "speed", "entries": entries})
        elif self.path == "/api/submissions/7":
            evaluation = {"track": "speed", "valid": True, "score": 0.25}
            self._answer(200, {"id": 7, "track": "speed", "name": "linear", "status": "done",
                               "evaluation": evaluation})  # fmt: skip
        else:
            self._answer(404, {"detail": "not found"})

    def log_message(self, *args: object) -> None:  # keep the test output quiet
        pass


@pytest.fixture
def server():
    FakeLeaderboard.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeLeaderboard)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_list_and_rules(capsys: pytest.CaptureFixture) -> None:
    assert main(["olympics", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[1:5]] == ["vision", "language", "speed",
                                                        "compression"]  # fmt: skip
    assert main(["olympics", "rules", "compression", "--json"]) == 0
    rules = json.loads(capsys.readouterr().out)
    assert rules["metric"] == "size_bytes" and rules["accuracy_floor"] == 0.98
    assert main(["olympics", "rules", "marathon"]) == 2
    assert "unknown track 'marathon'" in capsys.readouterr().err


def test_run_prints_the_ranked_table(
    digits_submission: Path, empty_data_dir: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)  # not inside a workspace
    quick = ["--samples", "100", "--latency-queries", "16", "--data-dir", str(empty_data_dir)]
    assert main(["olympics", "run", "speed", str(digits_submission), *quick]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "speed track"
    assert out[3].split()[:3] == ["1", "linear", "open"]
    assert "tinydigits test split (100 samples)" in out[4]
    assert main(["olympics", "run", "vision", str(digits_submission)]) == 1
    assert "names the 'speed' track, not 'vision'" in capsys.readouterr().err


def test_run_a_vision_submission_with_its_data_present(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    batches = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5",
               "test_batch")  # fmt: skip
    write_cifar(data, 12, batches)  # all there: --download has nothing to fetch
    tinytorch.manual_seed(0)
    model = tinytorch.nn.Sequential(tinytorch.nn.Flatten(), tinytorch.nn.Linear(3072, 10))
    write_submission(tmp_path / "vision", model, VISION_CODE, track="vision", division="open",
                     name="linear")  # fmt: skip
    args = ["olympics", "run", "vision", str(tmp_path / "vision"), "--data-dir", str(data),
            "--download", "--latency-queries", "8", "--json"]  # fmt: skip
    assert main(args) == 0
    evaluation = json.loads(capsys.readouterr().out)
    assert evaluation["dataset"] == "cifar10" and evaluation["details"]["samples"] == 12


def test_run_inside_a_workspace_measures_the_workspaces_package(
    digits_submission: Path, empty_data_dir: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    workspace = tmp_path / "ws"
    (workspace / ".tito").mkdir(parents=True)
    package = Path(__file__).resolve().parents[2] / "tinytorch"
    shutil.copytree(package, workspace / "tinytorch", ignore=shutil.ignore_patterns("__pycache__"))
    results = workspace / "tinytorch" / "olympics" / "results.py"
    first_rule = "    if not (math.isfinite"
    marked = "    return 'judged by the workspace'\n" + first_rule
    results.write_text(results.read_text().replace(first_rule, marked))
    monkeypatch.chdir(workspace)
    quick = ["--samples", "50", "--latency-queries", "8", "--data-dir", str(empty_data_dir)]
    assert main(["olympics", "run", "speed", str(digits_submission), *quick, "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["error"] == "judged by the workspace"


def test_submit_posts_the_archive_with_the_token(
    digits_submission: Path, server: str, capsys
) -> None:
    args = ["olympics", "submit", "speed", str(digits_submission), "--server", server]
    assert main([*args, "--token", TOKEN]) == 0
    assert "id 7, queued" in capsys.readouterr().out
    method, path, headers, body = FakeLeaderboard.requests[0]
    assert (method, path) == ("POST", "/api/submissions?track=speed")
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["Content-Type"] == "application/gzip"
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        assert tar.getnames() == list(SUBMISSION_FILES)
        weights = tar.extractfile("model.pt").read()
    assert weights == (digits_submission / "model.pt").read_bytes()


def test_submit_reports_the_servers_refusal_and_waits_for_the_result(
    digits_submission: Path, server: str, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("TITO_OLYMPICS_SERVER", server)
    monkeypatch.setenv("TITO_OLYMPICS_TOKEN", "forged")
    assert main(["olympics", "submit", "speed", str(digits_submission)]) == 1
    assert "the server answered 401: unknown token" in capsys.readouterr().err
    monkeypatch.setenv("TITO_OLYMPICS_TOKEN", TOKEN)
    assert main(["olympics", "submit", "speed", str(digits_submission), "--wait", "5"]) == 0
    assert '"score": 0.25' in capsys.readouterr().out
    assert [request[:2] for request in FakeLeaderboard.requests[1:]] == [
        ("POST", "/api/submissions?track=speed"), ("GET", "/api/submissions/7"),
    ]  # fmt: skip


def test_submit_needs_a_server_and_a_token(digits_submission: Path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("TITO_OLYMPICS_SERVER", raising=False)
    monkeypatch.delenv("TITO_OLYMPICS_TOKEN", raising=False)
    assert main(["olympics", "submit", "speed", str(digits_submission)]) == 2
    assert "pass --server URL or set TITO_OLYMPICS_SERVER" in capsys.readouterr().err
    args = ["olympics", "submit", "speed", str(digits_submission), "--server", "http://x"]
    assert main(args) == 2
    assert "pass --token TOKEN or set TITO_OLYMPICS_TOKEN" in capsys.readouterr().err


def test_leaderboard_prints_the_servers_ranking(server: str, capsys) -> None:
    assert main(["olympics", "leaderboard", "speed", "--server", server]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[3].split()[:5] == ["1", "ada", "closed", "0.250", "98.50%"]
    assert FakeLeaderboard.requests[0][:2] == ("GET", "/api/tracks/speed/leaderboard")


def test_an_unreachable_server_is_a_clear_error(capsys) -> None:
    assert main(["olympics", "leaderboard", "speed", "--server", "http://127.0.0.1:9"]) == 1
    assert "cannot reach http://127.0.0.1:9/api/tracks/speed/leaderboard" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize("command", ["list", "rules", "run", "submit", "leaderboard"])
def test_every_olympics_command_has_help(command: str, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["olympics", command, "--help"])
    assert exited.value.code == 0
    assert f"usage: tito olympics {command}" in capsys.readouterr().out
