"""An MLPerf-style inference harness: scenarios, a quality target, divisions, a report.

MLPerf Inference (mlcommons.org) measures a system under fixed rules so that results compare:

- **Single-stream**: one query of one sample at a time, the next sent when the previous
  answers (a phone reading one photo). The metric is the 90th-percentile latency over at
  least 1,024 queries and a minimum duration; ``max_duration`` bounds slow models here.
- **Offline**: all samples available at once, sent in batches (a nightly photo-library job).
  The metric is throughput, samples per second.
- **Quality target**: a result counts only if the model's accuracy reaches the target (MLPerf
  uses 99% of the reference float model's accuracy). Below it the verdict is INVALID and the
  result is not ranked, however fast it is.
- **Divisions**: *closed* runs the reference model with post-training optimizations only
  (quantization with calibration, fusion, batching, threads), so the system is compared;
  *open* allows anything (pruning, retraining, another architecture), so ideas are compared.

Every result records the system it ran on (``describe_system``): CPU, cores, Python, NumPy,
its BLAS and threads. Confidence intervals are percentile bootstraps (``bootstrap_ci``):
resample the measurements with replacement, recompute the statistic, take the middle 95%.

Example::

    >>> harness = Harness(images, labels, quality_target=0.95)
    >>> report = Report([harness.run("lenet5", model, Division.CLOSED)])
    >>> report.print(); report.save("results.json")
"""

import enum
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import tinytorch
from tinytorch.nn import Module
from tinytorch.profiler.model_stats import percentile
from tinytorch.threads import blas_info, get_num_threads, num_threads_limited

SCHEMA = "tinytorch.mlperf/1"
MIN_QUERY_COUNT = 1024  # MLPerf's minimum number of single-stream queries
Clock = Callable[[], float]


class Division(enum.Enum):
    """MLPerf's divisions. ``allowed`` lists the techniques each one accepts."""

    CLOSED = "closed"
    OPEN = "open"

    @property
    def allowed(self) -> frozenset[str]:
        return POST_TRAINING if self is Division.CLOSED else POST_TRAINING | MODEL_CHANGES


# The reference model's weights stay as trained, up to quantization with calibration.
POST_TRAINING = frozenset(
    {
        "post_training_quantization",
        "calibration",
        "operator_fusion",
        "batching",
        "threads",
        "kv_cache",
        "memory_layout",
    }
)
# Changes to the model itself: open division only.
MODEL_CHANGES = frozenset(
    {
        "pruning",
        "channel_pruning",
        "retraining",
        "quantization_aware_training",
        "distillation",
        "low_rank",
        "architecture_change",
    }
)


def validate_techniques(division: Division, techniques: list[str] | tuple[str, ...]) -> None:
    """Raise ValueError if ``techniques`` names an unknown technique or one ``division``
    forbids (the closed division accepts post-training optimizations only)."""
    known = POST_TRAINING | MODEL_CHANGES
    unknown = sorted(set(techniques) - known)
    if unknown:
        raise ValueError(
            f"validate_techniques: unknown techniques {unknown}; use names from {sorted(known)}"
        )
    forbidden = sorted(set(techniques) - division.allowed)
    if forbidden:
        raise ValueError(
            f"validate_techniques: the {division.value} division forbids {forbidden} (it allows "
            "post-training optimizations of the reference model only); submit to the open "
            "division instead"
        )


def describe_system() -> dict:
    """The machine and software a result ran on: CPU, cores, Python, NumPy, BLAS, threads."""
    blas = [
        {key: pool.get(key) for key in ("internal_api", "version", "num_threads", "architecture")}
        for pool in blas_info()
    ]
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "blas": blas or numpy_blas_config(),
        "blas_threads": get_num_threads(),
        "tinytorch": getattr(tinytorch, "__version__", "unknown"),
    }


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux), else what ``platform`` says."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def numpy_blas_config() -> list[dict]:
    """NumPy's build-time BLAS (``np.show_config``), used when threadpoolctl is missing."""
    try:
        config = np.show_config(mode="dicts")
    except TypeError:  # NumPy < 1.25 only prints
        return []
    blas = config.get("Build Dependencies", {}).get("blas", {})
    return [{"internal_api": blas.get("name"), "version": blas.get("version")}]


