"""The Torch Olympics tracks: every rule of the competition, in one place.

A ``Track`` says what is measured (the task and its data), how a result is scored, the floor
an accuracy must reach for the result to count, and the limits an evaluation runs under. The
local harness (``tito olympics run``) and the leaderboard server both read these definitions,
so a score computed on a laptop and one computed by the server follow the same rules.

=========== ====================================== ==================== ================
track       task                                   score                accuracy floor
=========== ====================================== ==================== ================
vision      CIFAR-10 test split                    accuracy (higher)    none
language    TinyTalks test split                   bits per character   none
                                                   (lower)
speed       LeNet-5-class digits: MNIST, else      single-stream p90    98% (MNIST),
            TinyDigits when MNIST is absent        latency, ms (lower)  95% (TinyDigits)
compression the same task                          bytes of the saved   the same
                                                   model (lower)
=========== ====================================== ==================== ================

Every track also records accuracy, p90 latency and size, so that a leaderboard can draw
accuracy against latency or size. A track's evaluation cost is part of its definition and
can be shrunk for tests::

    >>> import dataclasses
    >>> quick = dataclasses.replace(get_track("speed"), latency_queries=32, eval_samples=100)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class Track:
    """One competition track: its task, its score, its floor and its limits.

    Attributes:
        name: the track's name, as typed on the command line.
        task: what a submitted model does, in words.
        dataset: the data set whose test split is scored (``"cifar10"``, ``"tinytalks"``,
            ``"mnist"``).
        metric: the name of the score (``"accuracy"``, ``"bits_per_character"``, ``"p90_ms"``,
            ``"size_bytes"``).
        unit: the score's unit, for tables.
        higher_is_better: whether a larger score ranks first.
        accuracy_floor: the lowest accuracy (0..1) a valid result may have.
        fallback_dataset: the data set used when ``dataset`` is not in the data directory
            (None: the evaluation fails instead), with its own ``fallback_accuracy_floor``.
        time_limit_s: wall-clock seconds the whole evaluation may take (the CPU-time limit
            is the same number).
        memory_limit_mb: the model process's address-space limit.
        file_limit_mb: the largest file the model process may write.
        max_code_bytes: the largest ``model.py`` accepted, so that weights cannot hide in code.
        latency_queries: single-stream queries timed for the p90 latency (MLPerf: 1,024).
        latency_max_s: seconds after which the single-stream run stops with fewer queries.
        eval_samples: score only the first ``eval_samples`` test samples (None: all of them).
        training_budget: the rule on training, stated (it is not measured).
    """

    name: str
    task: str
    dataset: str
    metric: str
    unit: str
    higher_is_better: bool
    accuracy_floor: float = 0.0
    fallback_dataset: str | None = None
    fallback_accuracy_floor: float = 0.0
    time_limit_s: float = 600.0
    memory_limit_mb: int = 2048
    file_limit_mb: int = 64
    max_code_bytes: int = 32_768
    latency_queries: int = 1024
    latency_max_s: float = 60.0
    eval_samples: int | None = None
    training_budget: str = "no limit"

    def __post_init__(self) -> None:
        if not 0.0 <= self.accuracy_floor <= 1.0 or not 0.0 <= self.fallback_accuracy_floor <= 1:
            raise ValueError(f"Track {self.name!r}: accuracy floors are fractions in [0, 1]")
        positive = ("time_limit_s", "memory_limit_mb", "file_limit_mb", "latency_queries")
        for name in positive:
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"Track {self.name!r}: {name} must be positive, got {value!r}")
        if self.eval_samples is not None and self.eval_samples < 1:
            raise ValueError(f"Track {self.name!r}: eval_samples must be None or >= 1")

    def floor_for(self, dataset: str) -> float:
        """The accuracy floor on ``dataset`` (the track's own or its fallback)."""
        if dataset == self.dataset:
            return self.accuracy_floor
        if dataset == self.fallback_dataset:
            return self.fallback_accuracy_floor
        raise ValueError(
            f"track {self.name!r} is scored on {self.dataset!r}"
            + (f" or {self.fallback_dataset!r}" if self.fallback_dataset else "")
            + f", not {dataset!r}"
        )

    def rules(self) -> list[str]:
        """The track's rules as sentences, for ``tito olympics rules`` and the server."""
        order = "higher" if self.higher_is_better else "lower"
        data = self.dataset + (
            f" (else {self.fallback_dataset}, floor {self.fallback_accuracy_floor:.0%})"
            if self.fallback_dataset
            else ""
        )
        samples = "all" if self.eval_samples is None else f"the first {self.eval_samples}"
        return [
            f"task: {self.task}",
            f"score: {self.metric} in {self.unit}, {order} is better",
            f"data: the test split of {data}; {samples} test samples are scored",
            "valid only if every metric is finite"
            + (f" and accuracy >= {self.accuracy_floor:.0%}" if self.accuracy_floor else ""),
            f"latency: single-stream p90 over {self.latency_queries} queries "
            f"(at most {self.latency_max_s:g} s)",
            f"limits: {self.time_limit_s:g} s wall clock and CPU, {self.memory_limit_mb} MB "
            f"memory, {self.file_limit_mb} MB per written file, model.py <= "
            f"{self.max_code_bytes} bytes",
            f"training: {self.training_budget}",
            "divisions: closed (post-training optimizations of the model only) or open "
            "(anything built on tinytorch)",
        ]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Track:
        """The track written by ``to_dict`` (unknown keys are an error)."""
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"Track.from_dict: unknown keys {unknown}")
        return cls(**data)


