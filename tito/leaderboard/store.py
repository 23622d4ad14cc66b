"""The leaderboard's database: one interface, two backends (SQLite and PostgreSQL).

Every query is written once with ``?`` placeholders; the PostgreSQL backend rewrites them to
``%s``. Only the primary-key column type differs between the two schemas. The server creates
and migrates the schema itself: ``schema_version`` holds the number of migrations applied.

Timestamps are seconds since the epoch (``time.time()``), passed in by the caller so that both
backends compare the same clock.

A submission moves ``queued -> running -> done | failed``. A worker *claims* one with a lease
(``lease_until``) that it renews while it evaluates; a submission whose lease ran out (its worker
was killed) is claimed again. Every claim gets a fresh ``claim`` id, and only the holder of the
current claim can record a result, so each acknowledged submission gets exactly one recorded
evaluation. ``attempts`` counts the claims.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SQLITE_FILE = "leaderboard.sqlite3"

#: Each migration is a list of statements; ``{pk}`` is the backend's auto-increment key type.
MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE competitions (
            id {pk},
            name TEXT NOT NULL UNIQUE,
            tracks TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL)""",
        """CREATE TABLE participants (
            id {pk},
            competition_id INTEGER NOT NULL REFERENCES competitions(id),
            name TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,
            created_at DOUBLE PRECISION NOT NULL,
            last_submit_at DOUBLE PRECISION,
            UNIQUE (competition_id, name))""",
        """CREATE TABLE submissions (
            id {pk},
            participant_id INTEGER NOT NULL REFERENCES participants(id),
            track TEXT NOT NULL,
            division TEXT NOT NULL,
            techniques TEXT NOT NULL,
            artifact TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            status TEXT NOT NULL,
            submitted_at DOUBLE PRECISION NOT NULL,
            claim TEXT,
            lease_until DOUBLE PRECISION,
            attempts INTEGER NOT NULL DEFAULT 0,
            evaluation TEXT,
            error TEXT,
            score DOUBLE PRECISION,
            accuracy DOUBLE PRECISION,
            p90_ms DOUBLE PRECISION,
            size_bytes BIGINT,
            finished_at DOUBLE PRECISION)""",
        "CREATE INDEX submissions_status ON submissions (status, id)",
        "CREATE INDEX submissions_track ON submissions (track, status)",
        "CREATE INDEX submissions_participant ON submissions (participant_id, submitted_at)",
    ],
]

SUBMISSION_COLUMNS = """s.id, s.track, s.division, s.techniques, s.artifact, s.sha256, s.status,
    s.submitted_at, s.attempts, s.evaluation, s.error, s.score, s.accuracy, s.p90_ms,
    s.size_bytes, s.finished_at, p.name, c.name AS competition"""
SUBMISSION_JOIN = """submissions s JOIN participants p ON p.id = s.participant_id
    JOIN competitions c ON c.id = p.competition_id"""


class StoreError(Exception):
    """A request the store refuses (unknown competition, duplicate name, ...), said plainly."""


class RateLimitError(StoreError):
    """The participant has used up their submissions for the current window."""


