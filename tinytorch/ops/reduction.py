"""Reductions: sum, mean, var, max/min over all elements, logsumexp.

A reduction over axes ``dim`` removes them (or keeps them with size 1 when ``keepdim``).
Backward first restores the reduced axes of the gradient as size 1 (``expand_reduced``) so it
broadcasts against the input again.
"""

from __future__ import annotations

import numpy as np

from tinytorch.autograd.function import Context, Function

Axes = tuple[int, ...] | None


def expand_reduced(grad: np.ndarray, axes: Axes, keepdim: bool) -> np.ndarray:
    """Re-insert the size-1 axes a reduction removed, so ``grad`` broadcasts to the input."""
    if axes is None or keepdim:
        return grad
    return np.expand_dims(grad, axes)


def reduced_count(shape: tuple[int, ...], axes: Axes) -> int:
    """How many input elements fold into each output element of a reduction over ``axes``."""
    if axes is None:
        return int(np.prod(shape))
    return int(np.prod([shape[axis] for axis in axes]))


class Sum(Function):
    """out = sum of a over ``axes``;  every input element gets the gradient of its sum."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axes: Axes, keepdim: bool) -> np.ndarray:
        # BEGIN SOLUTION 01
        ctx.input_shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        return np.sum(a, axis=axes, keepdims=keepdim)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        grad = expand_reduced(grad, ctx.axes, ctx.keepdim)
        return np.broadcast_to(grad, ctx.input_shape), None, None
        # END SOLUTION


class Mean(Function):
    """out = sum of a over ``axes`` / N;  every input element gets grad / N."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axes: Axes, keepdim: bool) -> np.ndarray:
        # BEGIN SOLUTION 01
        ctx.input_shape, ctx.axes, ctx.keepdim = a.shape, axes, keepdim
        return np.mean(a, axis=axes, keepdims=keepdim)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        grad = expand_reduced(grad, ctx.axes, ctx.keepdim) / reduced_count(
            ctx.input_shape, ctx.axes
        )
        return np.broadcast_to(grad, ctx.input_shape), None, None
        # END SOLUTION


class Var(Function):
    """out = sum((a - mean)^2) / (N - correction);  d out/d a = 2 (a - mean) / (N - correction).

    ``correction=1`` is the unbiased sample variance (PyTorch's default), 0 the population one.
    """

    @staticmethod
    def forward(
        ctx: Context, a: np.ndarray, axes: Axes, correction: int, keepdim: bool
    ) -> np.ndarray:
        # BEGIN SOLUTION 01
        centered = a - np.mean(a, axis=axes, keepdims=True)
        ctx.save_for_backward(centered)
        ctx.axes, ctx.keepdim = axes, keepdim
        ctx.divisor = max(reduced_count(a.shape, axes) - correction, 0)
        return np.sum(centered * centered, axis=axes, keepdims=keepdim) / ctx.divisor
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        (centered,) = ctx.saved_tensors
        grad = expand_reduced(grad, ctx.axes, ctx.keepdim)
        return grad * 2 * centered / ctx.divisor, None, None, None
        # END SOLUTION


class Extremum(Function):
    """out = max (or min) over all elements;  tied extreme elements share the gradient evenly.

    ``largest`` picks max (True) or min (False). The max or min *along a dimension*, which
    also returns indices, is ``gather`` at the indices of ``argmax``/``argmin``.
    """

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, largest: bool) -> np.ndarray:
        # BEGIN SOLUTION 01
        if a.size == 0:
            raise RuntimeError("max()/min() of an empty tensor has no value; pass dim= instead")
        out = np.max(a) if largest else np.min(a)
        ctx.save_for_backward(a, out)
        return np.asarray(out)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        a, out = ctx.saved_tensors
        is_extreme = a == out
        return grad * is_extreme / np.count_nonzero(is_extreme), None
        # END SOLUTION


class LogSumExp(Function):
    """out = log(sum(exp(a))) over ``axes``, computed as m + log(sum(exp(a - m))), m = max(a).

    Subtracting the max keeps every exponent <= 0, so nothing overflows. The derivative is the
    softmax: d out/d a = exp(a - out).
    """

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axes: Axes, keepdim: bool) -> np.ndarray:
        # BEGIN SOLUTION 01
        peak = np.max(a, axis=axes, keepdims=True)
        peak = np.where(np.isfinite(peak), peak, 0)
        out = np.log(np.sum(np.exp(a - peak), axis=axes, keepdims=True)) + peak
        ctx.save_for_backward(a, out)
        ctx.axes = axes
        return out if keepdim else np.squeeze(out, axis=axes)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        a, out = ctx.saved_tensors
        grad = np.reshape(grad, out.shape)
        return grad * np.exp(a - out), None, None
        # END SOLUTION
