"""A model's layers at a glance (``summary``) and how long its forward pass takes (``latency``).

``summary(model, *inputs)`` runs one forward pass with a forward hook on every module and
reports, layer by layer: the output shape, the parameters and buffers the layer owns, the
activation memory (bytes of its output, what a training step keeps for backward) and the
FLOPs of its forward (counted by ``FlopCounterMode``). PyTorch has no built-in summary; this
follows the torchinfo package's table. ``latency(model, *inputs)`` times the forward pass
and reports percentiles: the median (p50) is the typical call, p90 and p99 the slow tail.

Example::

    >>> import tinytorch as torch
    >>> from tinytorch.profiler import latency, summary
    >>> model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU())
    >>> report = summary(model, torch.randn(4, 8))
    >>> [(row.name, row.output_shape, row.parameters, row.flops) for row in report.rows]
    [('', [4, 16], 0, 1024), ('0', [4, 16], 144, 1024), ('1', [4, 16], 0, 0)]
    >>> latency(model, torch.randn(4, 8), warmup=1, repeats=5).p50 > 0
    True
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from tinytorch.autograd.grad_mode import no_grad
from tinytorch.nn.modules.module import Module
from tinytorch.tensor import Tensor
from tinytorch.utils.flop_counter import FlopCounterMode


@dataclass
class LayerRow:
    """One module's line in a summary; ``name`` is its ``named_modules`` name ('' the model)."""

    name: str
    kind: str
    depth: int
    leaf: bool
    parameters: int
    buffers: int
    output_shape: list | None = None
    activation_bytes: int = 0
    flops: int = 0
    calls: int = 0


@dataclass
class ModelSummary:
    """The rows of ``summary`` in call order, with totals; ``str()`` is the table."""

    rows: list[LayerRow]
    total_parameters: int
    total_buffers: int
    total_flops: int

    @property
    def activation_bytes(self) -> int:
        """Bytes of the outputs of the leaf layers (those without submodules)."""
        return sum(row.activation_bytes for row in self.rows if row.leaf)

    def __str__(self) -> str:
        header = f"{'Layer (type)':<36}{'Output shape':>20}{'Params':>10}{'Buffers':>9}"
        header += f"{'Activations':>13}{'FLOPs':>14}"
        lines = [header, "=" * len(header)]
        for row in self.rows:
            label = "  " * row.depth + (f"{row.name} ({row.kind})" if row.name else row.kind)
            shape = "" if row.output_shape is None else str(row.output_shape)
            lines.append(
                f"{label[:36]:<36}{shape:>20}{row.parameters:>10,}"
                f"{row.buffers:>9,}{row.activation_bytes:>13,}{row.flops:>14,}"
            )
        lines += [
            "=" * len(header),
            f"Parameters: {self.total_parameters:,}   Buffers: {self.total_buffers:,}",
            f"Activation memory (leaf layers): {self.activation_bytes:,} bytes",
            f"Forward FLOPs: {self.total_flops:,}",
        ]
        return "\n".join(lines)


def output_stats(output: object) -> tuple[list, int]:
    """(shape, bytes) of a layer's output: a Tensor, or a tuple/list of them (shapes listed)."""
    if isinstance(output, Tensor):
        return list(output.shape), output._data.nbytes
    if isinstance(output, (tuple, list)):
        tensors = [item for item in output if isinstance(item, Tensor)]
        return [list(item.shape) for item in tensors], sum(t._data.nbytes for t in tensors)
    return [], 0


def layer_rows(model: Module) -> dict[int, LayerRow]:
    """An empty row for every module of ``model``, keyed by ``id(module)``, in tree order."""
    rows: dict[int, LayerRow] = {}
    depths = {id(model): 0}
    for name, module in model.named_modules():
        children = list(module.children())
        for child in children:
            depths.setdefault(id(child), depths[id(module)] + 1)
        rows[id(module)] = LayerRow(
            name=name,
            kind=type(module).__name__,
            depth=depths[id(module)],
            leaf=not children,
            parameters=sum(p.numel() for p in module.parameters(recurse=False)),
            buffers=sum(b.numel() for b in module.buffers(recurse=False)),
        )
    return rows