def hash_token(token: str) -> str:
    """The stored form of a token: its SHA-256 (a token is 256 random bits: no salt needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Participant:
    id: int
    name: str
    competition: str
    tracks: tuple[str, ...]


@dataclass(frozen=True)
class Claim:
    """A submission a worker holds: evaluate it, then ``finish`` with the same ``claim``."""

    id: int
    track: str
    artifact: str
    sha256: str
    claim: str
    attempts: int


class Transaction:
    """Runs statements inside one database transaction; rows come back as dicts."""

    def __init__(self, connection: Any, placeholder: str) -> None:
        self._connection = connection
        self._placeholder = placeholder

    def execute(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        cursor = self._connection.execute(sql.replace("?", self._placeholder), params)
        if cursor.description is None:
            return []
        return [dict(row) for row in cursor.fetchall()]

    def rowcount(self, sql: str, params: tuple = ()) -> int:
        """Run an UPDATE or DELETE; how many rows it changed."""
        return self._connection.execute(sql.replace("?", self._placeholder), params).rowcount


class Store:
    """The leaderboard database. ``open_store`` picks the backend; use one Store per process.

    Connections are kept per thread (the web server answers requests on a thread pool).
    """

    placeholder = "?"
    primary_key = "INTEGER PRIMARY KEY AUTOINCREMENT"

    def __init__(self) -> None:
        self._local = threading.local()

    # -- backend hooks -------------------------------------------------------------------
    def _connect(self) -> Any:
        raise NotImplementedError

    def _begin(self, write: bool) -> str:
        return "BEGIN"

    def describe(self) -> str:
        raise NotImplementedError

    # -- connections and transactions ----------------------------------------------------
    def _connection(self) -> Any:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._connect()
        return connection

    @contextmanager
    def transaction(self, write: bool = True) -> Iterator[Transaction]:
        """One transaction: committed when the block ends, rolled back if it raises.
        ``write=False`` for one that only reads (SQLite then lets it run beside a writer)."""
        connection = self._connection()
        connection.execute(self._begin(write))
        try:
            yield Transaction(connection, self.placeholder)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    # -- schema --------------------------------------------------------------------------
    def migrate(self) -> int:
        """Create or upgrade the schema to the newest version; the version now in place."""
        with self.transaction() as tx:
            tx.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            rows = tx.execute("SELECT MAX(version) AS version FROM schema_version")
            current = rows[0]["version"] or 0
            for version in range(current + 1, len(MIGRATIONS) + 1):
                for statement in MIGRATIONS[version - 1]:
                    tx.execute(statement.replace("{pk}", self.primary_key))
                tx.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
        return len(MIGRATIONS)

    def schema_version(self) -> int:
        with self.transaction(write=False) as tx:
            rows = tx.execute("SELECT MAX(version) AS version FROM schema_version")
        return rows[0]["version"] or 0

    # -- competitions and participants ---------------------------------------------------
    def create_competition(self, name: str, tracks: list[str]) -> int:
        """A new competition running ``tracks``; its id."""
        with self.transaction() as tx:
            if tx.execute("SELECT id FROM competitions WHERE name = ?", (name,)):
                raise StoreError(f"a competition named {name!r} exists already")
            rows = tx.execute(
                "INSERT INTO competitions (name, tracks, created_at) VALUES (?, ?, ?) RETURNING id",
                (name, json.dumps(sorted(tracks)), time.time()),
            )
        return rows[0]["id"]

    def add_participants(self, competition: str, names: list[str]) -> dict[str, str]:
        """Register ``names`` in ``competition``, all or none; each one's new token (shown
        once, stored hashed)."""
        # Hex, so that a token never starts with "-" and reads as an option on a command line.
        tokens = {name: secrets.token_hex(32) for name in names}
        with self.transaction() as tx:
            found = tx.execute("SELECT id FROM competitions WHERE name = ?", (competition,))
            if not found:
                raise StoreError(
                    f"no competition named {competition!r}: "
                    "create it first with `tito olympics admin create-competition`"
                )
            for name, token in tokens.items():
                taken = tx.execute(
                    "SELECT id FROM participants WHERE competition_id = ? AND name = ?",
                    (found[0]["id"], name),
                )
                if taken:
                    raise StoreError(f"{name!r} is already a participant of {competition!r}")
                tx.execute(
                    "INSERT INTO participants (competition_id, name, token_hash, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    (found[0]["id"], name, hash_token(token), time.time()),
                )
        return tokens

    def participant_for_token(self, token: str) -> Participant | None:
        """The participant this token belongs to, or None for an unknown token."""
        with self.transaction(write=False) as tx:
            rows = tx.execute(
                "SELECT p.id, p.name, c.name AS competition, c.tracks FROM participants p"
                " JOIN competitions c ON c.id = p.competition_id WHERE p.token_hash = ?",
                (hash_token(token),),
            )
        if not rows:
            return None
        row = rows[0]
        tracks = tuple(json.loads(row["tracks"]))
        return Participant(row["id"], row["name"], row["competition"], tracks)

    def competitions(self) -> list[dict[str, Any]]:
        with self.transaction(write=False) as tx:
            rows = tx.execute("SELECT name, tracks, created_at FROM competitions ORDER BY id")
        return [{**row, "tracks": json.loads(row["tracks"])} for row in rows]

    # -- submissions ---------------------------------------------------------------------
    def add_submission(
        self,
        participant: Participant,
        *,
        track: str,
        division: str,
        techniques: list[str],
        artifact: str,
        sha256: str,
        rate_limit: int,
        rate_window_s: float,
    ) -> int:
        """Queue a submission whose artifact is already on disk; its id.

        Raises ``RateLimitError`` when the participant already has ``rate_limit`` submissions
        in the last ``rate_window_s`` seconds. Updating the participant's row first locks it, so two
        uploads of the same participant cannot both slip under the limit.
        """
        now = time.time()
        with self.transaction() as tx:
            tx.execute(
                "UPDATE participants SET last_submit_at = ? WHERE id = ?", (now, participant.id)
            )
            recent = tx.execute(
                "SELECT COUNT(*) AS n FROM submissions"
                " WHERE participant_id = ? AND submitted_at > ?",
                (participant.id, now - rate_window_s),
            )[0]["n"]
            if recent >= rate_limit:
                raise RateLimitError(
                    f"at most {rate_limit} submissions per {rate_window_s / 60:g} minutes"
                )
            rows = tx.execute(
                "INSERT INTO submissions (participant_id, track, division, techniques, artifact,"
                " sha256, status, submitted_at)"
                " VALUES (?, ?, ?, ?, ?, ?, 'queued', ?) RETURNING id",
                (participant.id, track, division, json.dumps(techniques), artifact, sha256, now),
            )
        return rows[0]["id"]

    def submission(self, submission_id: int) -> dict[str, Any] | None:
        with self.transaction(write=False) as tx:
            rows = tx.execute(
                f"SELECT {SUBMISSION_COLUMNS} FROM {SUBMISSION_JOIN} WHERE s.id = ?",
                (submission_id,),
            )
        return _decode(rows[0]) if rows else None

    def submissions(self, track: str | None = None, status: str | None = None) -> list[dict]:
        """All submissions (of one track, in one status), oldest first."""
        where, params = [], []
        if track is not None:
            where.append("s.track = ?")
            params.append(track)
        if status is not None:
            where.append("s.status = ?")
            params.append(status)
        condition = f"WHERE {' AND '.join(where)}" if where else ""
        with self.transaction(write=False) as tx:
            rows = tx.execute(
                f"SELECT {SUBMISSION_COLUMNS} FROM {SUBMISSION_JOIN} {condition} ORDER BY s.id",
                tuple(params),
            )
        return [_decode(row) for row in rows]

    # -- the worker's side ---------------------------------------------------------------
    def has_work(self) -> bool:
        """Is any submission waiting (queued, or running with an expired lease)? Read only."""
        with self.transaction(write=False) as tx:
            rows = tx.execute(
                "SELECT id FROM submissions WHERE status = 'queued'"
                " OR (status = 'running' AND lease_until < ?) LIMIT 1",
                (time.time(),),
            )
        return bool(rows)

    def claim(self, lease_s: float) -> Claim | None:
        """Take the oldest waiting submission for ``lease_s`` seconds, or None if none waits.

        The waiting condition is repeated outside the sub-select: under PostgreSQL two workers
        can pick the same id, and the second UPDATE then re-checks the row, finds it running
        and changes nothing.
        """
        now = time.time()
        claim = secrets.token_hex(16)
        waiting = "(status = 'queued' OR (status = 'running' AND lease_until < ?))"
        with self.transaction() as tx:
            rows = tx.execute(
                "UPDATE submissions SET status = 'running', claim = ?, lease_until = ?,"
                " attempts = attempts + 1"
                f" WHERE id = (SELECT id FROM submissions WHERE {waiting} ORDER BY id LIMIT 1)"
                f" AND {waiting} RETURNING id, track, artifact, sha256, attempts",
                (claim, now + lease_s, now, now),
            )
        if not rows:
            return None
        row = rows[0]
        return Claim(
            row["id"], row["track"], row["artifact"], row["sha256"], claim, row["attempts"]
        )

    def renew(self, claim: Claim, lease_s: float) -> bool:
        """Extend the lease; False when the claim is lost (the lease ran out, another took it)."""
        with self.transaction() as tx:
            changed = tx.rowcount(
                "UPDATE submissions SET lease_until = ? WHERE id = ? AND claim = ?"
                " AND status = 'running'",
                (time.time() + lease_s, claim.id, claim.claim),
            )
        return changed == 1

    def finish(self, claim: Claim, *, evaluation: dict[str, Any] | None, error: str | None) -> bool:
        """Record the result of a claim: ``done`` with metrics when ``error`` is None, else
        ``failed``. False (and nothing recorded) when the claim is no longer current."""
        metrics: dict[str, Any] = {}
        if error is None and evaluation is not None:
            keys = ("score", "accuracy", "p90_ms", "size_bytes")
            metrics = {key: evaluation[key] for key in keys}
        with self.transaction() as tx:
            changed = tx.rowcount(
                "UPDATE submissions SET status = ?, evaluation = ?, error = ?, score = ?,"
                " accuracy = ?, p90_ms = ?, size_bytes = ?, finished_at = ?, lease_until = NULL"
                " WHERE id = ? AND claim = ? AND status = 'running'",
                (
                    "done" if error is None else "failed",
                    None if evaluation is None else json.dumps(evaluation),
                    error,
                    metrics.get("score"),
                    metrics.get("accuracy"),
                    metrics.get("p90_ms"),
                    metrics.get("size_bytes"),
                    time.time(),
                    claim.id,
                    claim.claim,
                ),
            )
        return changed == 1


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    """A submission row with its JSON columns parsed."""
    row = dict(row)
    row["techniques"] = json.loads(row["techniques"])
    row["evaluation"] = json.loads(row["evaluation"]) if row["evaluation"] else None
    return row


class SQLiteStore(Store):
    """One SQLite file in WAL mode; ``synchronous=FULL`` so a committed row survives a crash."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute("PRAGMA foreign_keys = ON")
        return connection

    def _begin(self, write: bool) -> str:
        # A writer takes the write lock at once: one that started as a reader and then wrote
        # would otherwise fail with "database is locked" instead of waiting.
        return "BEGIN IMMEDIATE" if write else "BEGIN"

    def describe(self) -> str:
        return f"SQLite {self.path}"


class PostgresStore(Store):
    """A PostgreSQL database given by a ``postgresql://`` URL (needs psycopg)."""

    placeholder = "%s"
    primary_key = "BIGSERIAL PRIMARY KEY"

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def _connect(self) -> Any:
        try:
            import psycopg
            from psycopg.rows import dict_row
        except ImportError as error:
            raise StoreError(
                "PostgreSQL needs psycopg: pip install 'psycopg[binary]'"
                ' (or pip install -e ".[olympics]")'
            ) from error
        return psycopg.connect(self.url, autocommit=True, row_factory=dict_row)

    def describe(self) -> str:
        return "PostgreSQL " + self.url.split("@")[-1]


def open_store(data_dir: Path, database_url: str | None = None) -> Store:
    """The store of a server: PostgreSQL when ``database_url`` is given, else SQLite in
    ``data_dir``."""
    if database_url:
        if not database_url.startswith(("postgresql://", "postgres://")):
            raise StoreError(
                f"unsupported database URL {database_url!r}: use postgresql://USER@HOST/DB,"
                " or leave --database-url out for SQLite in the data directory"
            )
        return PostgresStore(database_url)
    return SQLiteStore(Path(data_dir) / SQLITE_FILE)
