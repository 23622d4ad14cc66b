"""``Timer``: run a statement many times and measure it, as ``torch.utils.benchmark.Timer``.

The statement is Python source (run with ``exec`` in a namespace built from ``globals`` and
``setup``) or a callable taking no arguments. The clock is ``time.perf_counter`` unless a
``timer`` is given: tests pass a fake clock to check the statistics on known timings.
"""

import contextlib
import time
from collections.abc import Callable, Iterator

from tinytorch.threads import num_threads_limited
from tinytorch.utils.benchmark.common import Measurement, TaskSpec

Statement = str | Callable[[], object]

# blocked_autorange sizes one block to take at least this fraction of min_run_time.
BLOCK_FRACTION = 0.1
# adaptive_autorange needs this many blocks before it trusts an interquartile range.
MIN_ADAPTIVE_BLOCKS = 3


class Timer:
    """Time ``stmt`` after running ``setup`` once.

    Args:
        stmt: source code (``"model(x)"``) or a callable with no arguments.
        setup: source code or a callable, run once before timing (not timed).
        timer: the clock, seconds as a float (``time.perf_counter``).
        globals: names the statement and the setup can read (copied, not modified).
        label, sub_label, description: how ``Compare`` groups the measurement (table,
            row, column).
        num_threads: BLAS threads while timing (PyTorch's default: 1).

    Example::

        >>> t = Timer("x @ x", setup="import numpy as np; x = np.ones((64, 64))")
        >>> t.blocked_autorange(min_run_time=0.1).median  # seconds per run
    """

    def __init__(
        self,
        stmt: Statement = "pass",
        setup: Statement = "pass",
        timer: Callable[[], float] = time.perf_counter,
        globals: dict | None = None,  # noqa: A002 - PyTorch's name
        label: str | None = None,
        sub_label: str | None = None,
        description: str | None = None,
        num_threads: int = 1,
    ) -> None:
        if not isinstance(num_threads, int) or num_threads < 1:
            raise ValueError(f"Timer: num_threads must be a positive int, got {num_threads!r}")
        self._stmt = compile_statement(stmt, "stmt")
        self._setup = compile_statement(setup, "setup")
        self._timer = timer
        self._namespace = dict(globals or {})
        self._ready = False
        self._task_spec = TaskSpec(
            statement_text(stmt), statement_text(setup), num_threads, label, sub_label, description
        )

    def _run(self, number: int) -> float:
        """Seconds that ``number`` runs of the statement take (the setup runs first, once)."""
        if not isinstance(number, int) or number < 1:
            raise ValueError(f"Timer: number must be a positive int, got {number!r}")
        with num_threads_limited(self._task_spec.num_threads):
            if not self._ready:
                with explain_errors(self._task_spec.setup, "setup"):
                    self._setup(self._namespace)
                self._ready = True
            run, namespace = self._stmt, self._namespace
            with explain_errors(self._task_spec.stmt, "stmt"):
                start = self._timer()
                for _ in range(number):
                    run(namespace)
                return self._timer() - start

    def _measurement(self, number: int, raw_times: list[float], **metadata) -> Measurement:
        return Measurement(number, raw_times, self._task_spec, metadata)

    def timeit(self, number: int = 1_000_000) -> Measurement:
        """One block of ``number`` runs."""
        self._run(number=1)  # warm-up: first calls pay for allocation and caches
        return self._measurement(number, [self._run(number)])

    def repeat(self, repeat: int = 5, number: int = 1_000_000) -> Measurement:
        """``repeat`` blocks of ``number`` runs each (PyTorch leaves this unimplemented)."""
        if not isinstance(repeat, int) or repeat < 1:
            raise ValueError(f"Timer.repeat: repeat must be a positive int, got {repeat!r}")
        self._run(number=1)
        return self._measurement(number, [self._run(number) for _ in range(repeat)])

    def block_size(self, min_block_time: float) -> int:
        """The smallest power of ten of runs whose block takes at least ``min_block_time``."""
        # BEGIN SOLUTION 19
        number = 1
        while self._run(number) < min_block_time:
            number *= 10
        return number
        # END SOLUTION

    def blocked_autorange(
        self, callback: Callable[[int, float], None] | None = None, min_run_time: float = 0.2
    ) -> Measurement:
        """Blocks of one size, run until their total time reaches ``min_run_time`` seconds.

        The size is the smallest power of ten of runs that takes at least
        ``min_run_time / 10``, so a fast statement is timed in blocks long enough for the
        clock, and a slow one in blocks of a single run. ``callback(number, seconds)`` is
        called after each block.
        """
        number = self.block_size(BLOCK_FRACTION * min_run_time)
        # BEGIN SOLUTION 19
        raw_times: list[float] = []
        while sum(raw_times) < min_run_time:
            raw_times.append(self._run(number))
            if callback is not None:
                callback(number, raw_times[-1])
        return self._measurement(number, raw_times)
        # END SOLUTION

    def adaptive_autorange(
        self,
        threshold: float = 0.1,
        *,
        min_run_time: float = 0.01,
        max_run_time: float = 10.0,
        callback: Callable[[int, float], None] | None = None,
    ) -> Measurement:
        """Blocks until the IQR falls below ``threshold`` times the median.

        Stops once at least three blocks and ``min_run_time`` seconds are measured and
        IQR / median < threshold, or when the blocks reach ``max_run_time`` seconds.
        """
        number = self.block_size(BLOCK_FRACTION * min_run_time)
        raw_times: list[float] = []
        while sum(raw_times) < max_run_time:
            raw_times.append(self._run(number))
            if callback is not None:
                callback(number, raw_times[-1])
            measured = self._measurement(number, raw_times)
            enough = len(raw_times) >= MIN_ADAPTIVE_BLOCKS and sum(raw_times) >= min_run_time
            if enough and measured.iqr < threshold * measured.median:
                break
        return self._measurement(number, raw_times)


def compile_statement(stmt: Statement, role: str) -> Callable[[dict], object]:
    """A function of the namespace that runs ``stmt``: exec of its code, or the callable."""
    if callable(stmt):
        return lambda namespace: stmt()
    if not isinstance(stmt, str):
        raise TypeError(f"Timer: {role} must be a str or a callable, got {type(stmt).__name__}")
    try:
        code = compile(stmt, f"<timer {role}>", "exec")
    except SyntaxError as error:
        raise ValueError(f"Timer: {role} {stmt!r} is not valid Python: {error.msg}") from error
    return lambda namespace: exec(code, namespace)


@contextlib.contextmanager
def explain_errors(text: str, role: str) -> Iterator[None]:
    """An exception raised by the statement inside becomes a RuntimeError naming it."""
    try:
        yield
    except Exception as error:
        raise RuntimeError(
            f"Timer: the {role} {text!r} raised {type(error).__name__}: {error}. "
            "Fix it so that it runs on its own (the setup runs once, then the stmt repeatedly; "
            "the stmt sees the names that the setup and `globals` define)"
        ) from error


def statement_text(stmt: Statement) -> str:
    """The source of a statement, or the name of a callable, for tables and reprs."""
    return stmt if isinstance(stmt, str) else getattr(stmt, "__qualname__", repr(stmt))
