"""Evaluate a submission in a fresh, limited process and report an ``Evaluation``.

``evaluate(directory)`` never imports the submitted code itself. It copies the submission's
three files into a scratch directory and runs ``python -m tinytorch.olympics.evaluate`` there,
which builds the model, loads its weights, measures it (``measure.py``, on module 19's
harness) and writes the metrics as JSON. The caller judges them against the track's rules.

Isolation, and what it is not:

- a fresh process, started in a scratch directory holding only the submission's files, with a
  minimal environment (no inherited variables but ``PATH``; ``HOME`` is the scratch directory;
  BLAS limited to one thread) and its own session, so that it and its children can be killed;
- limits it sets on itself before it imports the submission (POSIX ``setrlimit``, where the
  OS allows): address space (``RLIMIT_AS``: memory), CPU seconds (``RLIMIT_CPU``), the size of
  any file it writes (``RLIMIT_FSIZE``), no core dumps; the caller kills it when the
  wall-clock limit passes;
- no network where Linux allows unprivileged user namespaces: the process moves itself into
  new user and network namespaces (``unshare``), and ``details["network_isolated"]`` says
  whether that worked;
- a crash, a hang, an allocation over the limit or a file too large becomes
  ``Evaluation.error``; the caller carries on.
- Not provided: network isolation where namespaces are not allowed, a separate user, a
  file-system sandbox (the process may read what the user may read), or protection of the
  measurement from the submission itself (the model runs in the measuring process, so a
  hostile submission could forge its metrics).
  Submissions are kept, so a leaderboard entry can be reviewed and re-run. On Windows there are
  no rlimits: only the wall-clock limit applies.
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import tinytorch
from tinytorch.datasets import data_root
from tinytorch.olympics.results import judge
from tinytorch.olympics.submission import (
    SUBMISSION_FILES,
    Manifest,
    SubmissionError,
    load_manifest,
)
from tinytorch.olympics.tracks import Track, get_track

RESULT_FILE = "result.json"
LOG_FILE = "log.txt"
EXIT_MEMORY, EXIT_FILE_SIZE = 3, 4
MAX_RESULT_BYTES = 1 << 20  # a result is a few kilobytes of JSON


@dataclass
class Evaluation:
    """The outcome of evaluating one submission on one track.

    ``score`` is the track's metric (``accuracy``, ``bits_per_character``, ``p90_ms`` or
    ``size_bytes``); ``valid`` is False, with the reason in ``error``, when the model crashed,
    hung, ran out of memory, scored below the accuracy floor or gave a non-finite number.
    ``dataset`` is the data set scored (the digit tracks fall back from MNIST to TinyDigits);
    ``details`` holds the track's other measurements (confidence intervals, throughput,
    exact answers, the system).
    """

    track: str
    division: str
    name: str
    techniques: list[str]
    valid: bool = False
    score: float | None = None
    accuracy: float | None = None
    p90_ms: float | None = None
    size_bytes: int | None = None
    error: str | None = None
    dataset: str | None = None
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Evaluation:
        return cls(**data)


def evaluate(
    submission_dir: str | os.PathLike,
    *,
    data_dir: str | os.PathLike | None = None,
    track: Track | str | None = None,
    time_limit_s: float | None = None,
    memory_limit_mb: int | None = None,
) -> Evaluation:
    """Evaluate the submission in ``submission_dir`` in a fresh process.

    Args:
        submission_dir: the submission (``submission.toml``, ``model.py``, ``model.pt``).
        data_dir: where data sets are read (default: ``$TINYTORCH_DATA``, else
            ``~/.tinytorch/data``).
        track: the track, by name or as a ``Track`` (to shrink its cost in tests); default
            the one ``submission.toml`` names. It must be the track the manifest names.
        time_limit_s, memory_limit_mb: override the track's limits.

    Raises ``SubmissionError`` when the directory or its manifest breaks the rules; anything
    that goes wrong while running the model is reported in ``Evaluation.error`` instead.
    """
    manifest = load_manifest(submission_dir)
    track = _resolve_track(track, manifest)
    limits = dataclasses.replace(
        track,
        time_limit_s=track.time_limit_s if time_limit_s is None else time_limit_s,
        memory_limit_mb=track.memory_limit_mb if memory_limit_mb is None else memory_limit_mb,
    )
    evaluation = Evaluation(manifest.track, manifest.division, manifest.name,
                            list(manifest.techniques))  # fmt: skip
    with tempfile.TemporaryDirectory(
        prefix="tinytorch-olympics-", ignore_cleanup_errors=True
    ) as scratch:
        for name in SUBMISSION_FILES:
            shutil.copyfile(Path(submission_dir) / name, Path(scratch) / name)
        metrics, error = _run_isolated(Path(scratch), limits, data_root(data_dir))
    if error is not None:
        return dataclasses.replace(evaluation, error=error)
    return _judged(evaluation, track, metrics)


def _resolve_track(track: Track | str | None, manifest: Manifest) -> Track:
    """The Track to evaluate on, checked against the manifest's."""
    if track is None:
        return get_track(manifest.track)
    track = get_track(track) if isinstance(track, str) else track
    if track.name != manifest.track:
        raise SubmissionError(
            f"submission.toml names the {manifest.track!r} track, not {track.name!r}: "
            "evaluate it on its own track or change its manifest"
        )
    return track


