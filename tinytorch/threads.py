"""How many threads the matrix library (BLAS) uses: ``set_num_threads`` / ``get_num_threads``.

Every matrix multiply in tinytorch (``Linear``, im2col convolution, attention) is one call to
NumPy's BLAS (OpenBLAS in NumPy's wheels, or MKL, BLIS, Accelerate), which splits large
products over a pool of threads. As in PyTorch, ``tinytorch.set_num_threads(n)`` sets the
size of that pool for the rest of the process and ``get_num_threads()`` reads it::

    >>> import tinytorch as torch
    >>> torch.set_num_threads(1)       # one thread: reproducible timings on a busy machine
    >>> torch.get_num_threads()
    1

Elementwise NumPy ufuncs run on one thread whatever the setting: only BLAS calls use the pool.

Two ways to reach the BLAS, tried in order:

1. ``threadpoolctl`` (an optional dependency, ``pip install tinytorch[threads]``): it knows
   OpenBLAS, MKL, BLIS and FlexiBLAS on Linux, macOS and Windows.
2. Without it, OpenBLAS's own C functions through ``ctypes``: the library NumPy loaded is
   found in the process's memory map (``/proc/self/maps``, Linux only) and its
   ``openblas_set_num_threads`` / ``openblas_get_num_threads`` are called (NumPy's wheels
   rename them with a ``scipy_`` prefix and a ``64_`` suffix).

The libraries are looked up once, at the first call (NumPy loads its BLAS when it is
imported, before that). Where neither works (another BLAS without threadpoolctl),
``set_num_threads`` warns that it cannot reach the BLAS, and ``get_num_threads`` reports the
number last asked for.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import warnings
from collections.abc import Iterator
from typing import Any

# OpenBLAS's thread functions under the names its builds export, NumPy's wheels first.
_OPENBLAS_PREFIXES = ("scipy_openblas", "openblas")
_OPENBLAS_SUFFIXES = ("64_", "_64_", "")

_requested: int | None = None  # what set_num_threads was last asked for


@functools.cache
def _threadpoolctl_blas() -> Any:
    """threadpoolctl's controller of the loaded BLAS libraries, or None without threadpoolctl."""
    try:
        import threadpoolctl
    except ImportError:
        return None
    controller = threadpoolctl.ThreadpoolController().select(user_api="blas")
    return controller if controller.lib_controllers else None


def _loaded_openblas_paths() -> list[str]:
    """Paths of the OpenBLAS libraries mapped into this process (Linux's /proc/self/maps)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:
        return []
    return sorted(path for path in paths if path.startswith("/"))


@functools.cache
def _openblas_function(action: str) -> Any:
    """OpenBLAS's ``openblas_<action>_num_threads`` from the loaded library, or None."""
    for path in _loaded_openblas_paths():
        library = ctypes.CDLL(path)
        for prefix in _OPENBLAS_PREFIXES:
            for suffix in _OPENBLAS_SUFFIXES:
                function = getattr(library, f"{prefix}_{action}_num_threads{suffix}", None)
                if function is not None:
                    return function
    return None


def blas_thread_control() -> str:
    """How ``set_num_threads`` reaches the BLAS: ``"threadpoolctl"``, ``"openblas"`` or
    ``"none"`` (benchmarks record it with their figures)."""
    if _threadpoolctl_blas() is not None:
        return "threadpoolctl"
    if _openblas_function("set") is not None:
        return "openblas"
    return "none"


def blas_info() -> list[dict[str, Any]]:
    """One dict per BLAS library in this process (``internal_api``, ``version``,
    ``num_threads``, ...) as threadpoolctl describes it; [] without threadpoolctl."""
    blas = _threadpoolctl_blas()
    return [] if blas is None else list(blas.info())


def set_num_threads(num_threads: int) -> None:
    """Use ``num_threads`` threads in the BLAS (matrix products) from now on.

    Raises PyTorch's ``RuntimeError`` for anything but a positive ``int``.
    """
    global _requested
    if isinstance(num_threads, bool) or not isinstance(num_threads, int):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(num_threads).__name__}")
    if num_threads <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    _requested = num_threads
    blas = _threadpoolctl_blas()
    if blas is not None:
        blas.limit(limits=num_threads)
        return
    set_openblas_threads = _openblas_function("set")
    if set_openblas_threads is not None:
        set_openblas_threads(ctypes.c_int(num_threads))
        return
    warnings.warn(
        "set_num_threads: cannot reach this NumPy's BLAS (not OpenBLAS on Linux); install "
        "threadpoolctl (pip install threadpoolctl) to control MKL, BLIS or Accelerate, or set "
        "OMP_NUM_THREADS before starting Python",
        RuntimeWarning,
        stacklevel=2,
    )


def get_num_threads() -> int:
    """The number of threads the BLAS uses for a matrix product."""
    blas = _threadpoolctl_blas()
    if blas is not None:
        return max(info["num_threads"] for info in blas.info())
    get_openblas_threads = _openblas_function("get")
    if get_openblas_threads is not None:
        return int(get_openblas_threads())
    return _requested if _requested is not None else os.cpu_count() or 1


@contextlib.contextmanager
def num_threads_limited(num_threads: int) -> Iterator[None]:
    """Run a block with ``num_threads`` BLAS threads, restoring the previous number after it::

    with num_threads_limited(1):
        timings = measure()
    """
    previous = get_num_threads()
    set_num_threads(num_threads)
    try:
        yield
    finally:
        set_num_threads(previous)
