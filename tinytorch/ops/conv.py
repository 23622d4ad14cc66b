"""Convolution as one matrix multiply: im2col by stride tricks, then a GEMM.

A 2-D convolution slides a (C, kh, kw) kernel over the input and takes a dot product at each
output pixel. Lay every window out as one row of a matrix ("im2col") and the whole layer is
a single matrix multiply with the weights flattened to (C * kh * kw, O):

    x (N, C, H, W) --pad--> (N, C, Hp, Wp) --windows--> cols (N, C * kh * kw, OH * OW)
    out = W @ cols + b -> (N, O, OH * OW) -> (N, O, OH, OW)

with OH = (Hp - dh (kh - 1) - 1) // sh + 1 (likewise OW). ``sliding_windows`` builds the
windows as a view with ``np.lib.stride_tricks.as_strided``: no Python loop and no copy until
the reshape into columns. Output pixels go last, so the copy runs along image rows and the
product lands in (N, O, OH, OW) order without a transpose (measured: about 10x faster than
one row per output pixel on LeNet-5's first layer).

Small images: batch last. The (N, g, K, L) columns make N matrix products of L output
pixels each. When an image has few output pixels (100 in LeNet-5's second layer) those
products are small and the copy into columns moves rows of only OW numbers. Below
``BATCH_LAST_BELOW`` pixels, ``Conv2d`` instead copies x to (C, H, W, N) order first
(``batch_last_columns``): the columns become one (C * kh * kw, OH * OW * N) matrix whose
rows are copied OW * N numbers at a time, and forward and d W are each one matrix product
over the whole batch. Measured forward + backward (batch 64): LeNet-5's second layer,
2.0 ms batch last against 2.8 ms image by image; its first layer (784 pixels), 2.5 ms against
1.4 ms. The crossing point lay between 100 and 196 pixels on the shapes we timed.

Forward saves the padded input, not its columns, and backward rebuilds them: the columns
are kh * kw times larger (9 MB for LeNet-5's batch of 64). Rebuilt, they come from a small
input that is still in the cache and land in memory that was just used; kept, they have to
come back from main memory. Measured per LeNet-5 step on one core: rebuilding, 1.6 ms of
forward and 3.0 ms of backward convolution; keeping them, 2.4 and 3.3 ms.

Backward: d W = G @ cols^T per image, summed. For d x, each kernel tap (a, b) read the
input at one strided (N, C, OH, OW) view (``kernel_taps``), so it sends W[:, :, a, b]^T @ G
back to that view: one matrix product and one add per tap, a loop of kh * kw steps, each over
the whole batch (``input_grad``). This never builds the (N, C * kh * kw, OH * OW) column
gradient: on LeNet-5 it is about 2x faster than that plus ``np.add.at`` timed alone, and
more in a training step, where the 4 MB temporary was also fresh memory (page faults).
Pooling (``tinytorch.ops.pooling``) reuses these helpers.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from tinytorch.autograd.function import Context, Function

Pair = tuple[int, int]
Padding = tuple[Pair, Pair]
"""((top, bottom), (left, right)): 'same' padding of an even kernel is uneven."""
BATCH_LAST_BELOW = 128
"""``Conv2d`` works batch last when an image has fewer output pixels (see the notes above)."""


def output_size(padded: int, kernel: int, stride: int, dilation: int) -> int:
    """How many windows fit: (padded - dilation * (kernel - 1) - 1) // stride + 1."""
    return (padded - dilation * (kernel - 1) - 1) // stride + 1


def sliding_windows(x: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair) -> np.ndarray:
    """A read-only view (N, C, OH, OW, kh, kw) of every window of x (N, C, H, W).

    window[n, c, i, j, a, b] = x[n, c, i * sh + a * dh, j * sw + b * dw]: moving one output
    pixel steps ``stride`` input pixels, moving one kernel tap steps ``dilation`` pixels.
    """
    # BEGIN SOLUTION 09
    n, c, h, w = x.shape
    out_h = output_size(h, kernel[0], stride[0], dilation[0])
    out_w = output_size(w, kernel[1], stride[1], dilation[1])
    sn, sc, sh, sw = x.strides
    return np.lib.stride_tricks.as_strided(
        x,
        shape=(n, c, out_h, out_w, *kernel),
        strides=(sn, sc, sh * stride[0], sw * stride[1], sh * dilation[0], sw * dilation[1]),
        writeable=False,
    )
    # END SOLUTION


