"""Fixtures of the leaderboard server tests: stores on SQLite and on a real PostgreSQL,
submissions with tiny models, and a ``tito olympics serve`` process on 127.0.0.1.

PostgreSQL is started once per session from ``initdb``/``pg_ctl`` in a temporary folder (as
the ``postgres`` user when the tests run as root); each test gets a fresh schema.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.olympics_server.helpers import Server, free_port, write_submission
from tinytorch.olympics.submission import pack_submission
from tito.leaderboard.store import Store, open_store

_SCHEMAS = itertools.count()
PG_BIN = Path(os.environ.get("TITO_TEST_PG_BIN", "/usr/local/bin"))


@pytest.fixture
def packed(tmp_path: Path) -> Callable[..., bytes]:
    """``packed("ada", hidden=8)``: the bytes ``tito olympics submit`` would upload."""
    count = iter(range(10_000))

    def make(name: str, **options) -> bytes:
        return pack_submission(write_submission(tmp_path / f"sub{next(count)}", name, **options))

    return make


# -- PostgreSQL ---------------------------------------------------------------------------
def _as_postgres_user() -> list[str]:
    """``initdb`` refuses to run as root: run it as the ``postgres`` (else ``nobody``) user."""
    if os.geteuid() != 0:
        return []
    import pwd

    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
            return ["runuser", "-u", user, "--"]
        except KeyError:
            continue
    pytest.skip("running as root and no 'postgres' or 'nobody' user to run PostgreSQL as")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server for this session; its URL without a database name. Stopped and
    deleted at the end of the session."""
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        pytest.skip(
            f"PostgreSQL binaries not found in {PG_BIN} (apt install postgresql, or set "
            "TITO_TEST_PG_BIN to the folder holding initdb and pg_ctl)"
        )
    pytest.importorskip("psycopg", reason="pip install 'psycopg[binary]' for the PostgreSQL tests")
    # Not under pytest's temporary root: that folder is private to the user running the tests.
    folder = Path(tempfile.mkdtemp(prefix="tito-test-postgres-"))
    prefix = _as_postgres_user()
    if prefix:
        shutil.chown(folder, user=prefix[2])
    data, port = folder / "data", free_port()
    run = dict(check=True, capture_output=True, timeout=120)
    subprocess.run([*prefix, str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres",
                    "--auth=trust", "-E", "UTF8", "--no-sync"], **run)  # fmt: skip
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=300"
    subprocess.run([*prefix, str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options,
                    "-l", str(folder / "log"), "-w", "start"], **run)  # fmt: skip
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run([*prefix, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "-w", "stop"], capture_output=True, timeout=60)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A fresh, empty schema on the session's server (cheaper than a database per test): the
    URL sets it as the search path, so the store's tables land there."""
    import psycopg

    name = f"test_{next(_SCHEMAS)}"
    with psycopg.connect(f"{postgres_server}/postgres", autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {name}")
    return f"{postgres_server}/postgres?options=-csearch_path%3D{name}"


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path: Path) -> Iterator[Store]:
    """A migrated store with competition ``class`` (every track), on each backend."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    opened = open_store(_data_dir(tmp_path), url)
    opened.migrate()
    opened.create_competition("class", ["compression", "speed"])
    yield opened
    opened.close()


def _data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """``server_factory(*serve_options)``: a started server; all are stopped at the end."""
    started: list[Server] = []

    def make(*extra: str, data_dir: Path | None = None, database_url: str | None = None):
        server = Server(data_dir or _data_dir(tmp_path), *extra, database_url=database_url)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
