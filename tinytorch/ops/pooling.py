"""Pooling: summarise each window of a feature map by its maximum or its mean.

Pooling shares convolution's windows (``tinytorch.ops.conv``). Average pooling lays them out
with ``im2col`` as (N, C, kh * kw, OH, OW) and sums over axis 2. Max pooling instead walks
the kernel taps (``kernel_taps``): tap (a, b) of every window at once is one strided
(N, C, OH, OW) view, and a running maximum over the kh * kw views needs no column copy.
Backward sends each output's gradient back to the window it came from, tap by tap: all of it
to the argmax for max pooling, an equal share to every pixel for average pooling. Those are
Python loops of kh * kw steps (4 for 2x2 pooling), each vectorised over N, C and the
output pixels. Adaptive average pooling picks its windows from the output size and is two
small matrix products instead.
"""

from __future__ import annotations

import numpy as np

from tinytorch.autograd.function import Context, Function
from tinytorch.ops.conv import (
    Padding,
    Pair,
    crop_spatial,
    im2col,
    kernel_taps,
    output_size,
    pad_spatial,
)


def padding_shape(shape: tuple[int, ...], padding: Padding) -> tuple[int, ...]:
    """The shape (N, C, Hp, Wp) of an input of ``shape`` (N, C, H, W) after ``padding``."""
    (top, bottom), (left, right) = padding
    return (*shape[:2], shape[2] + top + bottom, shape[3] + left + right)


def window_max(
    x: np.ndarray, kernel: Pair, stride: Pair, padding: Padding, dilation: Pair
) -> tuple[np.ndarray, np.ndarray]:
    """The maximum of every window of x (N, C, H, W) padded with -inf: (out, winner).

    out (N, C, OH, OW); winner (N, C, OH, OW) is the argmax's tap a * kw + b in its window.
    A running maximum over the kh * kw kernel taps (``kernel_taps``): each step compares one
    strided (N, C, OH, OW) view with the best so far, so nothing is copied into columns and
    no ``argmax`` runs along a short middle axis (measured: about 4x faster than im2col +
    argmax on LeNet-5's 2x2 pooling). Like PyTorch, a later tap wins only if strictly
    greater (ties go to the first maximum) or NaN (NaN propagates).
    """
    # BEGIN SOLUTION 09
    padded = pad_spatial(x, padding, value=-np.inf)
    out_size = (
        output_size(padded.shape[2], kernel[0], stride[0], dilation[0]),
        output_size(padded.shape[3], kernel[1], stride[1], dilation[1]),
    )
    taps = kernel_taps(kernel, stride, dilation, out_size)
    _, rows, cols = next(taps)
    best = padded[:, :, rows, cols].copy()  # tap 0 wins until beaten
    # the smallest unsigned type that holds every tap (uint8 up to 16x16 kernels): less to move
    winner = np.zeros(best.shape, np.min_scalar_type(kernel[0] * kernel[1] - 1))
    better = np.empty(best.shape, bool)
    has_nan = np.isnan(padded).any()  # one pass here saves two per tap when there is none
    for tap, rows, cols in taps:
        value = padded[:, :, rows, cols]
        np.greater(value, best, out=better)
        if has_nan:
            better |= np.isnan(value)
        np.maximum(best, value, out=best)  # NaN-propagating, like ``better``
        # Taps come in increasing order, so a tap that beats the best so far is larger than
        # the current winner: max(winner, tap * better) records it (measured 20x faster
        # than np.where or np.copyto(..., where=better), which select element by element).
        np.maximum(winner, better * winner.dtype.type(tap), out=winner)
    return best, winner
    # END SOLUTION


class MaxPool2d(Function):
    """out[n, c, i, j] = max of window (i, j) of channel c; padding counts as -inf.

    The gradient flows only to the argmax of each window (the first one, on ties); a pixel in
    several overlapping windows collects the gradient of each window it wins. Backward adds,
    tap by tap, the gradient of the windows that tap won: no (N, C, kh * kw, OH, OW) columns.
    """

    @staticmethod
    def forward(
        ctx: Context, x: np.ndarray, kernel: Pair, stride: Pair, padding: Padding, dilation: Pair
    ) -> np.ndarray:
        # BEGIN SOLUTION 09
        out, winner = window_max(x, kernel, stride, padding, dilation)
        ctx.save_for_backward(winner)
        ctx.settings = (padding_shape(x.shape, padding), padding, kernel, stride, dilation)
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 09
        (winner,) = ctx.saved_tensors
        padded_shape, padding, kernel, stride, dilation = ctx.settings
        # grad * won is 4x faster than np.where(won, grad, 0), but it would send NaN to the
        # losers of a window whose gradient is inf or NaN (inf * 0 = NaN)
        finite = np.isfinite(grad).all()
        disjoint = all(s >= d * (k - 1) + 1 for k, s, d in zip(kernel, stride, dilation))
        grad_x = np.zeros(padded_shape, grad.dtype)
        for tap, rows, cols in kernel_taps(kernel, stride, dilation, winner.shape[2:]):
            won = winner == tap
            share = grad * won if finite else np.where(won, grad, 0)
            if disjoint:  # no pixel is in two windows: write, instead of read, add and write
                grad_x[:, :, rows, cols] = share
            else:
                grad_x[:, :, rows, cols] += share
        return crop_spatial(grad_x, padding), None, None, None, None
        # END SOLUTION


