"""Timer, Measurement and Compare (module 19), on a fake clock with known timings."""

import numpy as np
import pytest

from tests.helpers import torch_or_skip
from tinytorch.threads import get_num_threads, num_threads_limited
from tinytorch.utils.benchmark import Compare, Measurement, TaskSpec, Timer

pytestmark = pytest.mark.module19


class FakeClock:
    """A clock that moves only when the timed statement runs: each run takes the next of
    ``durations`` seconds (cycling)."""

    def __init__(self, durations: list[float]) -> None:
        self.durations = durations
        self.now = 0.0
        self.runs = 0

    def __call__(self) -> float:
        return self.now

    def step(self) -> None:
        self.now += self.durations[self.runs % len(self.durations)]
        self.runs += 1


def measurement(times: list[float], number: int = 1) -> Measurement:
    return Measurement(number, [t * number for t in times], TaskSpec("f()"))


def test_statistics_of_known_times() -> None:
    times = [1.0, 2.0, 3.0, 4.0, 10.0]
    m = measurement(times, number=10)
    assert m.times == pytest.approx(times)
    assert m.mean == pytest.approx(4.0)
    assert m.median == pytest.approx(3.0)
    assert m.iqr == pytest.approx(np.percentile(times, 75) - np.percentile(times, 25))
    assert m.has_warnings  # IQR 2 is far above 10% of the median


def test_statistics_agree_with_torch() -> None:
    torch = torch_or_skip()
    from torch.utils.benchmark import Measurement as TorchMeasurement
    from torch.utils.benchmark.utils.common import TaskSpec as TorchTaskSpec

    raw = list(np.random.default_rng(0).uniform(1.0, 1.2, 17))
    ours = Measurement(100, raw, TaskSpec("f()"))
    theirs = TorchMeasurement(100, raw, TorchTaskSpec("f()", "pass"))
    assert torch is not None
    assert ours.mean == pytest.approx(theirs.mean)
    assert ours.median == pytest.approx(theirs.median)
    assert ours.iqr == pytest.approx(theirs.iqr)
    assert ours.significant_figures == theirs.significant_figures
    assert ours.has_warnings == theirs.has_warnings


def test_timeit_divides_the_block_by_the_runs() -> None:
    clock = FakeClock([0.002])
    m = Timer(clock.step, timer=clock).timeit(number=50)
    assert m.number_per_run == 50 and len(m.times) == 1
    assert m.median == pytest.approx(0.002)
    assert clock.runs == 51  # one warm-up run, then the block


def test_repeat_gives_one_time_per_block() -> None:
    clock = FakeClock([0.001, 0.003])
    m = Timer(clock.step, timer=clock).repeat(repeat=4, number=2)
    assert m.times == pytest.approx([0.002] * 4)


def test_blocked_autorange_sizes_blocks_by_powers_of_ten() -> None:
    run = 2.0**-16  # about 15 us per run, exact in binary so that the sums are exact
    clock = FakeClock([run])
    m = Timer(clock.step, timer=clock).blocked_autorange(min_run_time=0.1)
    # A block must take >= 0.01 s: 1,000 runs (0.0153 s); blocks until 0.1 s: seven.
    assert m.number_per_run == 1000
    assert len(m.times) == 7
    assert m.median == run


def test_blocked_autorange_calls_back_per_block() -> None:
    clock = FakeClock([0.05])
    calls = []
    Timer(clock.step, timer=clock).blocked_autorange(
        callback=lambda n, t: calls.append((n, t)), min_run_time=0.2
    )
    assert calls == [(1, pytest.approx(0.05))] * 4


def test_adaptive_autorange_stops_when_steady() -> None:
    steady = FakeClock([0.01])
    m = Timer(steady.step, timer=steady).adaptive_autorange(min_run_time=0.01)
    assert len(m.times) == 3  # the minimum: the IQR is already 0
    noisy = FakeClock([0.01, 0.05, 0.01, 0.09, 0.02])
    m = Timer(noisy.step, timer=noisy).adaptive_autorange(min_run_time=0.01, max_run_time=1.0)
    assert sum(m.raw_times) >= 1.0  # never steady: runs to the time bound


def test_string_statement_with_setup_and_globals() -> None:
    m = Timer("y = a @ b", setup="b = a.T.copy()", globals={"a": np.ones((4, 3))}).timeit(5)
    assert m.stmt == "y = a @ b" and m.setup == "b = a.T.copy()"
    assert m.median > 0


def test_a_statement_that_raises_is_explained() -> None:
    with pytest.raises(RuntimeError, match=r"stmt '1 / 0' raised ZeroDivisionError"):
        Timer("1 / 0").timeit(3)
    with pytest.raises(RuntimeError, match=r"setup 'x = missing' raised NameError"):
        Timer("x", setup="x = missing").timeit(3)
    with pytest.raises(ValueError, match="not valid Python"):
        Timer("for")
    with pytest.raises(ValueError, match="num_threads"):
        Timer("pass", num_threads=0)


def test_num_threads_limits_blas_during_the_run() -> None:
    seen = []
    before = get_num_threads()
    Timer(lambda: seen.append(get_num_threads()), num_threads=1).timeit(2)
    assert set(seen) == {1}
    assert get_num_threads() == before
    with pytest.raises(RuntimeError, match="positive integer"), num_threads_limited(0):
        pass


def test_repr_reads_like_torch() -> None:
    m = Measurement(10, [1e-3] * 3 + [2e-3], TaskSpec("f()", label="conv", sub_label="float"))
    text = repr(m)
    assert "conv: float" in text and "Median: 100.00 us" in text
    assert "4 measurements, 10 runs per measurement, 1 thread" in text
    assert "WARNING: Interquartile range" in text


def test_compare_groups_by_label_row_and_column() -> None:
    def result(label, sub_label, description, seconds, threads=1):
        spec = TaskSpec("f()", "pass", threads, label, sub_label, description)
        return Measurement(1, [seconds] * 3, spec)

    compare = Compare(
        [
            result("lenet5", "float32", "batch 1", 2e-3),
            result("lenet5", "float32", "batch 64", 5e-2),
            result("lenet5", "int8", "batch 1", 1e-3),
            result("gpt", "float32", "batch 1", 3e-6, threads=2),
        ]
    )
    text = str(compare)
    lenet, gpt = text.split("[", 2)[1:]
    assert "lenet5" in lenet and "batch 64" in lenet and "1 threads:" in lenet
    assert "milliseconds (ms)" in lenet
    int8_row = next(line for line in lenet.splitlines() if line.strip().startswith("int8"))
    assert "1.0" in int8_row and int8_row.count("|") == 2
    assert "2 threads:" in gpt and "microseconds (us)" in gpt and "3.0" in gpt
    with pytest.raises(TypeError, match="Measurement"):
        Compare([0.5])
