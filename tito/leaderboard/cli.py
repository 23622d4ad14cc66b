"""``tito olympics serve`` and ``tito olympics admin``: run a leaderboard server for a class.

Instructor, once::

    tito olympics admin --data-dir D create-competition fall26
    tito olympics admin --data-dir D add-participant --competition fall26 ada grace
    tito olympics serve --data-dir D --host 0.0.0.0 --port 8000 --workers 2

``add-participant`` prints each participant's token once (the server keeps only its hash).
``admin export TRACK`` writes the board as CSV. ``--database-url postgresql://...`` uses
PostgreSQL instead of the SQLite file in the data directory; the artifacts stay in the data
directory either way.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from tito.commands.common import FAILED, OK, USAGE, fail, show_help
from tito.leaderboard.store import StoreError

INSTALL = 'pip install -e ".[olympics]"'


def _store_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        required=True,
        help="folder for the database file (SQLite) and the stored submissions",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TITO_OLYMPICS_DATABASE_URL"),
        help="postgresql://USER@HOST/DB to use PostgreSQL (default: SQLite in --data-dir;"
        " also from env TITO_OLYMPICS_DATABASE_URL)",
    )


def _open(args: argparse.Namespace):
    """The migrated store named by ``--data-dir`` / ``--database-url``."""
    from tito.leaderboard.store import open_store

    args.data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(args.data_dir, args.database_url)
    store.migrate()
    return store


def _needs_extra(run):
    """Wrap a command so that a missing optional extra or a store error is a clear message."""

    def checked(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except ImportError as error:
            return fail(f"the leaderboard server needs {error.name}", INSTALL)
        except StoreError as error:
            return fail(str(error))
        except ValueError as error:
            return fail(str(error), "tito olympics serve --help")

    return checked


# -- admin ---------------------------------------------------------------------------------
def _create_competition(args: argparse.Namespace) -> int:
    from tinytorch.olympics.tracks import TRACKS, get_track

    tracks = args.tracks.split(",") if args.tracks else list(TRACKS)
    for name in tracks:
        get_track(name)
    _open(args).create_competition(args.name, tracks)
    print(f"created competition {args.name!r} with tracks {', '.join(tracks)}")
    print(
        f"next:  tito olympics admin --data-dir {args.data_dir} add-participant "
        f"--competition {args.name} NAME ..."
    )
    return OK


def _add_participant(args: argparse.Namespace) -> int:
    from tinytorch.olympics.submission import NAME_PATTERN

    for name in args.names:
        if not NAME_PATTERN.fullmatch(name):
            return fail(
                f"participant name {name!r}: use 1-64 letters, digits, '_', '.' or '-'"
                " (the name a submission's manifest gives)",
                code=USAGE,
            )
    tokens = _open(args).add_participants(args.competition, list(dict.fromkeys(args.names)))
    if args.json:
        print(json.dumps(tokens, indent=2))
    else:
        for name, token in tokens.items():
            print(f"{name}\t{token}")
        print("Give each participant their token now: only its hash is stored.", file=sys.stderr)
    return OK


def _export(args: argparse.Namespace) -> int:
    from tinytorch.olympics.tracks import get_track
    from tito.leaderboard.app import rank

    track = get_track(args.track)
    entries = rank(track, _open(args).submissions(track.name, status="done"))
    columns = [
        "rank",
        "name",
        "division",
        "techniques",
        "score",
        "accuracy",
        "p90_ms",
        "size_bytes",
        "submitted_at",
        "id",
    ]
    with open(args.output, "w", newline="") if args.output else sys.stdout as stream:
        writer = csv.DictWriter(stream, fieldnames=columns)
        writer.writeheader()
        for entry in entries:
            writer.writerow({**entry, "techniques": ";".join(entry["techniques"])})
    return OK


def _register_admin(subcommands) -> None:
    admin = subcommands.add_parser(
        "admin", help="instructors: competitions, participants' tokens, CSV export"
    )
    _store_arguments(admin)
    admin.set_defaults(run=show_help(admin))
    actions = admin.add_subparsers(metavar="ACTION")

    create = actions.add_parser("create-competition", help="create a competition")
    create.add_argument("name")
    create.add_argument("--tracks", help="comma-separated tracks (default: all)")
    create.set_defaults(run=_needs_extra(_create_competition))

    add = actions.add_parser(
        "add-participant", help="add participants; prints each one's token (shown once)"
    )
    add.add_argument("names", nargs="+", metavar="NAME")
    add.add_argument("--competition", required=True)
    add.add_argument("--json", action="store_true", help="print {name: token} as JSON")
    add.set_defaults(run=_needs_extra(_add_participant))

    export = actions.add_parser("export", help="write a track's leaderboard as CSV")
    export.add_argument("track")
    export.add_argument("--output", "-o", help="CSV file (default: standard output)")
    export.set_defaults(run=_needs_extra(_export))


# -- serve ---------------------------------------------------------------------------------
def _start_worker(args: argparse.Namespace) -> subprocess.Popen:
    """One evaluation worker process for this server."""
    command = [sys.executable, "-m", "tito.leaderboard.worker", "--data-dir", str(args.data_dir)]
    command += ["--lease-s", str(args.lease_s), "--parent-pid", str(os.getpid())]
    if args.dataset_dir is not None:
        command += ["--dataset-dir", str(args.dataset_dir)]
    for option in args.track_option:
        command += ["--track-option", option]
    env = dict(os.environ)
    if args.database_url:
        env["TITO_OLYMPICS_DATABASE_URL"] = args.database_url  # not on the command line (ps)
    return subprocess.Popen(command, env=env)


def _supervise(args: argparse.Namespace, workers: list[subprocess.Popen], stop) -> None:
    """Restart any worker that exits while the server runs (its job is claimed again when the
    lease runs out)."""
    while not stop.wait(0.5):
        for position, worker in enumerate(workers):
            if worker.poll() is not None:
                print(
                    f"worker {worker.pid} exited ({worker.returncode}); starting another",
                    file=sys.stderr,
                    flush=True,
                )
                workers[position] = _start_worker(args)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from tito.leaderboard.app import ARTIFACTS, ServerSettings, create_app
    from tito.leaderboard.archive import remove_temporaries
    from tito.leaderboard.sandbox import configured_track, parse_track_options
    from tito.leaderboard.worker import SCRATCH

    if args.workers < 1:
        return fail("--workers must be at least 1", code=USAGE)
    for track, fields in parse_track_options(args.track_option).items():
        configured_track(track, fields)  # refuse a wrong option before starting anything
    store = _open(args)
    leftovers = remove_temporaries(args.data_dir / ARTIFACTS)
    shutil.rmtree(args.data_dir / SCRATCH, ignore_errors=True)
    settings = ServerSettings(
        data_dir=args.data_dir,
        max_upload_bytes=int(args.max_upload_mb * 2**20),
        rate_limit=args.rate_limit,
        rate_window_s=args.rate_window_min * 60,
    )
    print(f"store: {store.describe()}; removed {leftovers} unfinished upload(s)", flush=True)
    workers = [_start_worker(args) for _ in range(args.workers)]
    stop = threading.Event()
    supervisor = threading.Thread(target=_supervise, args=(args, workers, stop), daemon=True)
    supervisor.start()
    try:
        uvicorn.run(
            create_app(store, settings), host=args.host, port=args.port, log_level=args.log_level
        )
    finally:
        stop.set()
        supervisor.join()
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
    return OK if all(w.returncode in (0, -15) for w in workers) else FAILED


def _register_serve(subcommands) -> None:
    serve = subcommands.add_parser(
        "serve", help="run the leaderboard server and its evaluation workers"
    )
    _store_arguments(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="evaluation worker processes")
    serve.add_argument("--max-upload-mb", type=float, default=16.0, help="largest upload")
    serve.add_argument(
        "--rate-limit", type=int, default=20, help="submissions per participant per window"
    )
    serve.add_argument("--rate-window-min", type=float, default=60.0, help="the window, minutes")
    serve.add_argument(
        "--lease-s",
        type=float,
        default=20.0,
        help="a killed worker's submission is evaluated again after this long",
    )
    serve.add_argument(
        "--dataset-dir",
        type=Path,
        default=None,
        help="datasets folder passed to the evaluation (default: the harness's)",
    )
    serve.add_argument(
        "--track-option",
        action="append",
        default=[],
        metavar="TRACK.FIELD=VALUE",
        help="change a track rule for this server, e.g. speed.latency_queries=200",
    )
    serve.add_argument("--log-level", default="info", choices=["warning", "info", "debug"])
    serve.set_defaults(run=_needs_extra(_serve))


def register(olympics_subcommands) -> None:
    """Add ``serve`` and ``admin`` to the ``tito olympics`` command group."""
    _register_serve(olympics_subcommands)
    _register_admin(olympics_subcommands)


def main(argv: list[str] | None = None) -> int:
    """``python -m tito.leaderboard.cli serve|admin ...``: the same commands without ``tito``."""
    parser = argparse.ArgumentParser(prog="python -m tito.leaderboard.cli")
    register(parser.add_subparsers(metavar="COMMAND"))
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return OK
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
