"""Integer kernels of quantized inference: an exact int8 GEMM on float BLAS, and the layers
built on it (linear, conv2d, max pooling) working on ``QuantizedTensor`` integers.

Why float BLAS for integers? NumPy has no integer BLAS: ``a_int32 @ b_int32`` runs NumPy's
plain loop, two orders of magnitude slower than float32 ``sgemm`` on the same values
(``benchmarks/quantization.py`` measures both). float32 is exact on integers up to 2^24, so
the trick is to keep every intermediate sum below that (see ``int_matmul``).

A quantized layer computes, for input integers qx (scale sx, zero point zx) and int8 weights
qw (one scale sw[o] per output channel, zero point 0)::

    acc[n, o] = sum_k (qx[n, k] - zx) * qw[o, k]                      int32, exact
    y[n, o]   = sx * sw[o] * acc[n, o] + bias[o]                      the real output
    qy[n, o]  = clamp(round(y[n, o] / sy) + zy, qmin, qmax)           requantized (sy, zy)

so all the multiply-adds happen on integers and only one multiply per output returns to
floating point.
"""

from __future__ import annotations

import numpy as np

from tinytorch.ops.conv import im2col, pad_spatial, sliding_windows
from tinytorch.qtensor import QuantizedTensor, dtype_range, quantize_array

FLOAT32_EXACT = 2**24
"""Every integer n with |n| <= 2^24 is a float32 (24-bit significand); 2^24 + 1 is not."""


