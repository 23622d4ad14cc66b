"""Reductions: sum, mean, var, max/min over all elements, logsumexp; after the exercises,
prod, the running (cumulative) sums, products, extremes and logsumexp, and histogram counts.

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
        return a.sum(axis=axes, keepdims=keepdim)
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
        return a.mean(axis=axes, keepdims=keepdim)
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


# ---------------------------------------------------------------------------- more reductions
# Products and running (cumulative) reductions along one axis. Not exercises.


def exclusive_cumprod(a: np.ndarray, axis: int, reverse: bool = False) -> np.ndarray:
    """The product of the elements strictly before each one along ``axis`` (after, if
    ``reverse``); 1 for the first. Built from ``cumprod``, so zeros need no division."""
    if reverse:
        return np.flip(exclusive_cumprod(np.flip(a, axis), axis), axis)
    shifted = np.concatenate(
        [np.ones_like(np.take(a, [0], axis=axis)), np.take(a, range(a.shape[axis] - 1), axis)],
        axis=axis,
    )
    return np.cumprod(shifted, axis=axis)


class Prod(Function):
    """out = the product of a along ``axis`` (all elements when None);
    d out/d a_i = the product of the other elements, computed as (product of those before i)
    times (product of those after i), which stays exact when some a_j are 0."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axis: int | None, keepdim: bool) -> np.ndarray:
        ctx.save_for_backward(a)
        ctx.axis, ctx.keepdim = axis, keepdim
        return np.prod(a, axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        (a,) = ctx.saved_tensors
        axes = None if ctx.axis is None else (ctx.axis,)
        grad = expand_reduced(grad, axes, ctx.keepdim)
        rows = a.reshape(-1) if ctx.axis is None else a
        axis = 0 if ctx.axis is None else ctx.axis
        others = exclusive_cumprod(rows, axis) * exclusive_cumprod(rows, axis, reverse=True)
        return grad * others.reshape(a.shape), None, None


def reverse_cumsum(a: np.ndarray, axis: int) -> np.ndarray:
    """out_i = sum of a_j for j >= i along ``axis``."""
    return np.flip(np.cumsum(np.flip(a, axis), axis=axis), axis)


class CumSum(Function):
    """out_i = a_0 + ... + a_i along ``axis``;  d loss/d a_j = sum over i >= j of grad_i."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axis: int) -> np.ndarray:
        ctx.axis = axis
        return np.cumsum(a, axis=axis)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        return reverse_cumsum(grad, ctx.axis), None


class CumProd(Function):
    """out_i = a_0 * ... * a_i along ``axis``.

    d loss/d a_j = sum over i >= j of grad_i * (product of a_k for k <= i, k != j)
                 = P_j * R_j, with P_j = a_0 ... a_(j-1) and R_j = sum over i >= j of
    grad_i * a_(j+1) ... a_i. R obeys R_j = grad_j + a_(j+1) R_(j+1), computed from the end;
    no division, so zeros in ``a`` are handled exactly.
    """

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axis: int) -> np.ndarray:
        ctx.save_for_backward(a)
        ctx.axis = axis
        return np.cumprod(a, axis=axis)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        (a,) = ctx.saved_tensors
        a_last, grad_last = np.moveaxis(a, ctx.axis, -1), np.moveaxis(grad, ctx.axis, -1)
        tails = np.empty_like(grad_last)  # R_j for every j
        running = np.zeros_like(grad_last[..., 0])
        for j in reversed(range(a_last.shape[-1])):
            if j + 1 < a_last.shape[-1]:
                running = running * a_last[..., j + 1]
            running = running + grad_last[..., j]
            tails[..., j] = running
        grad_a = exclusive_cumprod(a_last, -1) * tails
        return np.moveaxis(grad_a, -1, ctx.axis), None


def running_extremum_indices(a: np.ndarray, axis: int, largest: bool) -> np.ndarray:
    """For each i along ``axis``: the index of max(a_0..a_i) (min if not ``largest``); the
    last such index on ties, as PyTorch's ``cummax``/``cummin``. An element is a new running
    extreme exactly where it equals the running extreme; the latest such position wins."""
    accumulate = np.maximum.accumulate if largest else np.minimum.accumulate
    running = accumulate(a, axis=axis)
    positions = np.arange(a.shape[axis]).reshape([-1 if d == axis else 1 for d in range(a.ndim)])
    is_new = a == running
    return np.maximum.accumulate(np.where(is_new, positions, 0), axis=axis).astype(np.int64)


class LogCumSumExp(Function):
    """out_i = log(e^a_0 + ... + e^a_i) along ``axis``, by ``logaddexp`` one step at a time
    (no overflow, no underflow of early terms). d out_i/d a_j = e^(a_j - out_i) for j <= i, so

        d loss/d a_j = e^a_j * sum over i >= j of grad_i e^(-out_i).

    The sum is formed in log space, separately for positive and negative ``grad``.
    """

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axis: int) -> np.ndarray:
        out = np.logaddexp.accumulate(a, axis=axis)
        ctx.save_for_backward(a, out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        a, out = ctx.saved_tensors
        total = np.zeros_like(a)
        with np.errstate(divide="ignore"):
            for sign in (1, -1):
                log_part = np.log(np.maximum(sign * grad, 0)) - out
                flipped = np.flip(log_part, ctx.axis)
                log_tail = np.flip(np.logaddexp.accumulate(flipped, axis=ctx.axis), ctx.axis)
                total += sign * np.exp(a + log_tail)
        return total, None


def histogram_counts(a: np.ndarray, bins: int, low: float, high: float) -> np.ndarray:
    """How many elements of ``a`` fall in each of ``bins`` equal bins over [low, high]
    (PyTorch's ``histc``): bin = floor((x - low) * bins / (high - low)); x == high goes in
    the last bin; elements outside [low, high] are not counted."""
    values = a[(a >= low) & (a <= high)].astype(np.float64)
    positions = np.floor((values - low) * bins / (high - low)).astype(np.int64)
    return np.bincount(np.minimum(positions, bins - 1), minlength=bins)