def record_layer(row: LayerRow, output: object, flops: int) -> None:
    """Add one call of a layer to its row: the output's shape, its bytes (activation memory,
    summed over calls), the ``flops`` counted during the call, and one more call."""
    # BEGIN SOLUTION 14
    row.output_shape, nbytes = output_stats(output)
    row.activation_bytes += nbytes
    row.flops += flops
    row.calls += 1
    # END SOLUTION


def summary(model: Module, *inputs: object) -> ModelSummary:
    """Run ``model(*inputs)`` once without gradients and report every module it calls.

    A forward pre-hook on each module notes the FLOPs counted so far; its forward hook hands
    the output and the FLOPs counted in between to ``record_layer``.
    """
    rows = layer_rows(model)
    counter = FlopCounterMode(display=False)
    flops_before: dict[int, list[int]] = {id(module): [] for module in model.modules()}

    def before(module: Module, args: tuple) -> None:
        flops_before[id(module)].append(counter.get_total_flops())

    def after(module: Module, args: tuple, output: object) -> None:
        flops = counter.get_total_flops() - flops_before[id(module)].pop()
        record_layer(rows[id(module)], output, flops)

    handles = []
    for module in model.modules():
        handles.append(module.register_forward_pre_hook(before))
        handles.append(module.register_forward_hook(after))
    try:
        with no_grad(), counter:
            model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
    return ModelSummary(
        rows=[row for row in rows.values() if row.calls],
        total_parameters=sum(p.numel() for p in model.parameters()),
        total_buffers=sum(b.numel() for b in model.buffers()),
        total_flops=counter.get_total_flops(),
    )


@dataclass
class Latency:
    """Percentiles of forward-pass times, in milliseconds, over ``repeats`` timed calls."""

    p50: float
    p90: float
    p99: float
    mean: float
    repeats: int

    def __str__(self) -> str:
        return (
            f"p50 {self.p50:.3f} ms  p90 {self.p90:.3f} ms  p99 {self.p99:.3f} ms  "
            f"(mean {self.mean:.3f} ms over {self.repeats} runs)"
        )


def percentile(samples: list[float] | np.ndarray, q: float) -> float:
    """The ``q``-th percentile (0..100) of ``samples``, interpolating between ranks.

    Sort the n samples; the percentile sits at position p = (n - 1) * q / 100, between the
    samples at floor(p) and ceil(p): s[lo] + (s[hi] - s[lo]) * (p - lo). NumPy's default
    (``np.percentile``) gives the same. Example: percentile([1, 2, 3, 4], 50) = 2.5.
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile: q must be in [0, 100], got {q}")
    if len(samples) == 0:
        raise ValueError("percentile: needs at least one sample")
    # BEGIN SOLUTION 14
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    # END SOLUTION


def latency(model: Module, *inputs: object, warmup: int = 5, repeats: int = 50) -> Latency:
    """Time ``model(*inputs)`` ``repeats`` times (after ``warmup`` untimed calls), without
    gradients; put the model in ``eval()`` mode first to time inference."""
    if warmup < 0 or repeats < 1:
        raise ValueError(f"latency: need warmup >= 0 and repeats >= 1, got {warmup}, {repeats}")
    times_ms = []
    with no_grad():
        for _ in range(warmup):
            model(*inputs)
        for _ in range(repeats):
            start = time.perf_counter()
            model(*inputs)
            times_ms.append((time.perf_counter() - start) * 1e3)
    return Latency(
        p50=percentile(times_ms, 50),
        p90=percentile(times_ms, 90),
        p99=percentile(times_ms, 99),
        mean=sum(times_ms) / repeats,
        repeats=repeats,
    )