def im2col(x: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair) -> np.ndarray:
    """Every window of x (N, C, H, W) as a column: a new array (N, C, kh * kw, OH, OW)."""
    # BEGIN SOLUTION 09
    windows = sliding_windows(x, kernel, stride, dilation)  # (N, C, OH, OW, kh, kw)
    n, c, out_h, out_w = windows.shape[:4]
    return windows.transpose(0, 1, 4, 5, 2, 3).reshape(n, c, -1, out_h, out_w)
    # END SOLUTION


def batch_last_columns(x: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair) -> np.ndarray:
    """Every window of x (N, C, H, W) as a column, batch last: a new (C * kh * kw, OH * OW * N).

    column (c, a, b) row (i, j, n) = x[n, c, i * sh + a * dh, j * sw + b * dw]. x is first
    copied to (C, H, W, N) order, so each window row is OW * N neighbouring numbers (640 on
    LeNet-5's second layer) instead of OW (10), which NumPy copies about 3x faster.
    """
    # BEGIN SOLUTION 09
    batch_last = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    windows = sliding_windows(batch_last, kernel, stride, dilation)  # (N, C, OH, OW, kh, kw)
    n, c, out_h, out_w, kh, kw = windows.shape
    return windows.transpose(1, 4, 5, 2, 3, 0).reshape(c * kh * kw, out_h * out_w * n)
    # END SOLUTION


def kernel_taps(
    kernel: Pair, stride: Pair, dilation: Pair, out_size: Pair
) -> Iterator[tuple[int, slice, slice]]:
    """For each kernel tap (a, b), in im2col's order: (a * kw + b, rows, cols).

    ``x[:, :, rows, cols]`` is what tap (a, b) reads in every window at once, an (N, C, OH, OW)
    strided view: rows a * dh, a * dh + sh, ..., a * dh + (OH - 1) * sh (likewise cols).
    Within one tap no two windows read the same pixel, so ``+=`` on such a view is safe.
    """
    # BEGIN SOLUTION 09
    (kh, kw), (sh, sw), (dh, dw), (out_h, out_w) = kernel, stride, dilation, out_size
    for a in range(kh):
        rows = slice(a * dh, a * dh + (out_h - 1) * sh + 1, sh)
        for b in range(kw):
            yield a * kw + b, rows, slice(b * dw, b * dw + (out_w - 1) * sw + 1, sw)
    # END SOLUTION


def pad_spatial(x: np.ndarray, padding: Padding, value: float = 0.0) -> np.ndarray:
    """x (N, C, H, W) with ``padding`` ((top, bottom), (left, right)) rows/columns of value."""
    if padding == ((0, 0), (0, 0)):
        return x
    (top, bottom), (left, right) = padding
    n, c, h, w = x.shape
    padded = np.full((n, c, top + h + bottom, left + w + right), value, x.dtype)
    padded[:, :, top : top + h, left : left + w] = x  # measured 3x faster than np.pad
    return padded


def crop_spatial(x: np.ndarray, padding: Padding) -> np.ndarray:
    """The inverse of ``pad_spatial``: x without its padding rows and columns (a view)."""
    (top, bottom), (left, right) = padding
    return x[:, :, top : x.shape[2] - bottom, left : x.shape[3] - right]


def input_grad(
    kernels: np.ndarray,
    grad_t: np.ndarray,
    shape: tuple[int, ...],
    kernel: Pair,
    stride: Pair,
    dilation: Pair,
) -> np.ndarray:
    """d loss / d x for the padded input of ``shape`` (N, C, Hp, Wp), tap by tap.

    kernels (g, O/g, C/g * kh * kw); grad_t, the output gradient G batch last
    (g, O/g, OH, OW, N). Tap (a, b) read x at ``kernel_taps``' (rows, cols) with weights
    W[:, :, a, b], so it sends back W[:, :, a, b]^T @ G there. One matrix product over all
    N * OH * OW pixels per tap, so the (N, C * kh * kw, OH * OW) column gradient is never
    built: on LeNet-5 that 4 MB temporary was fresh memory (page faults) at every step.

    The sum is laid out batch last too, (C, Hp, Wp, N): a tap's rows then hold OW * N
    neighbouring numbers (640 for LeNet-5's second layer) instead of OW (10), and NumPy adds
    long rows much faster. Measured there: 2.3x faster than the same loop in (N, C, H, W)
    order, copy back to that order included.
    """
    # BEGIN SOLUTION 09
    groups, out_per_group, out_h, out_w, n = grad_t.shape
    taps = kernels.reshape(groups, out_per_group, -1, kernel[0] * kernel[1])  # (g, O/g, C/g, T)
    grad_rows = grad_t.reshape(groups, out_per_group, -1)  # (g, O/g, OH * OW * N)
    total = np.zeros((*shape[1:], n), grad_t.dtype)  # (C, Hp, Wp, N)
    for tap, rows, cols in kernel_taps(kernel, stride, dilation, (out_h, out_w)):
        sent = np.matmul(taps[..., tap].transpose(0, 2, 1), grad_rows)  # (g, C/g, OH*OW*N)
        total[:, rows, cols] += sent.reshape(-1, out_h, out_w, n)
    return np.ascontiguousarray(total.transpose(3, 0, 1, 2))  # (N, C, Hp, Wp)
    # END SOLUTION


