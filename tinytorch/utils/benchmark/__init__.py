"""Benchmarking, laid out as ``torch.utils.benchmark``: ``Timer`` measures a statement,
``Measurement`` holds its times and statistics, ``Compare`` prints them as tables.
``tinytorch.utils.benchmark.mlperf`` is an MLPerf-style harness built on the same ideas
(single-stream and offline scenarios, quality targets, divisions, a JSON report)."""

from tinytorch.utils.benchmark.common import Measurement, TaskSpec
from tinytorch.utils.benchmark.compare import Compare
from tinytorch.utils.benchmark.timer import Timer

__all__ = ["Compare", "Measurement", "TaskSpec", "Timer"]
