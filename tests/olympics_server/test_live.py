"""A real ``serve`` on 127.0.0.1 (uvicorn, worker processes): learners' ``tito olympics
submit`` and the board in headless Chromium, 50 concurrent submitters, and the faults (server
SIGKILLed mid-burst on SQLite, a worker killed during an evaluation on PostgreSQL)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.olympics_server.helpers import (
    Server,
    deadline_poll,
    needs_server_extras,
    server_env,
    write_submission,
)

needs_server_extras()

import httpx  # noqa: E402

from tito.leaderboard.archive import TEMPORARY_PREFIX  # noqa: E402
from tito.leaderboard.store import open_store  # noqa: E402

pytestmark = pytest.mark.olympics_server

CHROMIUM = os.environ.get("TITO_TEST_CHROMIUM", "/usr/bin/chromium")
# Short enough that a killed worker's job is claimed again soon; long enough that a loaded
# machine renews every lease in time (a lapsed lease counts as an interrupted evaluation).
LEASE_S = "4"
SLOW_MODEL = """import time

from tinytorch import nn


def build_model():
    time.sleep(2)  # long enough to be killed in the middle of the evaluation
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 10))
"""


def enrol(server: Server, names: list[str]) -> dict[str, str]:
    """Create competition ``class`` and its participants with ``admin``; their tokens."""
    server.admin("create-competition", "class", "--tracks", "compression")
    return json.loads(server.admin("add-participant", "--competition", "class", "--json", *names))


def upload(url: str, token: str, body: bytes, timeout: float = 30) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/gzip"}
    return httpx.post(f"{url}/api/submissions?track=compression", content=body, headers=headers,
                      timeout=timeout)  # fmt: skip


def finished(server: Server, ids: list[int]) -> bool:
    """Have all ``ids`` left the queue (done or failed)?"""
    for submission_id in ids:
        status = httpx.get(f"{server.url}/api/submissions/{submission_id}").json()["status"]
        if status in ("queued", "running"):
            return False
    return True


def tito(*words: str) -> subprocess.Popen:
    """``tito WORDS`` as a learner runs it, in the background."""
    return subprocess.Popen([sys.executable, "-m", "tito.main", *words], env=server_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def test_learners_submit_with_tito_and_the_board_shows_in_headless_chromium(
    server_factory, tmp_path
):
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason='pip install -e ".[olympics-test]" (playwright)'
    )
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt install chromium (or set TITO_TEST_CHROMIUM)")
    server = server_factory("--workers", "2")
    learners = {"ada": 32, "grace": 4, "linus": 12}
    tokens = enrol(server, list(learners))
    server.start()
    submits = [
        tito("olympics", "submit", "compression", str(write_submission(tmp_path / name, name,
             hidden=hidden)), "--server", server.url, "--token", tokens[name], "--wait", "60")
        for name, hidden in learners.items()
    ]  # fmt: skip
    for learner in submits:
        out, err = learner.communicate(timeout=90)
        assert learner.returncode == 0, err
        assert '"valid": true' in out
    board = tito("olympics", "leaderboard", "compression", "--server", server.url)
    out, err = board.communicate(timeout=60)
    assert board.returncode == 0, err
    assert [line.split()[1] for line in out.splitlines()[3:6]] == ["grace", "linus", "ada"]

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(f"{server.url}/tracks/compression")
        rows = page.locator("#board tr.entry")
        assert rows.locator("td.name").all_inner_texts() == ["grace", "linus", "ada"]
        assert rows.locator("td.rank").all_inner_texts() == ["1", "2", "3"]
        scores = [
            float(text.replace(",", "")) for text in rows.locator("td.score").all_inner_texts()
        ]
        assert scores == sorted(scores) and scores[0] < scores[-1]
        chart = page.locator("svg#pareto")
        box = chart.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 200
        assert chart.locator("circle.point").count() == 3
        points = chart.locator("circle.point").evaluate_all(
            "circles => circles.map(c => c.getBoundingClientRect().width)"
        )
        assert all(width > 0 for width in points)  # drawn, not just present in the markup
        assert chart.locator("polyline.front").get_attribute("points")
        shot = Path(os.environ.get("TITO_TEST_SCREENSHOT", tmp_path / "board.png"))
        page.screenshot(path=str(shot), full_page=True)

        page.click("#board >> text=linus")
        page.wait_for_url("**/submissions/*")
        assert page.locator("#status").inner_text() == "done"
        assert "size_bytes" in page.content()
        browser.close()


def test_fifty_concurrent_submitters_each_stored_and_evaluated_once(server_factory, packed):
    submitters = 50
    server = server_factory("--workers", "3")
    names = [f"learner{i:02d}" for i in range(submitters)]
    tokens = enrol(server, names)
    server.start()
    bodies = {name: packed(name, hidden=4 + i % 8) for i, name in enumerate(names)}
    start = threading.Barrier(submitters)

    def submit(name: str) -> httpx.Response | Exception:
        start.wait()
        try:
            return upload(server.url, tokens[name], bodies[name])
        except httpx.HTTPError as error:
            return error

    began = time.monotonic()
    with ThreadPoolExecutor(submitters) as pool:
        answers = list(pool.map(submit, names))
    burst_s = time.monotonic() - began
    acked = [
        a.json()["id"] for a in answers if isinstance(a, httpx.Response) and a.status_code == 202
    ]
    errors = [a for a in answers if not isinstance(a, httpx.Response) or a.status_code != 202]
    deadline_poll(lambda: finished(server, acked), 120, f"{len(acked)} evaluations", every=0.2)
    total_s = time.monotonic() - began
    print(f"\nload: {submitters} submitters, {len(acked)} acknowledged, {len(errors)} errors, "
          f"burst {burst_s:.2f} s, all evaluated after {total_s:.2f} s")  # fmt: skip
    assert errors == [] and len(acked) == submitters
    server.stop()

    rows = open_store(server.data_dir).submissions()
    assert sorted(row["id"] for row in rows) == sorted(acked)  # stored once each, nothing extra
    assert all(row["status"] == "done" and row["attempts"] == 1 for row in rows)
    assert sorted(row["name"] for row in rows) == names


def test_server_sigkilled_mid_burst_loses_and_duplicates_nothing(server_factory, packed):
    names = [f"learner{i:02d}" for i in range(12)]
    server = server_factory("--workers", "2", "--lease-s", LEASE_S)
    tokens = enrol(server, names)
    server.start()
    bodies = {name: [packed(name, hidden=4 + k) for k in range(3)] for name in names}
    acked: list[int] = []
    lock, enough = threading.Lock(), threading.Event()

    def submit_all(name: str) -> None:
        for body in bodies[name]:
            try:
                answer = upload(server.url, tokens[name], body, timeout=10)
            except httpx.HTTPError:
                return  # the server is gone: this upload was never acknowledged
            if answer.status_code == 202:
                with lock:
                    acked.append(answer.json()["id"])
                    if len(acked) >= 10:
                        enough.set()

    threads = [threading.Thread(target=submit_all, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    assert enough.wait(60), "the burst did not get going"
    server.kill()  # SIGKILL, in the middle of the burst
    for thread in threads:
        thread.join(30)
    artifacts = server.data_dir / "artifacts"
    torn = artifacts / f"{TEMPORARY_PREFIX}{'0' * 32}-torn.tar.gz"
    torn.write_bytes(b"\x1f\x8b half an upload")  # what a write cut short leaves behind

    restarted = server_factory("--workers", "2", "--lease-s", LEASE_S, data_dir=server.data_dir)
    restarted.start()
    store = open_store(server.data_dir)
    deadline_poll(
        lambda: not store.submissions(status="queued") and not store.submissions(status="running"),
        90, "the queue to drain after the restart", every=0.2,
    )  # fmt: skip
    rows = store.submissions()
    stored = [row["id"] for row in rows]
    again = sum(row["attempts"] > 1 for row in rows)
    print(f"\nfault: {len(acked)} acknowledged before SIGKILL, {len(rows)} stored, "
          f"{again} evaluated again after the restart")  # fmt: skip
    assert set(acked) <= set(stored) and len(stored) == len(set(stored))  # none lost, no dupes
    unfinished = [row for row in rows if row["status"] != "done"]
    assert not unfinished, [(row["id"], row["status"], row["error"]) for row in unfinished]
    for row in rows:  # every stored artifact is whole; nothing half-written is referenced
        data = (artifacts / row["artifact"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"]
    assert not torn.exists() and not list(artifacts.glob(f"{TEMPORARY_PREFIX}*"))
    board = httpx.get(f"{restarted.url}/api/tracks/compression/leaderboard").json()["entries"]
    assert {entry["id"] for entry in board} <= set(stored)


def test_a_worker_killed_during_an_evaluation_is_replaced_and_the_job_evaluated_again(
    server_factory, packed, postgres_url
):
    """On PostgreSQL: the server, its workers and ``admin`` share one database by URL."""
    server = server_factory("--workers", "1", "--lease-s", LEASE_S, database_url=postgres_url)
    tokens = enrol(server, ["ada"])
    server.start()
    submission_id = upload(server.url, tokens["ada"], packed("ada", code=SLOW_MODEL)).json()["id"]
    url = f"{server.url}/api/submissions/{submission_id}"
    deadline_poll(lambda: httpx.get(url).json()["status"] == "running", 30, "the evaluation")
    (victim,) = server.workers()
    os.kill(victim, signal.SIGKILL)
    deadline_poll(lambda: httpx.get(url).json()["status"] == "done", 60, "the re-evaluation")
    detail = httpx.get(url).json()
    assert detail["attempts"] == 2 and detail["evaluation"]["valid"]
    assert victim not in server.workers()