def int_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a (M, K) @ b (K, N) for integer-valued arrays, exact, as int32, on float32 BLAS.

    Why it is exact: with A = max |a| and B = max |b|, each product a[m, k] b[k, n] is an
    integer of size at most A B. BLAS may add a chunk's products in any order, with or without
    fused multiply-adds, but every partial sum it forms is a sum of some of them, so its size
    is at most k A B for a chunk of k columns. With k A B <= 2^24 every partial sum is an
    integer that float32 holds exactly: no step rounds, and the chunk's result is exact. K is
    therefore cut into chunks of ``k = 2^24 // (A B)`` (at least 1) columns; each chunk runs
    as one float32 matmul, and the chunks' exact results are added in int32. For int8 x int8
    (A B <= 2^14) a chunk is at least 1024 columns long; the int32 total is exact while
    K A B < 2^31 (K up to 131072 for int8).
    """
    # BEGIN SOLUTION 15
    largest = int(np.abs(a).max(initial=0)) * int(np.abs(b).max(initial=0))
    chunk = max(1, FLOAT32_EXACT // max(largest, 1))
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    total = np.zeros((a.shape[0], b.shape[1]), np.int32)
    for start in range(0, a.shape[1], chunk):
        part = a32[:, start : start + chunk] @ b32[start : start + chunk]  # exact, < 2^24
        total += part.astype(np.int32)
    return total
    # END SOLUTION


def requantize(
    accumulator: np.ndarray,
    multiplier: np.ndarray,
    bias: np.ndarray | None,
    scale: float,
    zero_point: int,
    qmin: int,
    qmax: int,
) -> np.ndarray:
    """int32 accumulators -> output integers: clamp(round((acc * multiplier + bias) / scale)
    + zero_point, qmin, qmax), with multiplier = sx * sw (per output channel, broadcast)."""
    # BEGIN SOLUTION 15
    real = accumulator.astype(np.float32) * multiplier
    if bias is not None:
        real += bias
    return quantize_array(real, np.float32(1.0) / np.float32(scale), zero_point, qmin, qmax)
    # END SOLUTION


def weight_matrix(weight: QuantizedTensor) -> tuple[np.ndarray, np.ndarray]:
    """A quantized weight (O, ...) as centred integers (O, K) int16 and float32 scales (O,)."""
    rows = weight._integers.reshape(weight.shape[0], -1).astype(np.int16)
    if weight._axis is None:
        scales = np.full(weight.shape[0], weight._scales, np.float32)
        zero_points = np.full((weight.shape[0], 1), weight._zero_points, np.int16)
    else:
        scales = weight._scales.astype(np.float32)
        zero_points = weight._zero_points.astype(np.int16).reshape(-1, 1)
    return rows - zero_points, scales


def _centred(x: QuantizedTensor) -> np.ndarray:
    """The input integers minus their zero point, as int16 (real value / scale)."""
    return x._integers.astype(np.int16) - np.int16(x._zero_points)


def linear_accumulate(x: QuantizedTensor, weight: QuantizedTensor) -> tuple[np.ndarray, np.ndarray]:
    """int32 (N, O) = (qx - zx) @ (qw - zw)^T and the per-channel multiplier sx * sw (O,)."""
    rows, weight_scales = weight_matrix(weight)
    flat = _centred(x).reshape(-1, x.shape[-1])
    accumulator = int_matmul(flat, rows.T)
    multiplier = np.float32(x._scales) * weight_scales
    return accumulator.reshape(*x.shape[:-1], -1), multiplier


def linear(
    x: QuantizedTensor, weight: QuantizedTensor, bias: np.ndarray | None, scale: float,
    zero_point: int,
) -> QuantizedTensor:  # fmt: skip
    """Quantized x (*, I) @ weight (O, I)^T + bias -> quantized (*, O) with (scale, zero_point)."""
    accumulator, multiplier = linear_accumulate(x, weight)
    qmin, qmax = dtype_range(x.dtype)
    integers = requantize(accumulator, multiplier, bias, scale, zero_point, qmin, qmax)
    return _per_tensor(integers.astype(x._integers.dtype), scale, zero_point, x)


def conv2d(
    x: QuantizedTensor,
    weight: QuantizedTensor,
    bias: np.ndarray | None,
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int],
    scale: float,
    zero_point: int,
) -> QuantizedTensor:
    """Quantized convolution (groups 1): im2col of the integers, then one ``int_matmul``.

    Padding uses the input's zero point, the integer that stands for real 0.
    """
    rows, weight_scales = weight_matrix(weight)  # (O, C kh kw)
    kernel = weight.shape[2:]
    (pad_h, pad_w) = padding
    padded = pad_spatial(_centred(x), ((pad_h, pad_h), (pad_w, pad_w)))  # 0 = real 0
    columns = im2col(padded, kernel, stride, dilation)  # (N, C, kh kw, OH, OW)
    n, _, _, out_h, out_w = columns.shape
    columns = columns.reshape(n, -1, out_h * out_w).transpose(1, 0, 2).reshape(rows.shape[1], -1)
    accumulator = int_matmul(rows, columns).reshape(-1, n, out_h, out_w).transpose(1, 0, 2, 3)
    multiplier = (np.float32(x._scales) * weight_scales).reshape(-1, 1, 1)
    bias = None if bias is None else bias.reshape(-1, 1, 1)
    qmin, qmax = dtype_range(x.dtype)
    integers = requantize(accumulator, multiplier, bias, scale, zero_point, qmin, qmax)
    return _per_tensor(integers.astype(x._integers.dtype), scale, zero_point, x)


def max_pool2d(
    x: QuantizedTensor, kernel: tuple[int, int], stride: tuple[int, int]
) -> QuantizedTensor:
    """Max over windows of the integers: dequantizing is increasing, so the largest integer
    is the largest real, and the scale and zero point carry over unchanged."""
    windows = sliding_windows(x._integers, kernel, stride, (1, 1))  # (N, C, OH, OW, kh, kw)
    return x._with_integers(windows.max(axis=(4, 5)))


def _per_tensor(integers: np.ndarray, scale: float, zero_point: int, like: QuantizedTensor
                ) -> QuantizedTensor:  # fmt: skip
    return QuantizedTensor(
        integers, np.array(float(scale)), np.array(int(zero_point)), None, like.dtype
    )
