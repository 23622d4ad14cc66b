"""``tito olympics``: the Torch Olympics tracks, a local evaluation, and the leaderboard.

``list`` and ``rules TRACK`` show the tracks (``tinytorch.olympics.tracks``); ``run TRACK
DIR`` evaluates a submission in a fresh, limited process and prints the table the server
computes; ``submit TRACK DIR`` uploads it to a leaderboard server and ``leaderboard TRACK``
prints the server's ranking; ``serve`` and ``admin`` run a leaderboard server for a class
(``tito.leaderboard``, ``docs/olympics-server.md``). The server is ``--server URL`` or
``$TITO_OLYMPICS_SERVER``, the participant's token ``--token TOKEN`` or
``$TITO_OLYMPICS_TOKEN``. Inside a workspace, ``run`` measures the workspace's own tinytorch.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

from tito.commands.common import FAILED, OK, USAGE, fail, show_help
from tito.course.workspace import find_workspace, workspace_env
from tito.leaderboard import cli as leaderboard_server

SERVER_ENV, TOKEN_ENV = "TITO_OLYMPICS_SERVER", "TITO_OLYMPICS_TOKEN"
HTTP_TIMEOUT_S = 30

if TYPE_CHECKING:  # imported when a command runs, so that `tito --help` stays quick
    from tinytorch.olympics.evaluate import Evaluation
    from tinytorch.olympics.submission import Manifest
    from tinytorch.olympics.tracks import Track

EVALUATE = """
import json, sys
from tinytorch.olympics.evaluate import evaluate
from tinytorch.olympics.tracks import Track
track = Track.from_dict(json.loads(sys.argv[1]))
print(json.dumps(evaluate(sys.argv[2], data_dir=sys.argv[3] or None, track=track).to_dict()))
"""


def _track(name: str) -> Track | None:
    """The track ``name``, or None after printing the known ones."""
    from tinytorch.olympics.tracks import get_track

    try:
        return get_track(name)
    except ValueError as error:
        fail(str(error), "tito olympics list", USAGE)
        return None


def list_tracks(args: argparse.Namespace) -> int:
    """Print the tracks: name, score, accuracy floor, data set."""
    from tinytorch.olympics.tracks import TRACKS

    if args.json:
        print(json.dumps([track.to_dict() for track in TRACKS.values()], indent=2))
        return OK
    print(f"{'track':<13}{'score':<32}{'better':<8}{'floor':>7}  data")
    for track in TRACKS.values():
        better = "higher" if track.higher_is_better else "lower"
        data = track.dataset + (
            f" (else {track.fallback_dataset})" if track.fallback_dataset else ""
        )
        score = f"{track.metric} ({track.unit})"
        print(f"{track.name:<13}{score:<32}{better:<8}{track.accuracy_floor:>7.0%}  {data}")
    print("\nNext: tito olympics rules TRACK")
    return OK


def rules(args: argparse.Namespace) -> int:
    """Print every rule of one track."""
    track = _track(args.track)
    if track is None:
        return USAGE
    if args.json:
        print(json.dumps(dict(track.to_dict(), rules=track.rules()), indent=2))
        return OK
    print(f"The {track.name} track")
    for rule in track.rules():
        print(f"  - {rule}")
    return OK


def _manifest(track_name: str, directory: str) -> Manifest | None:
    """The checked manifest of the submission in ``directory`` for ``track_name``, or None
    after explaining what is wrong."""
    from tinytorch.olympics.submission import SubmissionError, load_manifest

    try:
        manifest = load_manifest(directory)
    except SubmissionError as error:
        fail(str(error), "fix the submission (docs/olympics.md describes it)")
        return None
    if manifest.track != track_name:
        fail(
            f"{directory}/submission.toml names the {manifest.track!r} track, not {track_name!r}",
            f"tito olympics run {manifest.track} {directory}",
        )
        return None
    return manifest


def _evaluate(track: Track, directory: str, data_dir: str | None) -> Evaluation:
    """Evaluate with the workspace's tinytorch inside a workspace, else the installed one."""
    from tinytorch.olympics.evaluate import Evaluation, evaluate

    root = find_workspace(Path.cwd())
    if root is None:
        return evaluate(directory, data_dir=data_dir, track=track)
    command = [sys.executable, "-c", EVALUATE, json.dumps(track.to_dict()), directory,
               data_dir or ""]  # fmt: skip
    done = subprocess.run(command, env=workspace_env(root), capture_output=True, text=True)
    if done.returncode != OK:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr else "no output")
    return Evaluation.from_dict(json.loads(done.stdout.splitlines()[-1]))