def grouped_columns(
    padded: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair, groups: int, batch_last: bool
) -> np.ndarray:
    """The columns of ``padded`` (N, C, Hp, Wp) shaped for the products with the weights,
    with K = C/g * kh * kw and L = OH * OW: (N, g, K, L) image by image (``im2col``), or
    (g, K, L * N) batch last (``batch_last_columns``)."""
    # BEGIN SOLUTION 09
    if batch_last:
        cols = batch_last_columns(padded, kernel, stride, dilation)  # (C * kh * kw, L * N)
        return cols.reshape(groups, -1, cols.shape[1])
    cols = im2col(padded, kernel, stride, dilation)  # (N, C, kh * kw, OH, OW)
    n, _, _, out_h, out_w = cols.shape
    return cols.reshape(n, groups, -1, out_h * out_w)
    # END SOLUTION


def batch_last_gradient(grad: np.ndarray, groups: int) -> np.ndarray:
    """G (N, O, OH, OW) as a new (g, O/g, OH, OW, N) array: the order of ``input_grad``."""
    n, _, out_h, out_w = grad.shape
    return np.ascontiguousarray(grad.reshape(n, groups, -1, out_h, out_w).transpose(1, 2, 3, 4, 0))


class Conv2d(Function):
    """out = conv(x, W) + b for x (N, C, H, W), W (O, C / g, kh, kw), b (O,) -> (N, O, OH, OW).

    With ``groups`` g the channels split into g independent groups: output channels
    [i O/g, (i + 1) O/g) see only input channels [i C/g, (i + 1) C/g). The matrices carry the
    group as a batch dimension: W (g, O/g, K) @ cols for K = C/g * kh * kw and L = OH * OW
    output pixels, cols (N, g, K, L) image by image or (g, K, L * N) batch last (with fewer
    than ``BATCH_LAST_BELOW`` pixels; see the module's notes). With G = d loss / d out:
        d W = sum_n G @ cols^T,   d x = ``input_grad`` (tap by tap),   d b = G summed.
    """

    @staticmethod
    def forward(
        ctx: Context,
        x: np.ndarray,
        weight: np.ndarray,
        bias: np.ndarray | None,
        stride: Pair,
        padding: Padding,
        dilation: Pair,
        groups: int,
    ) -> np.ndarray:
        # BEGIN SOLUTION 09
        out_channels, _, kh, kw = weight.shape
        padded = pad_spatial(x, padding)
        n, _, height, width = padded.shape
        out_h = output_size(height, kh, stride[0], dilation[0])
        out_w = output_size(width, kw, stride[1], dilation[1])
        batch_last = out_h * out_w < BATCH_LAST_BELOW
        kernels = weight.reshape(groups, out_channels // groups, -1)  # (g, O/g, K)
        cols = grouped_columns(padded, (kh, kw), stride, dilation, groups, batch_last)
        out = np.matmul(kernels, cols)  # (N, g, O/g, L), or batch last (g, O/g, L * N)
        if batch_last:  # (O, OH, OW, N) -> a new (N, O, OH, OW)
            out = out.reshape(out_channels, out_h, out_w, n).transpose(3, 0, 1, 2).copy()
        out = out.reshape(n, out_channels, out_h, out_w)
        if bias is not None:
            out += bias.reshape(-1, 1, 1)
        ctx.save_for_backward(padded, kernels)
        ctx.settings = (padding, (kh, kw), stride, dilation, batch_last, weight.shape)
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 09
        padded, kernels = ctx.saved_tensors
        padding, kernel, stride, dilation, batch_last, weight_shape = ctx.settings
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad[:3]
        groups = kernels.shape[0]
        grad_t = batch_last_gradient(grad, groups) if needs_x or batch_last else None
        grad_x = grad_weight = grad_bias = None
        if needs_x:
            grad_x = input_grad(kernels, grad_t, padded.shape, kernel, stride, dilation)
            grad_x = crop_spatial(grad_x, padding)
        if needs_weight:
            # the columns again: cheaper than keeping them since forward (see the module's notes)
            cols = grouped_columns(padded, kernel, stride, dilation, groups, batch_last)
            n, _, out_h, out_w = grad.shape
            if batch_last:  # one product over the whole batch: it sums over images itself
                grad_rows = grad_t.reshape(groups, -1, out_h * out_w * n)  # (g, O/g, L * N)
            else:
                grad_rows = grad.reshape(n, groups, -1, out_h * out_w)  # (N, g, O/g, L)
            # (d W)^T = cols @ G^T: the same products as G @ cols^T with the big matrix
            # first, a shape OpenBLAS runs faster (1.7x on LeNet-5's second layer, image
            # by image)
            grad_weight_t = np.matmul(cols, grad_rows.swapaxes(-1, -2))  # ([N,] g, K, O/g)
            if not batch_last:
                grad_weight_t = grad_weight_t.sum(axis=0)
            grad_weight = grad_weight_t.swapaxes(1, 2).reshape(weight_shape)
        if needs_bias:
            grad_bias = grad.sum(axis=(0, 2, 3))
        return grad_x, grad_weight, grad_bias, None, None, None, None
        # END SOLUTION


class ConvTranspose2d(Function):
    """The transposed convolution: the gradient of ``Conv2d`` with respect to its input,
    used as a layer. x (N, C, H, W), W (C, O / g, kh, kw), b (O,) -> (N, O, OH, OW),
    OH = (H - 1) sh - 2 ph + dh (kh - 1) + oph + 1 (likewise OW).

    Every input pixel x[n, c, i, j] adds x[n, c, i, j] W[c, :, a, b] to the output at
    (i sh + a dh - ph, j sw + b dw - pw): ``input_grad`` sums exactly that, tap by tap, into
    the full (uncropped) output, which then loses ``padding`` on each side. Backward is the
    convolution it transposes, run on the output gradient G padded back to full size Gp:
        d x = conv(Gp, W),   d W[c, o, a, b] = sum x[n, c, i, j] Gp[n, o, i sh + a dh, ...],
        d b = G summed.
    ``output_padding`` adds rows and columns at the end that no input pixel reaches; it
    only fixes the output size when several sizes map to the same input size.
    """

    @staticmethod
    def forward(
        ctx: Context,
        x: np.ndarray,
        weight: np.ndarray,
        bias: np.ndarray | None,
        stride: Pair,
        padding: Pair,
        output_padding: Pair,
        dilation: Pair,
        groups: int,
    ) -> np.ndarray:
        n, _, height, width = x.shape
        kernel = weight.shape[2:]
        full = tuple(
            (size - 1) * s + d * (k - 1) + 1 + extra
            for size, s, d, k, extra in zip(
                (height, width), stride, dilation, kernel, output_padding
            )
        )
        kernels = weight.reshape(groups, weight.shape[0] // groups, -1)  # (g, C/g, O/g * T)
        out_channels = weight.shape[1] * groups
        out = input_grad(
            kernels,
            batch_last_gradient(x, groups),
            (n, out_channels, *full),
            kernel,
            stride,
            dilation,
        )
        crop = ((padding[0], padding[0]), (padding[1], padding[1]))
        out = np.ascontiguousarray(crop_spatial(out, crop))
        if bias is not None:
            out += bias.reshape(-1, 1, 1)
        ctx.save_for_backward(x, kernels)
        ctx.settings = (kernel, stride, crop, output_padding, dilation, weight.shape)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        x, kernels = ctx.saved_tensors
        kernel, stride, crop, output_padding, dilation, weight_shape = ctx.settings
        groups = kernels.shape[0]
        n, _, height, width = x.shape
        padded = pad_spatial(grad, crop)
        # the rows and columns of output_padding reach no input pixel: leave them out
        padded = padded[:, :, : padded.shape[2] - output_padding[0]]
        padded = padded[:, :, :, : padded.shape[3] - output_padding[1]]
        cols = grouped_columns(padded, kernel, stride, dilation, groups, False)  # (N, g, K, L)
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = np.matmul(kernels, cols).reshape(x.shape)  # (N, g, C/g, H * W)
        if ctx.needs_input_grad[1]:
            x_rows = x.reshape(n, groups, -1, height * width)  # (N, g, C/g, L)
            grad_weight_t = np.matmul(x_rows, cols.swapaxes(-1, -2)).sum(axis=0)  # (g, C/g, K)
            grad_weight = grad_weight_t.reshape(weight_shape)
        if ctx.needs_input_grad[2]:
            grad_bias = grad.sum(axis=(0, 2, 3))
        return grad_input, grad_weight, grad_bias, None, None, None, None, None
