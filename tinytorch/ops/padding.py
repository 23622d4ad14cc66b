"""Padding: grow (or, with negative widths, crop) the last dimensions of a tensor.

``widths`` gives (before, after) for every dimension of x. Four modes, as in ``F.pad``, for
a dimension of size n padded by (a, b):

* ``constant``: new entries hold ``value``;
* ``replicate``: the edge repeats:          position p reads x[clip(p, 0, n - 1)];
* ``reflect``: mirrored, edge not repeated: p < 0 reads x[-p], p >= n reads x[2 (n - 1) - p];
* ``circular``: wraps around:               position p reads x[p mod n];

for p in [-a, n + b). The last three are gathers along index arrays, so their backward adds
each output's gradient back onto the entry it read (``np.add.at``: an edge entry is read
several times).
"""

from __future__ import annotations

import numpy as np

from tinytorch.autograd.function import Context, Function

Widths = tuple[tuple[int, int], ...]


def constant_pad(x: np.ndarray, widths: Widths, value: float) -> np.ndarray:
    """x with widths[d] = (before, after) entries of ``value`` added (cropped if negative)."""
    # BEGIN SOLUTION 09
    grown = np.pad(x, [(max(a, 0), max(b, 0)) for a, b in widths], constant_values=value)
    keep = tuple(
        slice(max(-a, 0), size - max(-b, 0))
        for (a, b), size in zip(widths, grown.shape, strict=True)
    )
    return grown[keep]
    # END SOLUTION


class ConstantPad(Function):
    """Pad with a constant; the gradient is the output's gradient with the padding cut off,
    which is a constant pad by the negated widths."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, widths: Widths, value: float) -> np.ndarray:
        # BEGIN SOLUTION 09
        ctx.widths = widths
        return constant_pad(x, widths, value)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 09
        return constant_pad(grad, tuple((-a, -b) for a, b in ctx.widths), 0), None, None
        # END SOLUTION


def source_index(size: int, before: int, after: int, mode: str) -> np.ndarray:
    """Which entry of a dimension of ``size`` each padded position reads, for ``mode``."""
    # BEGIN SOLUTION 09
    positions = np.arange(-before, size + after)
    if mode == "replicate":
        return np.clip(positions, 0, size - 1)
    if mode == "circular":
        return positions % size
    mirrored = np.where(positions < 0, -positions, positions)  # reflect
    return np.where(mirrored >= size, 2 * (size - 1) - mirrored, mirrored)
    # END SOLUTION


class IndexPad(Function):
    """Pad by gathering along each padded dimension: ``replicate``, ``reflect``, ``circular``.

    Forward takes x[..., index, ...] per dimension; backward adds the gradient back along the
    same indices, one dimension at a time in reverse order.
    """

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, widths: Widths, mode: str) -> np.ndarray:
        # BEGIN SOLUTION 09
        gathers = [
            (axis, source_index(x.shape[axis], a, b, mode))
            for axis, (a, b) in enumerate(widths)
            if (a, b) != (0, 0)
        ]
        ctx.gathers, ctx.input_shape = gathers, x.shape
        for axis, index in gathers:
            x = np.take(x, index, axis=axis)
        return x
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 09
        for axis, index in reversed(ctx.gathers):
            shape = list(grad.shape)
            shape[axis] = ctx.input_shape[axis]
            summed = np.zeros(shape, grad.dtype)
            np.add.at(summed, (slice(None),) * axis + (index,), grad)
            grad = summed
        return grad, None, None
        # END SOLUTION
