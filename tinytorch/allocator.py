"""Keep freed memory in the process, so a training step does not page-fault on every step.

Every training step allocates the same activations and gradients, frees them, and allocates
them again on the next step. NumPy takes its arrays from the C library's ``malloc``. glibc's
``malloc`` gives large blocks back to the operating system as soon as they are free: blocks
above ``M_MMAP_THRESHOLD`` are unmapped at once, and free memory at the top of the heap above
``M_TRIM_THRESHOLD`` is trimmed. The next step asks for the same memory again, and the
kernel hands it out page by page: a page fault and a zero-filled 4 KiB page for every page
touched. Measured on the GPT of ``benchmarks/train_step.py`` (2 cores): about 10,000 page
faults and 21 ms of kernel time per 88 ms step; with the thresholds below, 6 faults and
71 ms. Deep-learning frameworks keep freed memory for reuse for the same reason (a
"caching allocator").

``retain_freed_memory`` raises both thresholds: blocks up to ``MMAP_THRESHOLD`` come from
the heap, and free heap memory is kept up to ``TRIM_THRESHOLD``. The cost is that the
process keeps its peak memory after the peak has passed. ``import tinytorch`` calls it once;
set the environment variable ``TINYTORCH_RETAIN_MEMORY=0`` to keep the C library's
defaults. On a C library other than glibc (macOS, Windows, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import os
import platform

M_TRIM_THRESHOLD = -1  # mallopt's parameter numbers, from glibc's <malloc.h>
M_MMAP_THRESHOLD = -3
TRIM_THRESHOLD = 1 << 30  # keep up to 1 GiB of free heap memory
MMAP_THRESHOLD = 1 << 25  # 32 MiB, the largest value glibc accepts on 64-bit systems


def retain_freed_memory() -> bool:
    """Raise glibc's trim and mmap thresholds; True if they were set.

    Does nothing (and returns False) when ``TINYTORCH_RETAIN_MEMORY`` is ``0`` or the C
    library is not glibc.
    """
    if os.environ.get("TINYTORCH_RETAIN_MEMORY", "1") == "0":
        return False
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL("libc.so.6")
    trimmed = libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    mapped = libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    return bool(trimmed and mapped)  # mallopt returns 1 on success, 0 on error
