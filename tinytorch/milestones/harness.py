"""What every milestone script shares: its story, progress bar, learning curves, results
table, verdict and JSON record, and its command line.

A milestone script is written like this::

    def run(fast: bool = False, data_dir: str | None = None) -> dict:
        tell_story("1958", "Rosenblatt's perceptron", STORY)
        bar = progress_bar(epochs, "training")
        ...                                        # train, calling bar.record("loss", loss)
        checks = [Check("test accuracy", accuracy, target=0.98)]
        return report("01_1958_perceptron", checks, seconds, fast)

A run lasts from ``tell_story`` to ``report``: the values that its bars recorded (one per
epoch or step) go into the result as ``curves``, which the course website plots.

    if __name__ == "__main__":
        sys.exit(main(run, "01_1958_perceptron", __doc__))
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from tinytorch.autograd.grad_mode import no_grad
from tinytorch.nn import Module
from tinytorch.training import ProgressBar
from tinytorch.utils.data import TensorDataset

WIDTH = 72


UNITS = ("%", "x")  # how a check's value prints: a fraction as a percentage, a ratio


@dataclass(frozen=True)
class Check:
    """One measured number against its target: ``value >= target`` (or ``<=`` if ``at_most``).

    ``unit`` says how both print: ``"%"`` a fraction as a percentage (0.97 -> 97.0%), ``"x"``
    a ratio (4.2 -> 4.2x, "times smaller" or "times faster").
    """

    name: str
    value: float
    target: float
    at_most: bool = False
    unit: str = "%"

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"Check {self.name!r}: unit must be one of {UNITS}, got {self.unit!r}")

    @property
    def passed(self) -> bool:
        return self.value <= self.target if self.at_most else self.value >= self.target


def format_value(value: float, unit: str = "%") -> str:
    """A check's value or target as printed: 0.971 -> "97.1%" (unit "%"), 4.24 -> "4.2x"."""
    return f"{value:.1%}" if unit == "%" else f"{value:.1f}x"


class CurveBar(ProgressBar):
    """A progress bar that also keeps the value of each step: a learning curve."""

    def __init__(self, total: int, label: str) -> None:
        super().__init__(total, label)
        self.measure = ""
        self.values: list[float] = []

    def record(self, measure: str, value: float) -> None:
        """Count one step whose ``measure`` (``"loss"``, ``"mistakes"``) was ``value``."""
        self.measure = measure
        self.values.append(float(value))
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        self.update(f"{measure} {shown}")

    def curve(self) -> dict:
        """The JSON-ready curve: ``{"label", "measure", "values"}``."""
        return {"label": self.label.strip(), "measure": self.measure, "values": self.values}


_run_bars: list[CurveBar] = []  # the bars of the run in progress, from tell_story to report


def tell_story(year: str, title: str, story: str) -> None:
    """Start a run: print the milestone's title and its short history, wrapped to ``WIDTH``
    columns."""
    _run_bars.clear()
    print(f"\n{'=' * WIDTH}\n {year}: {title}\n{'=' * WIDTH}")
    for paragraph in textwrap.dedent(story).strip().split("\n\n"):
        print(textwrap.fill(" ".join(paragraph.split()), WIDTH), end="\n\n")


def progress_bar(total: int, label: str) -> CurveBar:
    """A live bar on stderr; call ``bar.record(measure, value)`` once per step, then
    ``bar.close(status)``. Its values become one of the run's ``curves``."""
    bar = CurveBar(total, label)
    _run_bars.append(bar)
    return bar


def accuracy(model: Module, data: TensorDataset, batch_size: int = 1000) -> float:
    """The fraction of ``data`` (inputs, labels) that ``model`` classifies correctly, computed
    ``batch_size`` examples at a time without recording gradients."""
    inputs, labels = data[:]
    correct = 0.0
    with no_grad():
        for first in range(0, len(labels), batch_size):
            batch = slice(first, first + batch_size)
            correct += (model(inputs[batch]).argmax(dim=1) == labels[batch]).float().sum().item()
    return correct / len(labels)


def report(
    slug: str, checks: Sequence[Check], seconds: float, fast: bool, **details: object
) -> dict:
    """Print the results table and the verdict; return the result as a JSON-ready dict, with
    the learning curves that the run's bars recorded."""
    print(f"\n {'check':<34}{'result':>10}{'target':>12}")
    print(f" {'-' * 34}{'-' * 10}{'-' * 12}{'-' * 6}")
    for check in checks:
        sign = "<=" if check.at_most else ">="
        mark = "ok" if check.passed else "MISS"
        value = format_value(check.value, check.unit)
        print(f" {check.name:<34}{value:>10}{sign:>5} {format_value(check.target, check.unit):>6}"
              f"  {mark}")  # fmt: skip
    passed = all(check.passed for check in checks)
    verdict = "MILESTONE ACHIEVED" if passed else "NOT YET: a target was missed"
    print(f"\n {verdict} ({seconds:.1f} s{', fast mode' if fast else ''})\n")
    return {
        "milestone": slug,
        "passed": passed,
        "fast": fast,
        "seconds": round(seconds, 3),
        "checks": [{**asdict(check), "passed": check.passed} for check in checks],
        "curves": [bar.curve() for bar in _run_bars if bar.values],
        **details,
    }


def default_output(slug: str) -> Path:
    """Where a result goes by default: ``.tinytorch/results/<slug>.json`` in the working dir."""
    return Path.cwd() / ".tinytorch" / "results" / f"{slug}.json"


def write_result(result: dict, path: Path) -> None:
    """Write ``result`` as JSON to ``path`` atomically (a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.tmp")
    temporary.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def main(
    run: Callable[..., dict], slug: str, description: str | None, argv: list[str] | None = None
) -> int:
    """The command line of a milestone script (``argv``: default ``sys.argv[1:]``).

    Returns the exit code; ``run`` writes its story and table to stdout, this the result file.
    Exit codes: 0 achieved, 1 a target missed, 2 a course module is not written yet.
    """
    parser = argparse.ArgumentParser(description=(description or slug).strip().splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a quick run, for tests")
    parser.add_argument("--data-dir", help="data directory (default: $TINYTORCH_DATA, else "
                        "~/.tinytorch/data)")  # fmt: skip
    parser.add_argument("--output", type=Path, help=f"result JSON ({default_output(slug)})")
    args = parser.parse_args(argv)
    try:
        result = run(fast=args.fast, data_dir=args.data_dir)
    except NotImplementedError as missing:
        message = f"This milestone needs code you have not written yet:\n  {missing}"
        print(f"\n{message}", file=sys.stderr)
        return 2
    output = args.output or default_output(slug)
    write_result(result, output)
    print(f" result written to {output}")
    return 0 if result["passed"] else 1
