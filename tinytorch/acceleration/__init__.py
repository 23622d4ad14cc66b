"""Module 18's kernels and measuring tools: what makes NumPy code fast, shown on the framework.

* ``kernels``: the same computation written slow and fast (a convolution by loops over
  pixels and by shifted slices; a matrix product by whole-matrix and by cache-sized updates;
  a float16-storage product that accumulates in float32).
* ``memory``: bytes kept for backward (``saved_bytes``), peak memory of a call
  (``peak_memory``), and ``Checkpointed``, a module wrapper that checkpoints its module.

Thread control lives in ``tinytorch.threads`` (``tinytorch.set_num_threads``), gradient
checkpointing in ``tinytorch.utils.checkpoint``, loss scaling in ``tinytorch.amp``.
"""

from tinytorch.acceleration import kernels, memory
from tinytorch.acceleration.memory import Checkpointed, peak_memory, saved_bytes

__all__ = ["Checkpointed", "kernels", "memory", "peak_memory", "saved_bytes"]
