"""The HTTP API and pages with FastAPI's test client, on SQLite and on a real PostgreSQL.

Every test here runs twice (the ``store`` fixture's two backends). Evaluations are real: the
worker's ``run_once`` runs the sandbox and ``tinytorch.olympics.evaluate`` on tiny models.
"""

from __future__ import annotations

import io
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.olympics_server.helpers import QUICK_OPTIONS, needs_server_extras

needs_server_extras()

from fastapi.testclient import TestClient  # noqa: E402

from tito.leaderboard.app import ServerSettings, create_app  # noqa: E402
from tito.leaderboard.store import Store  # noqa: E402
from tito.leaderboard.worker import Worker, WorkerSettings  # noqa: E402

pytestmark = pytest.mark.olympics_server

MANIFEST = 'track = "compression"\ndivision = "closed"\nname = "{name}"\ntechniques = []\n'


@pytest.fixture
def settings(store: Store, tmp_path: Path) -> ServerSettings:
    return ServerSettings(data_dir=tmp_path / "data", max_upload_bytes=64 * 1024, rate_limit=3)


@pytest.fixture
def client(store: Store, settings: ServerSettings) -> TestClient:
    return TestClient(create_app(store, settings))


@pytest.fixture
def tokens(store: Store) -> dict[str, str]:
    return store.add_participants("class", ["ada", "grace"])


@pytest.fixture
def worker(store: Store, settings: ServerSettings) -> Iterator[Worker]:
    worker = Worker(store, WorkerSettings(settings.data_dir, track_options=QUICK_OPTIONS))
    yield worker
    worker.close()


