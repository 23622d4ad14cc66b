"""Module 18's kernels and measuring tools: what makes NumPy code fast, shown on the framework.

* ``kernels``: the same computation written slow and fast (a convolution by loops over
  pixels and by shifted slices; a matrix product by whole-matrix and by cache-sized updates;
  a float16-storage product that accumulates in float32).
* ``unfused``: GELU, layer norm and cross-entropy composed of primitive ops, to compare
  with the fused ``Function`` of each.
* ``memory``: bytes kept for backward (``saved_bytes``), recorded operations
  (``count_nodes``), peak memory of a call (``peak_memory``), and ``Checkpointed``, a module
  wrapper that checkpoints its module.

Thread control lives in ``tinytorch.threads`` (``tinytorch.set_num_threads``), gradient
checkpointing in ``tinytorch.utils.checkpoint``, loss scaling in ``tinytorch.amp``.
"""

from tinytorch.acceleration import kernels, memory, unfused
from tinytorch.acceleration.memory import Checkpointed, count_nodes, peak_memory, saved_bytes

__all__ = [
    "Checkpointed",
    "count_nodes",
    "kernels",
    "memory",
    "peak_memory",
    "saved_bytes",
    "unfused",
]
