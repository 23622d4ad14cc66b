"""The leaderboard's web application: the JSON API and the HTML pages (FastAPI).

``POST /api/submissions?track=NAME`` with ``Authorization: Bearer TOKEN`` and the ``.tar.gz``
from ``pack_submission`` as the body. Before answering 202 the server has: found the token's
participant, checked the size, the archive and the manifest (its name must be the token's
participant, its track the one asked for), written the artifact atomically and committed the
queued row. Acknowledged means durable. The server never imports submitted code: it reads the
manifest only; the workers evaluate.
"""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from tinytorch.olympics.submission import SubmissionError, load_manifest
from tinytorch.olympics.tracks import TRACKS, Track, get_track
from tito.leaderboard import pages
from tito.leaderboard.archive import (
    ArchiveError,
    ArchiveLimits,
    read_archive,
    unpack_files,
    write_atomically,
)
from tito.leaderboard.store import Participant, RateLimitError, Store

ARTIFACTS = "artifacts"


@dataclass(frozen=True)
class ServerSettings:
    """What an instructor can set for a server (``tito olympics serve --help``)."""

    data_dir: Path
    max_upload_bytes: int = 16 * 2**20
    rate_limit: int = 20
    rate_window_s: float = 3600.0
    archive_limits: ArchiveLimits = field(default_factory=ArchiveLimits)


def chart_axis(track: Track) -> tuple[str, str]:
    """The chart's x axis: file size when the track ranks size, p90 latency otherwise."""
    if track.metric == "size_bytes":
        return "size_bytes", "model file size (bytes)"
    return "p90_ms", "p90 latency (ms)"


def track_summary(track: Track) -> dict[str, Any]:
    return {
        "name": track.name,
        "task": track.task,
        "score": f"{track.metric} ({track.unit})" if track.unit else track.metric,
        "higher_is_better": track.higher_is_better,
    }