def bootstrap_ci(
    values: list[float] | np.ndarray,
    statistic: Callable[[np.ndarray], float] = np.mean,
    confidence: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """A percentile-bootstrap confidence interval for ``statistic(values)``.

    Draw ``resamples`` samples of n values with replacement, compute the statistic of each,
    and return the (1 - c) / 2 and (1 + c) / 2 percentiles of those statistics, c the
    confidence. A fixed ``seed`` makes the interval reproducible.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"bootstrap_ci: confidence must be in (0, 1), got {confidence}")
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        raise ValueError("bootstrap_ci: needs at least one value")
    # BEGIN SOLUTION 19
    resampler = np.random.default_rng(seed)
    picks = resampler.integers(0, values.size, size=(resamples, values.size))
    estimates = [statistic(values[row]) for row in picks]
    tail = (1 - confidence) / 2 * 100
    return percentile(estimates, tail), percentile(estimates, 100 - tail)
    # END SOLUTION


@dataclass
class SingleStreamResult:
    """Latencies (seconds) of queries sent one at a time, and their p50 / p90."""

    latencies: list[float]
    duration: float
    min_query_count: int

    @property
    def queries(self) -> int:
        return len(self.latencies)

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 50)

    @property
    def p90(self) -> float:
        return percentile(self.latencies, 90)

    def p90_ci(self, confidence: float = 0.95) -> tuple[float, float]:
        return bootstrap_ci(self.latencies, lambda x: np.percentile(x, 90), confidence)

    def to_dict(self) -> dict:
        low, high = self.p90_ci()
        return {
            "queries": self.queries,
            "min_query_count_met": self.queries >= self.min_query_count,
            "duration_s": self.duration,
            "mean_ms": float(np.mean(self.latencies)) * 1e3,
            "p50_ms": self.p50 * 1e3,
            "p90_ms": self.p90 * 1e3,
            "p90_ci95_ms": [low * 1e3, high * 1e3],
        }


def single_stream(
    query: Callable[[object], object],
    samples: list,
    min_query_count: int = MIN_QUERY_COUNT,
    min_duration: float = 0.0,
    max_duration: float = 60.0,
    warmup: int = 10,
    clock: Clock = time.perf_counter,
) -> SingleStreamResult:
    """Send queries one at a time, cycling through ``samples``, and time each.

    Runs until at least ``min_query_count`` queries and ``min_duration`` seconds are done,
    or ``max_duration`` seconds pass (then fewer queries: ``min_query_count_met`` says so).
    ``warmup`` queries run first, untimed.
    """
    if not samples:
        raise ValueError("single_stream: needs at least one sample")
    for index in range(warmup):
        query(samples[index % len(samples)])
    # BEGIN SOLUTION 19
    latencies: list[float] = []
    start = clock()
    elapsed = 0.0
    while elapsed < max_duration:
        if len(latencies) >= min_query_count and elapsed >= min_duration:
            break
        sample = samples[len(latencies) % len(samples)]
        sent = clock()
        query(sample)
        done = clock()
        latencies.append(done - sent)
        elapsed = done - start
    # END SOLUTION
    return SingleStreamResult(latencies, elapsed, min_query_count)


@dataclass
class OfflineResult:
    """Seconds each repeat took to process all ``samples`` in batches."""

    samples: int
    batch_size: int
    seconds: list[float]

    @property
    def throughput(self) -> float:
        """Samples per second of the median repeat."""
        return self.samples / float(np.median(self.seconds))

    def to_dict(self) -> dict:
        rates = [self.samples / seconds for seconds in self.seconds]
        low, high = bootstrap_ci(rates, np.median)
        return {
            "samples": self.samples,
            "batch_size": self.batch_size,
            "repeats": len(self.seconds),
            "samples_per_s": self.throughput,
            "samples_per_s_ci95": [low, high],
        }


def offline(
    predict: Callable[[object], object],
    batches: list,
    batch_size: int,
    repeats: int = 5,
    warmup: int = 1,
    clock: Clock = time.perf_counter,
) -> OfflineResult:
    """Time ``repeats`` passes of ``predict`` over all ``batches`` (each of ``batch_size``
    samples but maybe the last), after ``warmup`` untimed passes."""
    if not batches or repeats < 1:
        raise ValueError("offline: needs at least one batch and repeats >= 1")
    total = sum(len(batch) for batch in batches)
    for _ in range(warmup):
        for batch in batches:
            predict(batch)
    # BEGIN SOLUTION 19
    seconds = []
    for _ in range(repeats):
        start = clock()
        for batch in batches:
            predict(batch)
        seconds.append(clock() - start)
    # END SOLUTION
    return OfflineResult(total, batch_size, seconds)


def model_size_bytes(model: Module) -> int:
    """Bytes on disk of ``model.state_dict()`` written with ``tinytorch.save``."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.pt"
        tinytorch.save(model.state_dict(), path)
        return path.stat().st_size


@dataclass
class Result:
    """One submission's numbers, its verdict and the system it ran on."""

    name: str
    division: Division
    techniques: list[str]
    accuracy: float
    quality_target: float
    model_size_bytes: int
    single_stream: SingleStreamResult
    offline: OfflineResult
    system: dict = field(default_factory=describe_system)

    @property
    def valid(self) -> bool:
        """Whether the accuracy reaches the quality target (else: INVALID, not ranked)."""
        return self.accuracy >= self.quality_target

    @property
    def verdict(self) -> str:
        return "VALID" if self.valid else "INVALID"

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "division": self.division.value,
            "techniques": list(self.techniques),
            "verdict": self.verdict,
            "accuracy": self.accuracy,
            "quality_target": self.quality_target,
            "model_size_bytes": self.model_size_bytes,
            "single_stream": self.single_stream.to_dict(),
            "offline": self.offline.to_dict(),
            "system": self.system,
        }


