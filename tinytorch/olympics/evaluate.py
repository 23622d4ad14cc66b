"""Evaluate a submission with its model in a separate, limited process; an ``Evaluation``.

``evaluate(directory)`` is the measuring process: it never imports the submitted code. It
copies the submission's three files into a scratch directory and starts the model there, in
a child process (``model_process.py``) that imports ``model.py``, loads ``model.pt`` and
answers batches of inputs with logits over a pipe. The measuring process loads the test
split, sends the child inputs only, times each query's round trip with its own clock and
computes accuracy, bits per character and exact answers from the logits it receives
(``measure.py``, on module 19's harness). The size is the bytes of ``model.pt`` as
submitted. It then judges the metrics against the track's rules.

The pipe costs every timed query the same fixed time. The child measures it first: before
it imports the submission it answers zeros (the echo phase), and ``details["transport_ms"]``
is the single-stream p90 latency of those answers on the same queries, the floor of any p90
score on this machine.

Isolation, and what it is not:

- the model child starts in a scratch directory holding only the submission's files, with
  a minimal environment (no inherited variables but ``PATH``; ``HOME`` is the scratch
  directory; BLAS limited to one thread) and its own session, so that it and its children
  can be killed; it never receives a label (it is given the data directory's path only to
  hide it);
- before it imports the submission it limits itself (POSIX ``setrlimit``, where the OS
  allows): address space (``RLIMIT_AS``: memory), CPU seconds (``RLIMIT_CPU``), the size of
  any file it writes (``RLIMIT_FSIZE``), no core dumps; the measurer kills it when the
  wall-clock limit passes;
- no network and no data where Linux allows unprivileged user namespaces: before the
  submission runs, the child moves itself into new user, network and mount namespaces
  (``unshare``) and covers the data directory with an empty mount that it cannot undo;
  ``details["network_isolated"]`` and ``details["data_hidden"]`` say whether that worked;
- the submission cannot touch the measurement: the clock, the harness, the scoring code and
  the result live in the measuring process, so patching them inside the child changes
  nothing; whatever the child answers is checked (float logits, the expected shape, finite
  values); a crash, a hang, an allocation over the limit, a file too large or a malformed
  answer becomes ``Evaluation.error``, and the caller carries on.
- Not provided: network isolation and hidden data where namespaces are not allowed (then
  the child can read the data directory, whose path is on its command line), a
  separate user, a full file-system sandbox: the child, as the same Unix user, can read
  what the user can read outside the data directory, including the data sets that ship
  with tinytorch (TinyDigits and TinyTalks), so a model could look those answers up.
  Submissions are kept, so a leaderboard entry can be reviewed and re-run. On Windows there
  are no rlimits: only the wall-clock limit applies.
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tinytorch.datasets import data_root
from tinytorch.olympics.data import output_classes
from tinytorch.olympics.measure import TestData, load_test_data, measure, query_latency
from tinytorch.olympics.model_process import ModelError, ModelProcess
from tinytorch.olympics.results import judge
from tinytorch.olympics.submission import (
    SUBMISSION_FILES,
    WEIGHTS,
    Manifest,
    SubmissionError,
    load_manifest,
)
from tinytorch.olympics.tracks import Track, get_track


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
    """Evaluate the submission in ``submission_dir``, its model in a separate process.

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
    data_dir = data_root(data_dir)
    try:
        data = load_test_data(limits, data_dir)
    except (OSError, ValueError) as error:  # missing (DatasetNotFoundError) or unreadable
        message = f"the test data could not be read: {type(error).__name__}: {error}"
        return dataclasses.replace(evaluation, error=message)
    with tempfile.TemporaryDirectory(
        prefix="tinytorch-olympics-", ignore_cleanup_errors=True
    ) as folder:
        scratch = Path(folder)
        for name in SUBMISSION_FILES:
            shutil.copyfile(Path(submission_dir) / name, scratch / name)
        size_bytes = (scratch / WEIGHTS).stat().st_size  # before the submission runs
        try:
            metrics = _measured(scratch, limits, manifest, data, data_dir, size_bytes)
        except ModelError as error:
            return dataclasses.replace(evaluation, error=str(error))
    return _judged(evaluation, track, metrics)


def _measured(
    scratch: Path,
    track: Track,
    manifest: Manifest,
    data: TestData,
    data_dir: Path,
    size_bytes: int,
) -> dict:
    """Start the model process (``data_dir`` hidden from it), time the pipe alone on the
    single-stream queries while it echoes zeros, then load the submission and measure it on
    ``data``. ``ModelError`` if the model failed."""
    with ModelProcess(scratch, track, output_classes(track), hide=data_dir) as model:
        transport = query_latency(track, model, data)  # before any submitted code runs
        model.load()
        metrics = measure(track, model, data, manifest.division, list(manifest.techniques),
                          size_bytes)  # fmt: skip
    metrics["details"].update(
        network_isolated=model.network_isolated,
        data_hidden=model.data_hidden,
        transport=transport,
        transport_ms=transport["p90_ms"],
    )
    return metrics


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
    Values that are not finite are stored as None, so that ``to_dict()`` stays valid JSON."""
    dataset = metrics["dataset"]
    score, accuracy, p90_ms = metrics[track.metric], metrics["accuracy"], metrics["p90_ms"]
    error = judge(track, accuracy, score, track.floor_for(dataset))
    return dataclasses.replace(
        evaluation,
        valid=error is None,
        score=_finite(score),
        accuracy=_finite(accuracy),
        p90_ms=_finite(p90_ms),
        size_bytes=metrics["size_bytes"],
        error=error,
        dataset=dataset,
        details=_json_safe(metrics["details"]),
    )


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