def _judged(evaluation: Evaluation, track: Track, metrics: dict) -> Evaluation:
    """``evaluation`` filled from the measured ``metrics`` and judged by the track's rules.

    The metrics come from a process that ran submitted code, so they are checked like any
    input: a missing or mistyped value makes the result unusable, and numbers outside their
    range (NaN, infinities, a negative latency, an accuracy above 1) make it invalid. Values
    that are not finite are stored as None, so that ``to_dict()`` stays valid JSON.
    """
    try:
        dataset = str(metrics["dataset"])
        floor = track.floor_for(dataset)
        score, accuracy, p90_ms = (float(metrics[key]) for key in
                                   (track.metric, "accuracy", "p90_ms"))  # fmt: skip
        size_bytes, details = int(metrics["size_bytes"]), _json_safe(dict(metrics["details"]))
    except (KeyError, TypeError, ValueError) as error:
        return dataclasses.replace(
            evaluation, error=f"the evaluation's result is unusable: {error}"
        )
    error = judge(track, accuracy, score, floor) or _out_of_range(accuracy, p90_ms, size_bytes)
    return dataclasses.replace(
        evaluation,
        valid=error is None,
        score=_finite(score),
        accuracy=_finite(accuracy),
        p90_ms=_finite(p90_ms),
        size_bytes=size_bytes,
        error=error,
        dataset=dataset,
        details=details,
    )


def _out_of_range(accuracy: float, p90_ms: float, size_bytes: int) -> str | None:
    """Why measured numbers are impossible, or None."""
    if not 0.0 <= accuracy <= 1.0:
        return f"accuracy {accuracy} is outside [0, 1]"
    if not (math.isfinite(p90_ms) and p90_ms >= 0):
        return f"p90 latency {p90_ms} ms is not a finite, non-negative number"
    if size_bytes < 0:
        return f"size {size_bytes} bytes is negative"
    return None


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _json_safe(value: object) -> object:
    """``value`` with every NaN or infinite float inside it replaced by None, so that it
    writes as standard JSON."""
    if isinstance(value, float):
        return _finite(value)
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value


def _run_isolated(scratch: Path, track: Track, data_dir: Path) -> tuple[dict, str | None]:
    """Run the evaluation process in ``scratch``; its metrics, or an error message."""
    package_parent = str(Path(tinytorch.__file__).resolve().parent.parent)
    command = [sys.executable, "-m", "tinytorch.olympics.evaluate", "--track",
               json.dumps(track.to_dict()), "--data-dir", str(data_dir)]  # fmt: skip
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(scratch),
        "PYTHONPATH": package_parent,
        "PYTHONDONTWRITEBYTECODE": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    with open(scratch / LOG_FILE, "wb") as log:
        process = subprocess.Popen(command, cwd=scratch, env=env, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=log, start_new_session=True)  # fmt: skip
        try:
            code = process.wait(timeout=track.time_limit_s)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            return {}, f"timed out: the evaluation took longer than {track.time_limit_s:g} s"
    return _outcome(code, scratch, track)