class Harness:
    """Benchmark models on one data set under the same rules.

    Args:
        images: a Tensor (N, ...) of inputs; labels: a Tensor (N,) of classes.
        quality_target: the lowest accuracy (0..1) a valid result may have.
        batch_size: the offline scenario's batch size.
        min_query_count, min_duration, max_duration: the single-stream stopping rule.
        warmup: untimed single-stream queries first (offline: one untimed pass).
        repeats: timed offline passes.
        num_threads: BLAS threads during the runs (recorded with the system).
        clock: seconds as a float (``time.perf_counter``); tests inject a fake one.
    """

    def __init__(
        self,
        images: tinytorch.Tensor,
        labels: tinytorch.Tensor,
        quality_target: float,
        batch_size: int = 64,
        min_query_count: int = MIN_QUERY_COUNT,
        min_duration: float = 0.0,
        max_duration: float = 60.0,
        warmup: int = 10,
        repeats: int = 5,
        num_threads: int = 1,
        clock: Clock = time.perf_counter,
    ) -> None:
        if len(images) != len(labels):
            raise ValueError(
                f"Harness: {len(images)} images but {len(labels)} labels; pass one label each"
            )
        if not 0.0 <= quality_target <= 1.0:
            raise ValueError(
                f"Harness: quality_target is an accuracy in [0, 1], got {quality_target}"
            )
        self.images, self.labels = images, labels
        self.quality_target = quality_target
        self.batch_size = batch_size
        self.stream_rules = {
            "min_query_count": min_query_count,
            "min_duration": min_duration,
            "max_duration": max_duration,
            "warmup": warmup,
        }
        self.repeats, self.num_threads, self.clock = repeats, num_threads, clock

    def batches(self, size: int) -> list:
        return [self.images[start : start + size] for start in range(0, len(self.images), size)]

    def accuracy(self, model: Module) -> float:
        """The fraction of ``images`` whose highest logit is the label."""
        predicted = tinytorch.cat(
            [model(batch).argmax(dim=1) for batch in self.batches(self.batch_size)]
        )
        return float((predicted == self.labels).float().mean().item())

    def run(
        self,
        name: str,
        model: Module,
        division: Division,
        techniques: list[str] | tuple[str, ...] = (),
        size_bytes: int | None = None,
    ) -> Result:
        """Both scenarios, the accuracy and the size of ``model``, as one ``Result``.

        ``model`` is a Module or any callable from a batch to logits with an ``eval()``
        method (a proxy for a model in another process). ``size_bytes`` is the model's size
        on disk; None measures ``model_size_bytes(model)``.
        """
        validate_techniques(division, techniques)
        model.eval()
        with tinytorch.no_grad(), num_threads_limited(self.num_threads):
            accuracy = self.accuracy(model)
            stream = single_stream(model, self.batches(1), clock=self.clock, **self.stream_rules)
            batch = offline(
                model,
                self.batches(self.batch_size),
                self.batch_size,
                self.repeats,
                clock=self.clock,
            )
            system = describe_system()
        return Result(
            name,
            division,
            list(techniques),
            accuracy,
            self.quality_target,
            model_size_bytes(model) if size_bytes is None else size_bytes,
            stream,
            batch,
            system,
        )