def run(args: argparse.Namespace) -> int:
    """Evaluate a submission here, in a fresh process with the track's limits, and print the
    table the server computes (the server re-measures on its own machine)."""
    from tinytorch.olympics.data import download
    from tinytorch.olympics.results import format_table, rank

    track = _track(args.track)
    if track is None:
        return USAGE
    if _manifest(track.name, args.submission) is None:
        return FAILED
    changes = {"latency_queries": args.latency_queries, "eval_samples": args.samples}
    changes = {key: value for key, value in changes.items() if value is not None}
    if changes:
        track = dataclasses.replace(track, **changes)
    print(f"Evaluating {args.submission} on the {track.name} track (limit "
          f"{track.time_limit_s:g} s, {track.memory_limit_mb} MB)...", file=sys.stderr)  # fmt: skip
    try:
        if args.download:
            download(track, args.data_dir)
        evaluation = _evaluate(track, args.submission, args.data_dir)
    except NotImplementedError as error:
        return fail(str(error), "tito module start 20")
    except (RuntimeError, OSError, ValueError) as error:
        return fail(f"the evaluation could not run: {error}", "tito system doctor")
    if args.json:
        print(json.dumps(evaluation.to_dict(), indent=2))
    else:
        print(format_table(track, rank(track, [evaluation.to_dict()])))
        if evaluation.dataset:
            print(
                f"data: {evaluation.dataset} test split ({evaluation.details['samples']} samples)"
            )
        if changes:
            print(f"note: shortened with {changes}; the server uses the track's own settings")
    if not evaluation.valid:
        return fail(evaluation.error or "invalid", "fix the model, then run it again")
    if not args.json:
        print(f"Next: tito olympics submit {track.name} {args.submission}")
    return OK


def _server(args: argparse.Namespace) -> str | None:
    """The server's base URL, from ``--server`` or the environment."""
    server = args.server or os.environ.get(SERVER_ENV)
    if not server:
        fail(f"no leaderboard server: pass --server URL or set {SERVER_ENV}", code=USAGE)
        return None
    return server.rstrip("/")


def _request(request: urllib.request.Request) -> tuple[dict | None, str | None]:
    """Send ``request``; the JSON answer, or an error message naming what went wrong."""
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
            return json.loads(response.read().decode("utf-8")), None
    except urllib.error.HTTPError as error:
        try:
            detail = json.loads(error.read().decode("utf-8")).get("detail", error.reason)
        except (ValueError, AttributeError):
            detail = error.reason
        return None, f"the server answered {error.code}: {detail}"
    except urllib.error.URLError as error:
        return None, f"cannot reach {request.full_url}: {error.reason}"
    except (TimeoutError, ValueError) as error:
        return None, f"no usable answer from {request.full_url}: {error}"


def submit(args: argparse.Namespace) -> int:
    """Upload a submission to the leaderboard server, which evaluates it itself."""
    from tinytorch.olympics.submission import pack_submission

    track = _track(args.track)
    server = _server(args) if track else None
    if server is None:
        return USAGE
    token = args.token or os.environ.get(TOKEN_ENV)
    if not token:
        return fail(f"no token: pass --token TOKEN or set {TOKEN_ENV}", "ask your instructor",
                    USAGE)  # fmt: skip
    manifest = _manifest(track.name, args.submission)
    if manifest is None:
        return FAILED
    query = urllib.parse.urlencode({"track": track.name})
    request = urllib.request.Request(
        f"{server}/api/submissions?{query}",
        data=pack_submission(args.submission),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/gzip"},
    )
    answer, error = _request(request)
    if error:
        return fail(error, "check --server and --token, then submit again")
    print(f"Submitted {manifest.name} to the {track.name} track: id {answer['id']}, "
          f"{answer['status']}")  # fmt: skip
    if args.wait:
        return _wait(server, answer["id"], args.wait)
    print(f"Next: tito olympics leaderboard {track.name}")
    return OK