def _kill_group(process: subprocess.Popen) -> None:
    """Kill the evaluation process and any children it started."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        process.kill()
    process.wait()


def _outcome(code: int, scratch: Path, track: Track) -> tuple[dict, str | None]:
    """Read the metrics the process wrote, or explain how it ended."""
    if code == EXIT_MEMORY:
        return {}, f"out of memory: the model needed more than {track.memory_limit_mb} MB"
    if code == EXIT_FILE_SIZE:
        return {}, f"wrote a file larger than the {track.file_limit_mb} MB limit"
    if hasattr(signal, "SIGXCPU") and code == -signal.SIGXCPU:
        return {}, f"timed out: used more than {track.time_limit_s:g} s of CPU time"
    if hasattr(signal, "SIGKILL") and code == -signal.SIGKILL:
        return {}, (f"killed: over the {track.time_limit_s:g} s CPU limit or out of memory "
                    f"({track.memory_limit_mb} MB)")  # fmt: skip
    if code != 0:
        return {}, f"the submission failed (exit code {code}): {_last_error(scratch / LOG_FILE)}"
    result = scratch / RESULT_FILE
    try:
        if result.stat().st_size > MAX_RESULT_BYTES:
            return {}, f"the evaluation's result is unusable: over {MAX_RESULT_BYTES} bytes"
        return json.loads(result.read_text(encoding="utf-8")), None
    except (OSError, ValueError):
        return {}, "the evaluation process ended without writing its result"


def _last_error(path: Path, limit: int = 4096) -> str:
    """The error the process printed last: from its last line that is not indented (where
    Python names the exception) to the end, on one line."""
    with open(path, "rb") as file:
        file.seek(max(0, path.stat().st_size - limit))
        lines = file.read().decode("utf-8", "replace").strip().splitlines()
    starts = [index for index, line in enumerate(lines) if line and not line[0].isspace()]
    error = " ".join(line.strip() for line in lines[starts[-1] if starts else 0 :])
    return error[-500:] or "no output"


# --- inside the evaluation process ------------------------------------------------------


def cut_network() -> bool:
    """Move this process into new, empty user and network namespaces (Linux, where
    unprivileged user namespaces are allowed): it then has no network interface but an
    unconfigured loopback, so it reaches nothing. Whether it worked."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    clone_newuser, clone_newnet = 0x10000000, 0x40000000  # from <sched.h>
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.unshare(clone_newuser | clone_newnet) == 0
    except (OSError, AttributeError):
        return False


def set_limits(track: Track) -> None:
    """Limit this process's memory, CPU time and written file size (POSIX only)."""
    try:
        import resource
    except ImportError:  # Windows: only the caller's wall-clock limit applies
        return
    megabyte = 1024 * 1024
    cpu_seconds = math.ceil(track.time_limit_s)
    limits = {  # (soft, hard): SIGXCPU at the soft CPU limit, SIGKILL a second later
        "RLIMIT_AS": (track.memory_limit_mb * megabyte,) * 2,
        "RLIMIT_CPU": (cpu_seconds, cpu_seconds + 1),
        "RLIMIT_FSIZE": (track.file_limit_mb * megabyte,) * 2,
        "RLIMIT_CORE": (0, 0),
    }
    for name, value in limits.items():
        if hasattr(resource, name):
            try:
                resource.setrlimit(getattr(resource, name), value)
            except (ValueError, OSError):  # above the hard limit, or not enforced here
                pass


def load_submission(directory: Path) -> tinytorch.nn.Module:
    """Build the submitted model with ``model.py``'s ``build_model()`` and load ``model.pt``."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("submitted_model", directory / "model.py")
    code = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(code)
    if not callable(getattr(code, "build_model", None)):
        raise TypeError("model.py must define build_model() returning a tinytorch nn.Module")
    model = code.build_model()
    if not isinstance(model, tinytorch.nn.Module):
        raise TypeError(f"build_model() returned {type(model).__name__}, not an nn.Module")
    model.load_state_dict(tinytorch.load(directory / "model.pt"))
    return model.eval()


def main(argv: list[str] | None = None) -> int:
    """The evaluation process: limit itself, measure the submission in the current
    directory, write ``result.json``."""
    from tinytorch.olympics.measure import measure

    parser = argparse.ArgumentParser(description="Evaluate the submission in this directory.")
    parser.add_argument("--track", required=True, help="the Track as JSON")
    parser.add_argument("--data-dir", required=True)
    args = parser.parse_args(argv)
    track = Track.from_dict(json.loads(args.track))
    set_limits(track)
    network_cut = cut_network()
    directory = Path.cwd()
    manifest = load_manifest(directory)
    try:
        model = load_submission(directory)
        metrics = measure(track, model, manifest.division, list(manifest.techniques),
                          args.data_dir)  # fmt: skip
        metrics["details"]["network_isolated"] = network_cut
        (directory / RESULT_FILE).write_text(json.dumps(metrics), encoding="utf-8")
    except MemoryError:
        return EXIT_MEMORY
    except OSError as error:
        if error.errno == errno.EFBIG:
            return EXIT_FILE_SIZE
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
