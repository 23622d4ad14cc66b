"""``tito olympics admin`` and ``serve``'s argument checks (in process, on SQLite)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.olympics_server.helpers import QUICK_OPTIONS, needs_server_extras, write_submission

needs_server_extras()

from tinytorch.olympics.submission import pack_submission  # noqa: E402
from tito.leaderboard.app import ServerSettings, create_app  # noqa: E402
from tito.leaderboard.cli import main  # noqa: E402
from tito.leaderboard.store import hash_token, open_store  # noqa: E402
from tito.leaderboard.worker import Worker, WorkerSettings  # noqa: E402

pytestmark = pytest.mark.olympics_server


def admin(data: Path, *words: str) -> int:
    return main(["admin", "--data-dir", str(data), *words])


def test_competition_participants_tokens_and_csv_export(tmp_path, capsys):
    from fastapi.testclient import TestClient

    data = tmp_path / "data"
    assert admin(data, "create-competition", "fall", "--tracks", "compression") == 0
    capsys.readouterr()
    assert admin(data, "add-participant", "--competition", "fall", "--json", "ada", "bob") == 0
    tokens = json.loads(capsys.readouterr().out)
    assert set(tokens) == {"ada", "bob"} and tokens["ada"] != tokens["bob"]
    store = open_store(data)
    with store.transaction() as tx:
        stored = tx.execute("SELECT * FROM participants WHERE name = 'ada'")[0]
    assert stored["token_hash"] == hash_token(tokens["ada"])  # only the hash is stored
    assert tokens["ada"] not in [str(value) for value in stored.values()]
    client = TestClient(create_app(store, ServerSettings(data_dir=data)))
    for name, hidden in (("ada", 16), ("bob", 4)):
        body = pack_submission(write_submission(tmp_path / name, name, hidden=hidden))
        headers = {"Authorization": f"Bearer {tokens[name]}"}
        assert client.post("/api/submissions?track=compression", content=body,
                           headers=headers).status_code == 202  # fmt: skip
    worker = Worker(store, WorkerSettings(data, track_options=QUICK_OPTIONS))
    while worker.run_once():
        pass
    worker.close()

    assert admin(data, "export", "compression", "--output", str(tmp_path / "board.csv")) == 0
    rows = list(csv.DictReader(io.StringIO((tmp_path / "board.csv").read_text())))
    assert [(row["rank"], row["name"]) for row in rows] == [("1", "bob"), ("2", "ada")]
    assert int(rows[0]["size_bytes"]) < int(rows[1]["size_bytes"])


def test_tokens_never_read_as_command_line_options(tmp_path):
    """``tito olympics submit --token TOKEN``: a token starting with "-" would be taken for an
    option. Among 300 random URL-safe tokens about five would."""
    store = open_store(tmp_path)
    store.migrate()
    store.create_competition("fall", ["compression"])
    tokens = store.add_participants("fall", [f"learner{i}" for i in range(300)]).values()
    assert len(set(tokens)) == 300
    assert all(token[0].isalnum() and len(token) >= 32 for token in tokens)


def test_admin_refuses_with_a_clear_message(tmp_path, capsys):
    data = tmp_path / "data"
    assert admin(data, "add-participant", "--competition", "nope", "ada") == 1
    assert "create it first" in capsys.readouterr().err
    assert admin(data, "create-competition", "fall", "--tracks", "chess") == 1
    assert "unknown track 'chess'" in capsys.readouterr().err
    assert admin(data, "create-competition", "fall") == 0
    assert admin(data, "create-competition", "fall") == 1
    assert "exists already" in capsys.readouterr().err
    assert admin(data, "add-participant", "--competition", "fall", "ada") == 0
    assert admin(data, "add-participant", "--competition", "fall", "bob", "ada") == 1
    assert "'ada' is already a participant" in capsys.readouterr().err
    with open_store(data).transaction(write=False) as tx:
        names = [row["name"] for row in tx.execute("SELECT name FROM participants")]
    assert names == ["ada"]  # all or none: bob was not added either
    assert admin(data, "add-participant", "--competition", "fall", "<b>ada</b>") == 2
    assert "participant name" in capsys.readouterr().err


@pytest.mark.parametrize(
    "words, message",
    [
        (["--track-option", "compression.latency_queries"], "TRACK.FIELD=VALUE"),
        (["--track-option", "compression.speed=3"], "has no field 'speed'"),
        (["--track-option", "compression.latency_queries=many"], "latency_queries"),
        (["--database-url", "mysql://localhost/x"], "unsupported database URL"),
        (["--workers", "0"], "at least 1"),
    ],
)
def test_serve_refuses_bad_options_before_starting(tmp_path, capsys, words, message):
    code = main(["serve", "--data-dir", str(tmp_path / "data"), *words])
    assert code in (1, 2) and message in capsys.readouterr().err