def rank(track: Track, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Leaderboard entries: each participant's best measured submission, best first.

    Ties go to the earlier submission. Only rows the worker marked ``done`` come in, and their
    metrics are the worker's measurements.
    """
    sign = -1.0 if track.higher_is_better else 1.0
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["competition"], row["name"])
        current = best.get(key)
        if current is None or sign * row["score"] < sign * current["score"]:
            best[key] = row
    ordered = sorted(best.values(), key=lambda row: (sign * row["score"], row["submitted_at"]))
    return [
        {
            "rank": position,
            "name": row["name"],
            "division": row["division"],
            "techniques": row["techniques"],
            "score": row["score"],
            "accuracy": row["accuracy"],
            "p90_ms": row["p90_ms"],
            "size_bytes": row["size_bytes"],
            "submitted_at": row["submitted_at"],
            "id": row["id"],
        }
        for position, row in enumerate(ordered, start=1)
    ]


def _track_or_404(name: str) -> Track:
    try:
        return get_track(name)
    except ValueError as error:
        raise HTTPException(404, str(error)) from None


def _bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            401,
            "missing token: send 'Authorization: Bearer TOKEN' (the token your instructor gave"
            " you; tito olympics submit --token TOKEN)",
        )
    return token.strip()


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it exceeds ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the upload is {declared} bytes; the limit is {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"the upload is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _check_manifest(files: dict[str, bytes], track: Track, participant: Participant):
    """The submission's manifest, validated; its name must be the token's participant."""
    with tempfile.TemporaryDirectory(prefix="tito-manifest-") as folder:
        try:
            manifest = load_manifest(unpack_files(files, Path(folder)))
        except SubmissionError as error:
            raise HTTPException(400, f"invalid submission: {error}") from None
    if manifest.track != track.name:
        raise HTTPException(
            400, f"the manifest is for track {manifest.track!r} but was sent to {track.name!r}"
        )
    if manifest.name != participant.name:
        raise HTTPException(
            403,
            f"this token belongs to {participant.name!r}; the manifest names {manifest.name!r}"
            " (a token submits only as its own participant)",
        )
    return manifest


def _accept(store: Store, settings: ServerSettings, token: str, track: Track, data: bytes) -> int:
    """Everything after the body is read (runs on a worker thread: it blocks)."""
    participant = store.participant_for_token(token)
    if participant is None:
        raise HTTPException(401, "unknown token: ask your instructor for yours")
    if track.name not in participant.tracks:
        raise HTTPException(
            403, f"competition {participant.competition!r} runs {', '.join(participant.tracks)}"
        )
    try:
        files = read_archive(data, settings.archive_limits)
    except ArchiveError as error:
        raise HTTPException(400, f"rejected archive: {error}") from None
    manifest = _check_manifest(files, track, participant)
    folder = settings.data_dir / ARTIFACTS
    artifact = f"{uuid.uuid4().hex}.tar.gz"
    write_atomically(folder, artifact, data)
    try:
        return store.add_submission(
            participant,
            track=track.name,
            division=manifest.division,
            techniques=list(manifest.techniques),
            artifact=artifact,
            sha256=hashlib.sha256(data).hexdigest(),
            rate_limit=settings.rate_limit,
            rate_window_s=settings.rate_window_s,
        )
    except RateLimitError as error:
        (folder / artifact).unlink(missing_ok=True)
        raise HTTPException(429, f"rate limit: {error}; try again later") from None
    except BaseException:
        (folder / artifact).unlink(missing_ok=True)
        raise


def _public(submission: dict[str, Any]) -> dict[str, Any]:
    """A submission as the API shows it."""
    return {
        "id": submission["id"],
        "track": submission["track"],
        "name": submission["name"],
        "status": submission["status"],
        "evaluation": submission["evaluation"],
        "error": submission["error"],
        "division": submission["division"],
        "techniques": submission["techniques"],
        "submitted_at": submission["submitted_at"],
        "finished_at": submission["finished_at"],
        "attempts": submission["attempts"],
    }


def create_app(store: Store, settings: ServerSettings) -> FastAPI:
    """The application for one store and data directory."""
    # No Swagger or ReDoc pages: they load their scripts from a CDN, and machines may be offline.
    app = FastAPI(
        title="Torch Olympics leaderboard",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )

    @app.post("/api/submissions", status_code=202)
    async def submit(request: Request, track: str) -> dict[str, Any]:
        token = _bearer_token(request)
        chosen = _track_or_404(track)
        data = await _read_body(request, settings.max_upload_bytes)
        submission_id = await run_in_threadpool(_accept, store, settings, token, chosen, data)
        return {"id": submission_id, "status": "queued"}

    @app.get("/api/submissions/{submission_id}")
    def submission(submission_id: int) -> dict[str, Any]:
        found = store.submission(submission_id)
        if found is None:
            raise HTTPException(404, f"no submission {submission_id}")
        return _public(found)

    @app.get("/api/tracks")
    def tracks() -> dict[str, Any]:
        return {"tracks": [track_summary(track) for track in TRACKS.values()]}

    @app.get("/api/tracks/{track}/leaderboard")
    def leaderboard(track: str) -> dict[str, Any]:
        chosen = _track_or_404(track)
        entries = rank(chosen, store.submissions(chosen.name, status="done"))
        return {"track": chosen.name, "entries": entries}

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        summaries = []
        for track in TRACKS.values():
            rows = store.submissions(track.name)
            summaries.append(
                {
                    **track_summary(track),
                    "ranked": len(rank(track, [r for r in rows if r["status"] == "done"])),
                    "waiting": sum(r["status"] in ("queued", "running") for r in rows),
                }
            )
        return pages.index_page(summaries)

    @app.get("/tracks/{track}", response_class=HTMLResponse)
    def track_board(track: str) -> str:
        chosen = _track_or_404(track)
        rows = store.submissions(chosen.name)
        entries = rank(chosen, [row for row in rows if row["status"] == "done"])
        waiting = sum(row["status"] in ("queued", "running") for row in rows)
        x_key, x_label = chart_axis(chosen)
        return pages.track_page(track_summary(chosen), entries, waiting, x_key, x_label)

    @app.get("/submissions/{submission_id}", response_class=HTMLResponse)
    def submission_html(submission_id: int) -> str:
        found = store.submission(submission_id)
        if found is None:
            raise HTTPException(404, f"no submission {submission_id}")
        return pages.submission_page(found)

    return app
