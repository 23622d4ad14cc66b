"""tinytorch keeps freed memory in the process (glibc only), unless told not to."""

import os
import platform
import subprocess
import sys

import pytest

from tinytorch import allocator

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

# Three 16 MB arrays at a time, freed together, ten times over: the page faults it takes.
STEPS = """
import resource
import numpy as np
import tinytorch

def step():
    blocks = [np.ones(4_000_000, np.float32) for _ in range(3)]

for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(retain: str) -> int:
    """Page faults of ``STEPS`` in a fresh interpreter with TINYTORCH_RETAIN_MEMORY=retain."""
    env = {**os.environ, "TINYTORCH_RETAIN_MEMORY": retain}
    result = subprocess.run(
        [sys.executable, "-c", STEPS], env=env, capture_output=True, text=True, check=True
    )
    return int(result.stdout)


def test_opt_out_leaves_the_defaults(monkeypatch):
    monkeypatch.setenv("TINYTORCH_RETAIN_MEMORY", "0")
    assert allocator.retain_freed_memory() is False


@pytest.mark.skipif(not GLIBC, reason="the thresholds exist on glibc only")
def test_freed_memory_is_reused_without_page_faults():
    # glibc's defaults trim the top of the heap and fault it in again: measured 11,380
    assert page_faults("0") > 5000
    assert page_faults("1") < 500  # measured 0
