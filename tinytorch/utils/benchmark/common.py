"""``Measurement``: the times of one benchmarked statement and their statistics.

A measurement is a list of *blocks*: each block ran the statement ``number_per_run`` times and
took ``raw_times[i]`` seconds, so one run took ``times[i] = raw_times[i] / number_per_run``.
Timing a block of many runs rather than one run at a time keeps the clock's own cost and
resolution small next to what is measured.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from tinytorch.profiler.model_stats import percentile

# An interquartile range above this fraction of the median earns a warning, as in PyTorch.
IQR_WARNING_FRACTION = 0.1
MAX_SIGNIFICANT_FIGURES = 4
UNITS = ((1e-9, "ns", "nanoseconds"), (1e-6, "us", "microseconds"), (1e-3, "ms", "milliseconds"))


@dataclass
class TaskSpec:
    """What was timed: the statement, its setup, the threads and the labels ``Compare`` uses."""

    stmt: str
    setup: str = "pass"
    num_threads: int = 1
    label: str | None = None
    sub_label: str | None = None
    description: str | None = None


@dataclass
class Measurement:
    """Block times of one statement. ``times`` are seconds per run, one per block."""

    number_per_run: int
    raw_times: list[float]
    task_spec: TaskSpec
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.number_per_run < 1 or not self.raw_times:
            raise ValueError(
                "Measurement: needs number_per_run >= 1 and at least one block time, got "
                f"number_per_run={self.number_per_run} and {len(self.raw_times)} block times"
            )

    def __getattr__(self, name: str):
        """``m.label``, ``m.stmt``, ... read through to the task spec, as in PyTorch."""
        if name != "task_spec" and name in TaskSpec.__dataclass_fields__:
            return getattr(self.task_spec, name)
        raise AttributeError(f"'Measurement' object has no attribute '{name}'")

    @property
    def times(self) -> list[float]:
        """Seconds per run of each block: raw_times[i] / number_per_run."""
        return [block / self.number_per_run for block in self.raw_times]

    @property
    def mean(self) -> float:
        return float(np.mean(self.times))

    @property
    def median(self) -> float:
        return self.quartiles()[1]

    @property
    def iqr(self) -> float:
        """The interquartile range p75 - p25: how far the middle half of the runs spreads."""
        low, _, high = self.quartiles()
        return high - low

    def quartiles(self) -> tuple[float, float, float]:
        """(p25, p50, p75) of ``times``, interpolated between ranks like ``np.percentile``."""
        # BEGIN SOLUTION 19
        times = self.times
        return percentile(times, 25), percentile(times, 50), percentile(times, 75)
        # END SOLUTION

    @property
    def significant_figures(self) -> int:
        """How many digits of the median to trust, from 1 to 4.

        The middle half of the sorted times gives a 90% confidence half-width for the centre,
        h = 1.645 * std / sqrt(k) over its k samples; the median's digits above h are
        meaningful: floor(log10(median / h)). A single block gives no spread: 4 digits.
        """
        ordered = sorted(self.times)
        middle = ordered[len(ordered) // 4 : math.ceil(3 * len(ordered) / 4)]
        half_width = 1.645 * float(np.std(middle)) / math.sqrt(len(middle))
        if half_width <= 0:
            return MAX_SIGNIFICANT_FIGURES
        digits = math.floor(math.log10(self.median / half_width))
        return min(max(digits, 1), MAX_SIGNIFICANT_FIGURES)

    @property
    def has_warnings(self) -> bool:
        """True when at least four blocks spread by more than 10% of the median (IQR)."""
        return len(self.times) >= 4 and self.iqr > IQR_WARNING_FRACTION * self.median

    @property
    def title(self) -> str:
        parts = [self.label, self.sub_label]
        return ": ".join(part for part in parts if part) or self.stmt

    def __repr__(self) -> str:
        lines = [f"<{type(self).__module__}.Measurement object at {hex(id(self))}>", self.title]
        if self.description:
            lines.append(self.description)
        if self.setup != "pass":
            lines.append(f"setup: {self.setup}")
        blocks = len(self.times)
        threads = f"{self.num_threads} thread{'s' if self.num_threads > 1 else ''}"
        if blocks == 1:
            lines.append(f"  {format_time(self.median)}")
            lines.append(f"  1 measurement, {self.number_per_run} runs , {threads}")
        else:
            low, median, high = self.quartiles()
            lines.append(f"  Median: {format_time(median)}")
            if blocks >= 4:
                iqr = f"{format_time(high - low)} ({format_time(low)} to {format_time(high)})"
                lines.append(f"  IQR:    {iqr}")
            lines.append(
                f"  {blocks} measurements, {self.number_per_run} runs per measurement, {threads}"
            )
        if self.has_warnings:
            lines.append(
                f"  WARNING: Interquartile range is {self.iqr / self.median:.1%} of the median "
                "measurement.\n           This suggests significant environmental influence."
            )
        return "\n".join(lines)


def time_unit(seconds: float) -> tuple[float, str, str]:
    """The largest unit (scale, short name, long name) in which ``seconds`` is at least 1."""
    for scale, short, long in reversed(UNITS):
        if seconds >= scale:
            return scale, short, long
    return UNITS[0]


def format_time(seconds: float) -> str:
    """``seconds`` in its unit with two decimals, e.g. 38.82 ns or 1.25 ms (s above 1 s)."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    scale, short, _ = time_unit(seconds)
    return f"{seconds / scale:.2f} {short}"
