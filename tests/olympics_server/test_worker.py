"""The evaluation worker on submissions that misbehave: each is recorded as failed with its
reason, never ranked, and the worker carries on (SQLite; the store is tested on both backends
in test_api.py)."""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.olympics_server.helpers import QUICK_OPTIONS, needs_server_extras

needs_server_extras()

from fastapi.testclient import TestClient  # noqa: E402

from tito.leaderboard.app import ServerSettings, create_app  # noqa: E402
from tito.leaderboard.store import Store, open_store  # noqa: E402
from tito.leaderboard.worker import Worker, WorkerSettings, metric_problem  # noqa: E402

pytestmark = pytest.mark.olympics_server

CRASH = "def build_model():\n    raise RuntimeError('boom <b>in</b> build_model')\n"
HANG = "def build_model():\n    while True:\n        pass\n"
GREEDY = (
    "import numpy\n\n\ndef build_model():\n    blocks = []\n    while True:\n"
    "        blocks.append(numpy.empty(2**26))  # 512 MB each\n"
)
CALLS_HOME = """import socket


def build_model():
    socket.create_connection(("127.0.0.1", {port}), timeout=2)
    raise RuntimeError("the network was reachable")
"""


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Store:
    (tmp_path / "data").mkdir()
    store = open_store(tmp_path / "data")
    store.migrate()
    store.create_competition("class", ["compression"])
    return store


@pytest.fixture
def submit(sqlite_store: Store, tmp_path: Path, packed):
    """``submit(code)``: upload a submission of ``ada`` whose model.py is ``code``; its id."""
    client = TestClient(create_app(sqlite_store, ServerSettings(data_dir=tmp_path / "data")))
    token = sqlite_store.add_participants("class", ["ada"])["ada"]

    def send(code: str | None = None) -> int:
        answer = client.post(
            "/api/submissions?track=compression",
            content=packed("ada", code=code),
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 202, answer.text
        return answer.json()["id"]

    return send


@pytest.fixture
def worker_for(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """``worker_for(store, *track_options)``: a worker, closed after the test."""
    made: list[Worker] = []

    def make(store: Store, *options: str) -> Worker:
        settings = WorkerSettings(tmp_path / "data", track_options=(*QUICK_OPTIONS, *options))
        made.append(Worker(store, settings))
        return made[-1]

    yield make
    for worker in made:
        worker.close()


def test_crash_hang_and_memory_blowup_are_recorded_and_the_worker_carries_on(
    sqlite_store, submit, worker_for, tmp_path
):
    ids = [submit(HANG)]
    assert worker_for(sqlite_store, "compression.time_limit_s=2").run_once()
    ids += [submit(CRASH), submit(GREEDY), submit()]
    worker = worker_for(sqlite_store)
    while worker.run_once():
        pass
    hang, crash, greedy, good = (sqlite_store.submission(i) for i in ids)
    assert crash["status"] == "failed" and "boom <b>in</b> build_model" in crash["error"]
    client = TestClient(create_app(sqlite_store, ServerSettings(data_dir=tmp_path / "data")))
    page = client.get(f"/submissions/{crash['id']}").text
    assert "Not ranked" in page and "boom &lt;b&gt;in&lt;/b&gt;" in page  # escaped
    assert hang["status"] == "failed" and "timed out" in hang["error"]
    assert greedy["status"] == "failed" and "out of memory" in greedy["error"]
    assert good["status"] == "done" and good["error"] is None
    done = sqlite_store.submissions(status="done")
    assert [row["id"] for row in done] == [good["id"]]
    assert all(row["attempts"] == 1 for row in sqlite_store.submissions())


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"score": math.nan}, "score is nan"),
        ({"accuracy": math.inf}, "accuracy is inf"),
        ({"accuracy": 1.5}, "accuracy = 1.5 is out of range"),
        ({"p90_ms": -1.0}, "p90_ms = -1.0 is out of range"),
        ({"size_bytes": 0}, "size_bytes = 0 is out of range"),
        ({"score": "fast"}, "not a number"),
        ({"valid": False, "error": "below the accuracy floor"}, "below the accuracy floor"),
    ],
)
def test_non_finite_or_out_of_range_metrics_are_not_ranked(change, problem):
    good = {"valid": True, "score": 10.0, "accuracy": 0.9, "p90_ms": 0.5, "size_bytes": 10}
    assert metric_problem(good) is None
    assert problem in metric_problem({**good, **change})


def test_a_nan_score_from_the_evaluation_is_recorded_as_failed(sqlite_store, submit, worker_for):
    submission_id = submit()
    worker = worker_for(sqlite_store)
    measured = {"valid": True, "score": math.nan, "accuracy": 0.5, "p90_ms": 1.0, "size_bytes": 9}
    worker._run_sandbox = lambda track, folder, scratch: measured  # what the sandbox reported
    assert worker.run_once()
    row = sqlite_store.submission(submission_id)
    assert row["status"] == "failed" and "score is nan" in row["error"]
    assert row["score"] is None and sqlite_store.submissions(status="done") == []


def test_a_damaged_artifact_is_never_evaluated(sqlite_store, submit, worker_for, tmp_path):
    submission_id = submit()
    artifact = tmp_path / "data" / "artifacts" / sqlite_store.submission(submission_id)["artifact"]
    artifact.write_bytes(artifact.read_bytes()[:100])  # as if half of it had been written
    assert worker_for(sqlite_store).run_once()
    row = sqlite_store.submission(submission_id)
    assert row["status"] == "failed" and "checksum" in row["error"]


def test_the_evaluation_has_no_network(sqlite_store, submit, worker_for):
    worker = worker_for(sqlite_store)
    if not worker.isolated:
        pytest.skip("unshare (user and network namespaces) is not available on this machine")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        submission_id = submit(CALLS_HOME.format(port=listener.getsockname()[1]))
        assert worker.run_once()
        listener.settimeout(0)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody called
    row = sqlite_store.submission(submission_id)
    assert row["status"] == "failed" and "unreachable" in row["error"]


def test_a_worker_whose_server_died_mid_evaluation_records_nothing(
    sqlite_store, submit, worker_for
):
    """A server restarted meanwhile clears the scratch folder under the orphan's evaluation; the
    failure that causes must not be recorded: the row stays claimed until its lease lapses."""
    submission_id = submit()
    worker = worker_for(sqlite_store)
    worker.parent_pid = os.getppid()  # started by a server, which is still there...

    def evaluation_cut_short(track, folder, scratch):
        worker.parent_pid = -1  # ...until it is SIGKILLed in the middle of the evaluation
        return "the evaluation host died (exit -9): scratch folder removed"

    worker._run_sandbox = evaluation_cut_short
    assert worker.run_once()
    row = sqlite_store.submission(submission_id)
    assert row["status"] == "running" and row["error"] is None and row["attempts"] == 1
