"""Measuring memory: what backward keeps, and the peak of a call; ``Checkpointed`` modules.

``saved_bytes(loss)`` walks the graph behind a tensor and adds up the arrays its nodes saved
for backward (each array counted once): the activation memory that training holds between
forward and backward. ``peak_memory(function)`` runs a call under ``tracemalloc`` (NumPy
reports its array allocations to it) and returns the highest number of bytes allocated at
once during it. ``Checkpointed(module)`` runs ``module`` through
``tinytorch.utils.checkpoint.checkpoint``::

    model.blocks = nn.ModuleList(Checkpointed(block) for block in model.blocks)
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from tinytorch import nn
from tinytorch.autograd.function import Context
from tinytorch.tensor import Tensor
from tinytorch.utils.checkpoint import checkpoint


def saved_bytes(output: Tensor) -> int:
    """Bytes of the arrays kept for backward by the graph that produced ``output``.

    A view keeps its whole base array alive, so each base array is counted once, in full.
    """
    seen_nodes: set[int] = set()
    seen_arrays: set[int] = set()
    total = 0
    stack = [output.grad_fn] if output.grad_fn is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        for array in map(owner_of, kept_arrays(node)):
            if id(array) not in seen_arrays:
                seen_arrays.add(id(array))
                total += array.nbytes
        stack.extend(s for s in node.__dict__.get("next_steps", ()) if isinstance(s, Context))
    return total


def owner_of(array: np.ndarray) -> np.ndarray:
    """The array that owns the memory ``array`` views (``array`` itself if it owns it)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def kept_arrays(node: Context) -> list[np.ndarray]:
    """The arrays a graph node holds for its backward: those ``save_for_backward`` kept and
    those forward stored as attributes of ``ctx`` (``ctx.mask = ...``)."""
    attributes = [value for name, value in vars(node).items() if name != "saved_versions"]
    candidates = [*vars(node).get("saved", ()), *attributes]
    return [value for value in candidates if isinstance(value, np.ndarray)]


def count_nodes(output: Tensor) -> int:
    """How many operations autograd recorded in the graph that produced ``output``."""
    seen: set[int] = set()
    stack = [output.grad_fn] if output.grad_fn is not None else []
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            stack.extend(s for s in node.__dict__.get("next_steps", ()) if isinstance(s, Context))
    return len(seen)


def peak_memory(function: Callable[[], Any]) -> tuple[Any, int]:
    """``(function(), peak)``: its result and the most bytes allocated at once while it ran,
    above what was allocated when it started (Python objects and NumPy arrays)."""
    already_tracing = tracemalloc.is_tracing()
    if not already_tracing:
        tracemalloc.start()
    start, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    try:
        result = function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if not already_tracing:
            tracemalloc.stop()
    return result, peak - start


class Checkpointed(nn.Module):
    """``module`` run through ``checkpoint``: the same outputs and gradients, its activations
    recomputed in backward instead of kept. The parameters stay ``module``'s own."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, *args: Any) -> Tensor:
        """``module(*args)``, checkpointed (a GPT block also takes its cache and layer index)."""
        return checkpoint(self.module, *args, use_reentrant=False)