class Report:
    """Results ranked by single-stream p90 latency within each division; INVALID unranked."""

    def __init__(self, results: list[Result]) -> None:
        names = [result.name for result in results]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"Report: submission names must be unique, repeated: {repeated}")
        self.results = list(results)

    def ranks(self) -> dict[str, int | None]:
        """Name -> rank (1 is fastest) among the valid results of its division; None if
        INVALID."""
        ranks: dict[str, int | None] = {result.name: None for result in self.results}
        for division in Division:
            valid = [r for r in self.results if r.division is division and r.valid]
            for rank, result in enumerate(sorted(valid, key=lambda r: r.single_stream.p90), 1):
                ranks[result.name] = rank
        return ranks

    def to_dict(self) -> dict:
        ranks = self.ranks()
        results = [dict(result.to_dict(), rank=ranks[result.name]) for result in self.results]
        return {"schema": SCHEMA, "results": results}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json())

    def table(self) -> str:
        """One row per result: verdict, rank, accuracy, size, p90 and throughput with CIs."""
        header = (
            f"{'submission':<22}{'division':<9}{'verdict':<9}{'rank':>5}{'accuracy':>10}"
            f"{'size KB':>9}{'p90 ms [95% CI]':>24}{'samples/s [95% CI]':>28}"
        )
        lines = [header, "-" * len(header)]
        for row in self.to_dict()["results"]:
            stream, batch = row["single_stream"], row["offline"]
            p90 = "{:.3f} [{:.3f}, {:.3f}]".format(stream["p90_ms"], *stream["p90_ci95_ms"])
            rate = "{:.0f} [{:.0f}, {:.0f}]".format(
                batch["samples_per_s"], *batch["samples_per_s_ci95"]
            )
            rank = "-" if row["rank"] is None else str(row["rank"])
            lines.append(
                f"{row['name']:<22}{row['division']:<9}{row['verdict']:<9}{rank:>5}"
                f"{row['accuracy']:>10.2%}{row['model_size_bytes'] / 1024:>9.1f}"
                f"{p90:>24}{rate:>28}"
            )
        system = self.results[0].system if self.results else describe_system()
        lines.append(
            f"system: {system['cpu']}, {system['cores']} cores, Python {system['python']}, "
            f"NumPy {system['numpy']}, BLAS threads {system['blas_threads']}"
        )
        return "\n".join(lines)

    def print(self) -> None:
        print(self.table())