_DIGITS_TASK = (
    "classify 28x28 MNIST digits (N, 1, 28, 28) floats in [0, 1] into 10 classes with a "
    "LeNet-5-class model (8x8 TinyDigits (N, 1, 8, 8) where MNIST is absent)"
)

TRACKS: dict[str, Track] = {
    track.name: track
    for track in (
        Track(
            name="vision",
            task="classify CIFAR-10 images (N, 3, 32, 32) floats in [0, 1] into 10 classes "
            "with a convolutional network built on tinytorch",
            dataset="cifar10",
            metric="accuracy",
            unit="fraction",
            higher_is_better=True,
            latency_queries=256,
            training_budget="at most 1 hour of training on one CPU, from scratch",
        ),
        Track(
            name="language",
            task="a character-level language model on TinyTalks: token ids (1, T) -> "
            "next-character logits (1, T, V) over the track's character vocabulary",
            dataset="tinytalks",
            metric="bits_per_character",
            unit="bits/char",
            higher_is_better=False,
            latency_queries=256,
            training_budget="at most 1 hour of training on one CPU, on the train split only",
        ),
        Track(
            name="speed",
            task=_DIGITS_TASK,
            dataset="mnist",
            metric="p90_ms",
            unit="ms",
            higher_is_better=False,
            accuracy_floor=0.98,
            fallback_dataset="tinydigits",
            fallback_accuracy_floor=0.95,
            training_budget="no limit; the train split only",
        ),
        Track(
            name="compression",
            task=_DIGITS_TASK,
            dataset="mnist",
            metric="size_bytes",
            unit="bytes",
            higher_is_better=False,
            accuracy_floor=0.98,
            fallback_dataset="tinydigits",
            fallback_accuracy_floor=0.95,
            latency_queries=64,
            training_budget="no limit; the train split only",
        ),
    )
}


def get_track(name: str) -> Track:
    """The track called ``name``; a ValueError listing the tracks for an unknown one."""
    try:
        return TRACKS[name]
    except KeyError:
        raise ValueError(
            f"unknown track {name!r}; the tracks are {', '.join(TRACKS)} "
            "(tito olympics list shows them)"
        ) from None
