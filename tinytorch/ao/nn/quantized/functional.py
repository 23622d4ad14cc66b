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

Prepacked kernels (``linear_packed``, ``conv2d_packed``): the quantized modules call these.
They compute the integers of ``linear`` and ``conv2d`` to within one step (tests check the
bound) with fewer NumPy calls, which is what counts when a query is one image: there each
call's fixed cost, not the arithmetic, is the time.

* the weight is prepacked once (``pack_layer``), as PyTorch's quantized engines do: centred
  integers already in float32, the scales in float32, the largest |integer|;
* the bound of ``int_matmul`` is checked from what is known ahead, without scanning the
  input: |qx - zx| <= max(zx - qmin, qmax - zx) = A, so K A B <= 2^24 makes one float32
  matmul exact (LeNet-5's largest K is 400: 400 * 255 * 127 < 2^24). Otherwise the chunked
  ``int_matmul`` runs;
* requantization is folded, as PyTorch's fbgemm does, into one multiplier sx sw / sy and
  one offset bias / sy + zy per output channel (``Requantization``, built once per input
  qparams): acc * multiplier + offset, rounded and clamped, in place. Its float32 roundings
  are not those of ``requantize``'s four steps, hence the one step;
* a fused ReLU is the clamp's lower bound, max(qmin, zy) (``relu`` below);
* convolution gathers its columns with an indirection index (``indirection``), built once
  per input shape: the flat position of the input value each column entry reads, or a
  position holding 0 for the padding. One gather (``np.take``) replaces padding, the strided
  window view and its reshape (the indirect convolution of Dukhan, 2019).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from tinytorch.ops.conv import im2col, kernel_taps, output_size, pad_spatial
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
    is the largest real, and the scale and zero point carry over unchanged.

    Windows that tile the input (kernel == stride, LeNet's 2x2 pooling) need no gather: the
    (N, C, OH kh, OW kw) top-left crop viewed as (N, C, OH, kh, OW, kw) holds each window on
    axes 3 and 5, and the max is separable, max over the window = max over kw of the max
    over kh: kh - 1 + kw - 1 ``np.maximum`` calls on views (for 2x2, two). Otherwise a
    running maximum over the kernel taps, each one strided (N, C, OH, OW) view (as float
    pooling).
    """
    n, channels, height, width = x._integers.shape
    out_h = output_size(height, kernel[0], stride[0], 1)
    out_w = output_size(width, kernel[1], stride[1], 1)
    if tuple(kernel) == tuple(stride):
        crop = x._integers[:, :, : out_h * kernel[0], : out_w * kernel[1]]
        windows = crop.reshape(n, channels, out_h, kernel[0], out_w, kernel[1])
        best_in_columns = windows[:, :, :, 0]  # (N, C, OH, OW, kw)
        for row in range(1, kernel[0]):
            best_in_columns = np.maximum(best_in_columns, windows[:, :, :, row])
        best = best_in_columns[..., 0]  # (N, C, OH, OW)
        for column in range(1, kernel[1]):
            best = np.maximum(best, best_in_columns[..., column])
        return x._with_integers(best)
    taps = kernel_taps(kernel, stride, (1, 1), (out_h, out_w))
    _, rows, cols = next(taps)
    best = x._integers[:, :, rows, cols].copy()  # (N, C, OH, OW)
    for _, rows, cols in taps:
        np.maximum(best, x._integers[:, :, rows, cols], out=best)
    return x._with_integers(best)


@dataclass(frozen=True)
class PackedLayer:
    """A quantized Linear or Conv2d prepared once for ``linear_packed`` / ``conv2d_packed``.

    rows_t: (K, O) float32, the centred weight integers (qw - zw)^T (exact in float32), for
    ``x @ rows_t``; rows: (O, K), the same integers, for ``rows @ columns``; largest:
    max |qw - zw|; scales: float32 weight scales and bias: float32 or None, both (O,) for a
    Linear and (O, 1, 1) for a Conv2d (they broadcast against the accumulator); scale,
    zero_point: the output's qparams; qparams: (scale, zero_point) as the 0-d arrays every
    output ``QuantizedTensor`` shares; requantizations: the ``Requantization`` of each input
    qparams seen so far (a static model has one), filled by ``requantization``.
    """

    rows: np.ndarray
    rows_t: np.ndarray
    largest: int
    scales: np.ndarray
    bias: np.ndarray | None
    scale: float
    zero_point: int
    qparams: tuple[np.ndarray, np.ndarray]
    requantizations: dict = field(default_factory=dict, compare=False)


def pack_layer(
    weight: QuantizedTensor, bias: np.ndarray | None, scale: float, zero_point: int
) -> PackedLayer:
    """Prepack a layer's ``weight``, ``bias`` and output qparams, once for every call."""
    rows, scales = weight_matrix(weight)
    shape = (-1,) + (1,) * (weight.dim() - 2)  # (O,) for a Linear, (O, 1, 1) for a Conv2d
    rows = rows.astype(np.float32)
    return PackedLayer(
        rows=rows,
        rows_t=np.ascontiguousarray(rows.T),
        largest=int(np.abs(rows).max(initial=0)),
        scales=scales.reshape(shape),
        bias=None if bias is None else bias.reshape(shape),
        scale=scale,
        zero_point=zero_point,
        qparams=(np.array(float(scale)), np.array(int(zero_point))),
    )


@dataclass(frozen=True)
class Requantization:
    """One multiply-add, a rounding and a clamp from a layer's accumulators to its output
    integers, for inputs of one (scale sx, zero point zx, dtype).

    ``requantize`` takes four float32 steps per output: ((acc * (sx sw) + bias) / sy) + zy.
    Folded, as PyTorch's fbgemm does, they are two::

        multiplier = sx * sw / sy                     (O,) float32, computed in float64
        offset     = bias / sy + zy                   (O,) float32, computed in float64
        qy = clamp(round(acc * multiplier + offset), lower, upper)

    with [lower, upper] = [qmin, qmax], or [max(qmin, zy), qmax] with a fused ReLU (float32
    scalars, as ufuncs convert Python ints on every call). The
    algebra is the same; the float32 roundings differ, so an output that falls within a
    rounding error of a half-integer can round the other way: the packed kernels agree
    with ``linear`` and ``conv2d`` to one integer step (tests/15_quantization state it).
    ``exact``: whether one float32 matmul of (qx - zx) and the weight is exact, from what is
    known ahead: |qx - zx| <= max(zx - qmin, qmax - zx) = A, and K A max|qw - zw| <= 2^24.
    ``input_zero_point``: zx as a float32 scalar, subtracted from the input integers.
    ``expanded``: multiplier and offset broadcast to the shape of the last accumulator
    (``expanded_to``).
    """

    multiplier: np.ndarray
    offset: np.ndarray
    lower: np.float32
    upper: np.float32
    exact: bool
    input_zero_point: np.float32
    expanded: dict = field(default_factory=dict, compare=False)


def expanded_to(steps: Requantization, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``steps.multiplier`` and ``steps.offset`` broadcast to ``shape`` and stored, for the
    last shape asked (a stream of queries asks one). A ufunc on two arrays of one shape
    skips NumPy's broadcasting setup, which on one image costs more than the arithmetic."""
    found = steps.expanded.get(shape)
    if found is None:
        steps.expanded.clear()
        found = tuple(np.broadcast_to(v, shape).copy() for v in (steps.multiplier, steps.offset))
        steps.expanded[shape] = found
    return found


def requantization(x: QuantizedTensor, packed: PackedLayer, relu: bool) -> Requantization:
    """The ``Requantization`` of ``packed`` for x's qparams, built on the first call with
    them and looked up afterwards."""
    key = (float(x._scales), int(x._zero_points), x.dtype, relu)
    found = packed.requantizations.get(key)
    if found is None:
        scale, zero_point, dtype, _ = key
        qmin, qmax = dtype_range(dtype)
        largest_input = max(zero_point - qmin, qmax - zero_point)
        # the input scale as float32, as ``requantize`` takes it
        multiplier = float(np.float32(scale)) * packed.scales.astype(np.float64) / packed.scale
        bias = 0.0 if packed.bias is None else packed.bias.astype(np.float64)
        offset = np.broadcast_to(bias / packed.scale + packed.zero_point, multiplier.shape)
        found = Requantization(
            multiplier=multiplier.astype(np.float32),
            offset=offset.astype(np.float32),
            lower=np.float32(max(qmin, packed.zero_point) if relu else qmin),
            upper=np.float32(qmax),
            exact=packed.rows.shape[1] * largest_input * packed.largest <= FLOAT32_EXACT,
            input_zero_point=np.float32(zero_point),
        )
        packed.requantizations[key] = found
    return found


def _requantized(accumulator: np.ndarray, x: QuantizedTensor, packed: PackedLayer,
                 steps: Requantization) -> QuantizedTensor:  # fmt: skip
    """The float32 ``accumulator`` requantized by ``steps`` in place, as integers of x's
    dtype with the layer's output qparams."""
    multiplier, offset = expanded_to(steps, accumulator.shape)
    accumulator *= multiplier
    accumulator += offset
    np.rint(accumulator, out=accumulator)
    np.maximum(accumulator, steps.lower, out=accumulator)
    np.minimum(accumulator, steps.upper, out=accumulator)
    integers = accumulator.astype(x._integers.dtype)
    return QuantizedTensor(integers, *packed.qparams, None, x.dtype)


def linear_packed(x: QuantizedTensor, packed: PackedLayer, relu: bool = False) -> QuantizedTensor:
    """``linear`` (then ``relu`` if asked) of a prepacked layer: (qx - zx) @ (qw - zw)^T in
    float32, then ``Requantization``; within one integer step of ``linear``."""
    steps = requantization(x, packed, relu)
    shape = x._integers.shape  # (*, K)
    centred = x._integers.reshape(-1, shape[-1]).astype(np.float32)  # (M, K)
    if steps.input_zero_point:  # after a ReLU zx is often 0: nothing to subtract
        centred -= steps.input_zero_point  # qx - zx, exact in float32
    if steps.exact:
        accumulator = centred @ packed.rows_t  # (M, O): integers, exact in float32
    else:
        accumulator = int_matmul(centred, packed.rows_t).astype(np.float32)
    return _requantized(accumulator.reshape(*shape[:-1], -1), x, packed, steps)  # (*, O)


def indirection(shape: tuple[int, ...], kernel: tuple[int, int], stride: tuple[int, int],
                padding: tuple[int, int], dilation: tuple[int, int]) -> np.ndarray:  # fmt: skip
    """(C kh kw, OH OW) int64: for each entry of the im2col columns of one (C, H, W) image,
    the position in that image flattened that it reads, or C H W (one past the end, where
    ``conv2d_packed`` keeps a 0) for padding. Built by running ``im2col`` on the positions."""
    channels, height, width = shape
    positions = np.arange(channels * height * width).reshape(1, channels, height, width)
    (pad_h, pad_w) = padding
    padded = pad_spatial(positions, ((pad_h, pad_h), (pad_w, pad_w)), value=positions.size)
    columns = im2col(padded, kernel, stride, dilation)  # (1, C, kh kw, OH, OW)
    return columns.reshape(columns.shape[1] * columns.shape[2], -1)


def conv2d_packed(x: QuantizedTensor, packed: PackedLayer, index: np.ndarray,
                  out_size: tuple[int, int], relu: bool = False) -> QuantizedTensor:  # fmt: skip
    """``conv2d`` (then ``relu`` if asked) of a prepacked layer, with the ``indirection``
    index of x's shape; ``out_size`` is (OH, OW). Within one integer step of ``conv2d``."""
    steps = requantization(x, packed, relu)
    n, *image = x._integers.shape  # (N, C, H, W)
    flat = np.zeros((n, math.prod(image) + 1), np.float32)  # (N, C H W + 1)
    np.subtract(x._integers.reshape(n, -1), steps.input_zero_point, out=flat[:, :-1])  # qx - zx
    columns = np.take(flat, index, axis=1)  # (N, C kh kw, OH OW); flat's last column, 0, pads
    if steps.exact:
        accumulator = packed.rows @ columns  # (N, O, OH OW): integers, exact in float32
    else:
        accumulator = np.stack([int_matmul(packed.rows, image) for image in columns])
        accumulator = accumulator.astype(np.float32)
    return _requantized(accumulator.reshape(n, -1, *out_size), x, packed, steps)


def _per_tensor(integers: np.ndarray, scale: float, zero_point: int, like: QuantizedTensor
                ) -> QuantizedTensor:  # fmt: skip
    return QuantizedTensor(
        integers, np.array(float(scale)), np.array(int(zero_point)), None, like.dtype
    )