def max_pool_indices(
    x: np.ndarray, kernel: Pair, stride: Pair, padding: Padding, dilation: Pair
) -> np.ndarray:
    """PyTorch's ``return_indices``: for each window of x (N, C, H, W), the flat position
    row * W + col of its maximum in its (H, W) plane, int64 of shape (N, C, OH, OW)."""
    # BEGIN SOLUTION 09
    _, winner = window_max(x, kernel, stride, padding, dilation)
    _, _, out_h, out_w = winner.shape
    tap_row, tap_col = np.divmod(winner, kernel[1])  # (N, C, OH, OW)
    rows = np.arange(out_h)[:, None] * stride[0] - padding[0][0] + tap_row * dilation[0]
    cols = np.arange(out_w) * stride[1] - padding[1][0] + tap_col * dilation[1]
    return (rows * x.shape[3] + cols).astype(np.int64)
    # END SOLUTION


def average_divisor(
    size: Pair,
    kernel: Pair,
    stride: Pair,
    padding: Padding,
    counted: Padding,
    divisor_override: int | None,
    dtype: np.dtype,
) -> np.ndarray:
    """What each window's sum is divided by in average pooling: (1, 1, OH, OW) or a scalar.

    ``divisor_override`` if given; otherwise the number of the window's pixels that lie in
    the input of ``size`` (H, W) widened by ``counted`` rows and columns of padding. With
    PyTorch's ``count_include_pad=True`` the zero padding counts (``counted`` is the
    padding); with ``False`` only real pixels do (``counted`` is zero). ``ceil_mode``'s extra
    bottom rows and right columns are in ``padding`` but never in ``counted``. The count is
    average pooling itself applied to a plane of ones over the counted region.
    """
    # BEGIN SOLUTION 09
    if divisor_override is not None:
        return np.asarray(divisor_override, dtype)
    (top, bottom), (left, right) = counted
    ones = np.ones((1, 1, top + size[0] + bottom, left + size[1] + right), dtype)
    (pad_top, pad_bottom), (pad_left, pad_right) = padding
    uncounted = ((pad_top - top, pad_bottom - bottom), (pad_left - left, pad_right - right))
    plane = pad_spatial(ones, uncounted)
    return im2col(plane, kernel, stride, (1, 1)).sum(axis=2)  # (1, 1, OH, OW)
    # END SOLUTION


class AvgPool2d(Function):
    """out[n, c, i, j] = sum of window (i, j) / divisor[i, j]; padding counts as 0.

    The divisor comes from ``average_divisor``. Backward gives every pixel of a window
    grad / divisor.
    """

    @staticmethod
    def forward(
        ctx: Context,
        x: np.ndarray,
        kernel: Pair,
        stride: Pair,
        padding: Padding,
        divisor: np.ndarray,
    ) -> np.ndarray:
        # BEGIN SOLUTION 09
        padded = pad_spatial(x, padding)
        sums = im2col(padded, kernel, stride, (1, 1)).sum(axis=2)  # (N, C, OH, OW)
        ctx.save_for_backward(divisor)
        ctx.settings = (padded.shape, padding, kernel, stride)
        return sums / divisor
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 09
        (divisor,) = ctx.saved_tensors
        padded_shape, padding, kernel, stride = ctx.settings
        share = grad / divisor  # (N, C, OH, OW): what each pixel of a window receives
        grad_x = np.zeros(padded_shape, grad.dtype)
        for _, rows, cols in kernel_taps(kernel, stride, (1, 1), share.shape[2:]):
            grad_x[:, :, rows, cols] += share
        return crop_spatial(grad_x, padding), None, None, None, None
        # END SOLUTION


def adaptive_pool_matrix(in_size: int, out_size: int, dtype: np.dtype) -> np.ndarray:
    """A (out_size, in_size) matrix whose row i averages input [floor(i n / m), ceil((i+1) n / m)).

    For n = in_size and m = out_size: the windows PyTorch's adaptive pooling uses. They
    cover the input and may overlap by one pixel when m does not divide n.
    """
    # BEGIN SOLUTION 09
    outputs = np.arange(out_size)
    starts = (outputs * in_size) // out_size
    ends = -((-(outputs + 1) * in_size) // out_size)  # ceil division
    inputs = np.arange(in_size)
    inside = (inputs >= starts[:, None]) & (inputs < ends[:, None])  # (m, n)
    return (inside / (ends - starts)[:, None]).astype(dtype)
    # END SOLUTION


class AdaptiveAvgPool2d(Function):
    """out (N, C, OH, OW) = A_h x A_w^T for x (N, C, H, W): the average of an adaptive window.

    A_h (OH, H) and A_w (OW, W) are ``adaptive_pool_matrix``; both products are linear, so
    d x = A_h^T G A_w for G = d loss / d out.
    """

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, output_size: Pair) -> np.ndarray:
        # BEGIN SOLUTION 09
        rows = adaptive_pool_matrix(x.shape[2], output_size[0], x.dtype)  # (OH, H)
        cols = adaptive_pool_matrix(x.shape[3], output_size[1], x.dtype)  # (OW, W)
        ctx.save_for_backward(rows, cols)
        return np.einsum("ih,nchw,jw->ncij", rows, x, cols, optimize=True)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 09
        rows, cols = ctx.saved_tensors
        return np.einsum("ih,ncij,jw->nchw", rows, grad, cols, optimize=True), None
        # END SOLUTION