def _wait(server: str, submission_id: int, seconds: float) -> int:
    """Poll the submission until the server has evaluated it, then print its evaluation."""
    deadline = time.monotonic() + seconds
    while True:
        answer, error = _request(
            urllib.request.Request(f"{server}/api/submissions/{submission_id}")
        )
        if error:
            return fail(error)
        if answer["status"] in ("done", "failed"):
            evaluation = answer.get("evaluation") or {}
            print(json.dumps(evaluation, indent=2))
            return OK if answer["status"] == "done" and evaluation.get("valid") else FAILED
        if time.monotonic() > deadline:
            return fail(f"submission {submission_id} is still {answer['status']}",
                        "tito olympics leaderboard TRACK, later")  # fmt: skip
        time.sleep(1.0)


def leaderboard(args: argparse.Namespace) -> int:
    """Print a track's leaderboard as the server ranks it."""
    from tinytorch.olympics.results import format_table

    track = _track(args.track)
    server = _server(args) if track else None
    if server is None:
        return USAGE
    path = urllib.parse.quote(track.name)
    answer, error = _request(urllib.request.Request(f"{server}/api/tracks/{path}/leaderboard"))
    if error:
        return fail(error, f"check --server (or ${SERVER_ENV})")
    if args.json:
        print(json.dumps(answer, indent=2))
    else:
        print(format_table(track, answer["entries"]))
        if not answer["entries"]:
            print(f"(no entries yet) Next: tito olympics submit {track.name} DIR")
    return OK


def _positive(text: str) -> int:
    """argparse type for a count of at least 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``tito olympics`` and its commands."""
    group = commands.add_parser("olympics", help="the Torch Olympics: tracks, runs, leaderboard")
    group.set_defaults(run=show_help(group))
    sub = group.add_subparsers(metavar="COMMAND")
    listing = sub.add_parser("list", help="list the tracks", description=list_tracks.__doc__)
    listing.add_argument("--json", action="store_true", help="print the tracks as JSON")
    listing.set_defaults(run=list_tracks)
    rule = sub.add_parser("rules", help="print a track's rules", description=rules.__doc__)
    rule.add_argument("track", metavar="TRACK")
    rule.add_argument("--json", action="store_true", help="print the track as JSON")
    rule.set_defaults(run=rules)
    runner = sub.add_parser("run", help="evaluate a submission locally", description=run.__doc__)
    runner.add_argument("track", metavar="TRACK")
    runner.add_argument("submission", metavar="SUBMISSION_DIR")
    runner.add_argument("--data-dir", metavar="DIR", help="where datasets are kept")
    runner.add_argument(
        "--download",
        action="store_true",
        help="fetch the track's data set into the data directory if missing",
    )
    runner.add_argument("--json", action="store_true", help="print the Evaluation as JSON")
    runner.add_argument(
        "--latency-queries",
        type=_positive,
        metavar="N",
        help="time N single-stream queries instead of the track's (quicker)",
    )
    runner.add_argument("--samples", type=_positive, metavar="N",
                        help="score the first N test samples only (quicker)")  # fmt: skip
    runner.set_defaults(run=run)
    sender = sub.add_parser("submit", help="upload a submission", description=submit.__doc__)
    sender.add_argument("track", metavar="TRACK")
    sender.add_argument("submission", metavar="SUBMISSION_DIR")
    sender.add_argument("--server", metavar="URL", help=f"the server (default ${SERVER_ENV})")
    sender.add_argument("--token", metavar="TOKEN", help=f"your token (default ${TOKEN_ENV})")
    sender.add_argument("--wait", type=float, metavar="SECONDS", default=0,
                        help="wait up to SECONDS for the server's evaluation")  # fmt: skip
    sender.set_defaults(run=submit)
    board = sub.add_parser("leaderboard", help="print a track's leaderboard",
                           description=leaderboard.__doc__)  # fmt: skip
    board.add_argument("track", metavar="TRACK")
    board.add_argument("--server", metavar="URL", help=f"the server (default ${SERVER_ENV})")
    board.add_argument("--json", action="store_true", help="print the server's JSON")
    board.set_defaults(run=leaderboard)
    leaderboard_server.register(sub)  # serve, admin: the server for a class (tito/leaderboard/)
