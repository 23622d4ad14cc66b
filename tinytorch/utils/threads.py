"""The BLAS thread count, shared by ``Timer(num_threads=...)`` and the benchmark harness.

NumPy hands matrix products to a BLAS library (OpenBLAS, MKL, Accelerate) that runs its own
thread pool. ``threadpoolctl`` (optional: ``pip install threadpoolctl``) reads and limits that
pool at run time; without it the count is unknown (``None``) and a limit cannot be applied,
which ``blas_threads`` reports with a warning instead of failing.
"""

import contextlib
import warnings
from collections.abc import Iterator

import numpy as np  # noqa: F401  (loads the BLAS library, so that threadpoolctl can see it)

try:
    import threadpoolctl
except ImportError:  # pragma: no cover - depends on the environment
    threadpoolctl = None


def blas_info() -> list[dict]:
    """One dict per BLAS library loaded by this process (name, version, threads), or []."""
    if threadpoolctl is None:
        return []
    return [info for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"]


def get_blas_threads() -> int | None:
    """The threads the BLAS uses now (the largest pool if several), or None if unknown."""
    pools = blas_info()
    return max(pool["num_threads"] for pool in pools) if pools else None


@contextlib.contextmanager
def blas_threads(count: int) -> Iterator[None]:
    """Run the block with the BLAS limited to ``count`` threads, then restore the old count."""
    if not isinstance(count, int) or count < 1:
        raise ValueError(f"blas_threads: count must be a positive int, got {count!r}")
    if threadpoolctl is None:
        warnings.warn(
            "blas_threads: threadpoolctl is not installed, so the BLAS thread count cannot be "
            "set; install it (pip install threadpoolctl) for reproducible timings",
            stacklevel=3,
        )
        yield
        return
    with threadpoolctl.threadpool_limits(limits=count, user_api="blas"):
        yield