def post(client: TestClient, body: bytes, token: str | None, track: str = "compression"):
    headers = {"Content-Type": "application/gzip"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.post(f"/api/submissions?track={track}", content=body, headers=headers)


def tar_gz(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    """A .tar.gz written member by member (to build archives pack_submission never makes)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def files_of(body: bytes) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
        return [(member, archive.extractfile(member).read()) for member in archive]


def stored_artifacts(settings: ServerSettings) -> list[Path]:
    return list((settings.data_dir / "artifacts").glob("*"))


def test_submissions_are_measured_by_the_server_and_ranked(
    client, tokens, worker, packed, settings
):
    ada = post(client, packed("ada", hidden=16), tokens["ada"])
    grace = post(client, packed("grace", hidden=4), tokens["grace"])
    assert ada.status_code == grace.status_code == 202, (ada.text, grace.text)
    assert ada.json()["status"] == "queued"
    first = client.get(f"/api/submissions/{ada.json()['id']}").json()
    assert (first["name"], first["track"], first["status"]) == ("ada", "compression", "queued")
    assert client.get("/api/tracks/compression/leaderboard").json()["entries"] == []

    assert worker.run_once() and worker.run_once()
    assert not worker.run_once()  # nothing left

    board = client.get("/api/tracks/compression/leaderboard").json()
    assert [entry["name"] for entry in board["entries"]] == ["grace", "ada"]  # smaller first
    assert [entry["rank"] for entry in board["entries"]] == [1, 2]
    for entry in board["entries"]:
        detail = client.get(f"/api/submissions/{entry['id']}").json()
        assert detail["status"] == "done" and detail["attempts"] == 1
        assert entry["score"] == entry["size_bytes"] == detail["evaluation"]["size_bytes"]
        assert 0.0 <= entry["accuracy"] <= 1.0 and entry["p90_ms"] > 0
    page = client.get("/tracks/compression").text
    assert page.index(">grace<") < page.index(">ada<")
    assert page.count("<circle class='point'") == 2 and "class='front'" in page
    assert "done" in client.get(f"/submissions/{ada.json()['id']}").text
    assert "compression" in client.get("/").text
    data = str(settings.data_dir)
    imported = [m for m in list(sys.modules.values()) if data in str(getattr(m, "__file__", ""))]
    assert imported == [] and "submitted_model" not in sys.modules  # no submitted code here


@pytest.mark.parametrize(
    "token, status, message",
    [(None, 401, "missing token"), ("forged-token", 401, "unknown token")],
)
def test_a_missing_or_forged_token_is_refused(client, tokens, packed, settings, token, status,
                                              message):  # fmt: skip
    answer = post(client, packed("ada"), token)
    assert answer.status_code == status and message in answer.json()["detail"]
    assert stored_artifacts(settings) == []


def test_a_token_submits_only_as_its_own_participant(client, tokens, packed, store, settings):
    answer = post(client, packed("grace"), tokens["ada"])
    assert answer.status_code == 403
    assert "belongs to 'ada'" in answer.json()["detail"]
    assert store.submissions() == [] and stored_artifacts(settings) == []


def test_an_oversized_upload_is_refused(client, tokens, packed, settings):
    answer = post(client, packed("ada", hidden=512), tokens["ada"])  # ~140 kB of weights
    assert answer.status_code == 413 and "limit" in answer.json()["detail"]
    assert stored_artifacts(settings) == []


def test_unknown_track_is_404_and_names_the_tracks(client, tokens, packed):
    answer = post(client, packed("ada"), tokens["ada"], track="chess")
    assert answer.status_code == 404 and "compression" in answer.json()["detail"]


def test_a_track_the_competition_does_not_run_is_refused(client, tokens, packed):
    answer = post(client, packed("ada", track="vision"), tokens["ada"], track="vision")
    assert answer.status_code == 403 and "runs compression, speed" in answer.json()["detail"]


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


@pytest.mark.parametrize(
    "bad, reason",
    [
        ((_member("../model.py"), b"x"), "'..'"),
        ((_member("/etc/model.py"), b"x"), "absolute"),
        ((_member("link.py", tarfile.SYMTYPE, "/etc/passwd"), None), "a link"),
        ((_member("hard.py", tarfile.LNKTYPE, "model.py"), None), "a link"),
        ((_member("tty", tarfile.CHRTYPE), None), "a device"),
        ((_member("pipe", tarfile.FIFOTYPE), None), "a pipe"),
    ],
)
def test_unsafe_archive_members_are_refused(client, tokens, packed, store, settings, bad, reason):
    body = tar_gz([*files_of(packed("ada")), bad])
    answer = post(client, body, tokens["ada"])
    assert answer.status_code == 400 and reason in answer.json()["detail"]
    assert store.submissions() == [] and stored_artifacts(settings) == []


def test_not_an_archive_is_refused(client, tokens):
    answer = post(client, b"model weights, honest", tokens["ada"])
    assert answer.status_code == 400 and "tar.gz" in answer.json()["detail"]


@pytest.mark.parametrize(
    "manifest, reason",
    [
        (MANIFEST.format(name="ada") + "score = 0.999\n", "unknown ['score']"),  # self-reported
        ('track = "compression"\nname = "ada"\n', "missing"),
        ("this is = not toml [", "not valid TOML"),
        (MANIFEST.format(name="ada").replace("closed", "secret"), "division"),
        (MANIFEST.replace("compression", "speed").format(name="ada"), "track 'speed'"),
    ],
)
def test_malformed_manifests_are_refused(client, tokens, packed, settings, manifest, reason):
    members = [
        (info, manifest.encode() if info.name == "submission.toml" else data)
        for info, data in files_of(packed("ada"))
    ]
    answer = post(client, tar_gz(members), tokens["ada"])
    assert answer.status_code == 400 and reason in answer.json()["detail"], answer.text
    assert stored_artifacts(settings) == []


def test_rate_limit_per_participant(client, tokens, packed, settings):
    body = packed("ada")
    answers = [post(client, body, tokens["ada"]).status_code for _ in range(4)]
    assert answers == [202, 202, 202, 429]
    assert post(client, packed("grace"), tokens["grace"]).status_code == 202  # others unaffected
    assert len(stored_artifacts(settings)) == 4


def test_a_lease_that_runs_out_is_claimed_again_and_only_the_new_claim_records(store, tokens):
    participant = store.participant_for_token(tokens["ada"])
    store.add_submission(
        participant, track="compression", division="closed", techniques=[],
        artifact="a.tar.gz", sha256="0", rate_limit=9, rate_window_s=60,
    )  # fmt: skip
    held = store.claim(lease_s=60)
    assert held is not None and store.claim(lease_s=60) is None  # leased: nobody else gets it
    assert store.renew(held, lease_s=-1)  # the lease runs out (as if its worker died)
    again = store.claim(lease_s=60)
    assert again.id == held.id and again.attempts == 2
    evaluation = {"score": 1.0, "accuracy": 0.5, "p90_ms": 1.0, "size_bytes": 10}
    assert not store.finish(held, evaluation=evaluation, error=None)  # stale claim
    assert store.finish(again, evaluation=evaluation, error=None)
    assert not store.finish(again, evaluation=evaluation, error=None)  # recorded once
    assert store.submission(held.id)["status"] == "done"


def test_migrations_are_recorded_and_not_repeated(store, tokens):
    assert store.schema_version() == 1
    assert store.migrate() == 1
    assert store.participant_for_token(tokens["ada"]).name == "ada"
