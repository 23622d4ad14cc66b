"""Quantized tensors: real numbers stored as 8-bit integers plus a scale and a zero point.

Affine quantization maps a real x to an integer q of the dtype's range [qmin, qmax]::

    q = clamp(round(x / scale) + zero_point, qmin, qmax)      quantize
    x ~ (q - zero_point) * scale                                dequantize

qint8 holds [-128, 127] in ``np.int8``, quint8 [0, 255] in ``np.uint8``: one byte per value,
a quarter of float32. Inside the range the round trip errs by at most scale / 2 (rounding);
outside it, values saturate at qmin or qmax. Per tensor, one (scale, zero_point) serves every
value; per channel, slice i along ``axis`` has its own (scales[i], zero_points[i]), which
suits weights whose output channels differ in size. Example::

    >>> import tinytorch as torch
    >>> q = torch.quantize_per_tensor(torch.tensor([-1.0, 0.0, 0.26, 9.0]), 0.1, 3, torch.qint8)
    >>> q.int_repr()
    tensor([-7,  3,  6, 93], dtype=tinytorch.int8)
    >>> q.dequantize()
    tensor([-1. ,  0. ,  0.3,  9. ])

Bit for bit as PyTorch on x86 (checked against torch in tests/15_quantization). Rounding is
half to even, on float32 values, with 1 / scale computed in float32:

* per tensor: round(fl32(x * (1 / scale) + zero_point)), the product and the sum rounded once
  to float32 (the fused multiply-add of PyTorch's vector kernel). float64 holds the product
  of two float32 numbers exactly, so computing it there and rounding to float32 reproduces it;
* per channel: round(fl32(fl32(x * (1 / scale)) + zero_point)), two float32 roundings.

Dequantizing per tensor is fl32((q - zero_point) * scale) in float32; per channel the same
product is taken in float64 and then rounded to float32, as PyTorch does.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinytorch import dtypes
from tinytorch.tensor import Tensor


class qscheme:  # noqa: N801 - lower case, as in PyTorch
    """How a quantized tensor (or an observer) maps reals to integers."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"tinytorch.{self.name}"

    def __copy__(self) -> qscheme:
        return self  # one object per type, as in PyTorch: ``is`` comparisons survive copies

    def __deepcopy__(self, memo: dict) -> qscheme:
        return self


per_tensor_affine = qscheme("per_tensor_affine")
per_channel_affine = qscheme("per_channel_affine")
per_tensor_symmetric = qscheme("per_tensor_symmetric")
per_channel_symmetric = qscheme("per_channel_symmetric")

QUANTIZED_DTYPES = (dtypes.qint8, dtypes.quint8)


@functools.cache  # asked on every quantized layer call: np.iinfo costs more than the lookup
def dtype_range(dtype: dtypes.dtype) -> tuple[int, int]:
    """(qmin, qmax) of a quantized dtype: (-128, 127) for qint8, (0, 255) for quint8."""
    info = np.iinfo(dtype.numpy_dtype)
    return int(info.min), int(info.max)


# ---------------------------------------------------------------------- the formulas
def quantize_array(
    x: np.ndarray, inverse_scale: np.ndarray, zero_point: np.ndarray, qmin: int, qmax: int
) -> np.ndarray:
    """q = clamp(round(x * inverse_scale + zero_point), qmin, qmax), as float64.

    The textbook affine quantization; ``inverse_scale`` and ``zero_point`` broadcast against
    x (a scalar per tensor, one value per slice per channel). ``np.rint`` rounds half to even.
    """
    # BEGIN SOLUTION 15
    return np.clip(np.rint(x * inverse_scale + zero_point), qmin, qmax)
    # END SOLUTION


def dequantize_array(q: np.ndarray, scale: np.ndarray, zero_point: np.ndarray) -> np.ndarray:
    """x = (q - zero_point) * scale, in the dtype of ``scale``."""
    # BEGIN SOLUTION 15
    return (q.astype(scale.dtype) - zero_point.astype(scale.dtype)) * scale
    # END SOLUTION


# ---------------------------------------------------------------------- the tensor
class QuantizedTensor:
    """Integers (``int_repr()``) plus the affine parameters that turn them back into reals.

    Not a ``Tensor``: arithmetic on the integers would be wrong, so only the operations that
    respect the encoding exist (quantized modules in ``tinytorch.ao.nn.quantized``, and
    ``relu``, ``flatten``, ``reshape`` below). ``dequantize()`` gives a float32 ``Tensor``.
    """

    is_quantized = True

    def __init__(
        self,
        integers: np.ndarray,
        scales: np.ndarray,
        zero_points: np.ndarray,
        axis: int | None,
        dtype: dtypes.dtype,
    ) -> None:
        self._integers = integers  # np.int8 or np.uint8, the stored bytes
        self._scales = scales  # float64: shape () per tensor, (C,) per channel
        self._zero_points = zero_points  # int64, same shape as the scales
        self._axis = axis  # None per tensor
        self.dtype = dtype

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self) -> tuple[int, ...]:
        return self._integers.shape

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return self._integers.ndim

    def numel(self) -> int:
        return int(self._integers.size)

    def qscheme(self) -> qscheme:
        return per_tensor_affine if self._axis is None else per_channel_affine

    def int_repr(self) -> Tensor:
        """The stored integers as an int8 (qint8) or uint8 (quint8) tensor."""
        return Tensor._from_array(self._integers.copy())

    def q_scale(self) -> float:
        self._require_per_tensor("q_scale")
        return float(self._scales)

    def q_zero_point(self) -> int:
        self._require_per_tensor("q_zero_point")
        return int(self._zero_points)

    def q_per_channel_scales(self) -> Tensor:
        self._require_per_channel("q_per_channel_scales")
        return Tensor._from_array(self._scales.copy())

    def q_per_channel_zero_points(self) -> Tensor:
        self._require_per_channel("q_per_channel_zero_points")
        return Tensor._from_array(self._zero_points.copy())

    def q_per_channel_axis(self) -> int:
        self._require_per_channel("q_per_channel_axis")
        return self._axis

    def _require_per_tensor(self, name: str) -> None:
        if self._axis is not None:
            raise RuntimeError(
                f"{name}: this tensor is quantized per channel; use q_per_channel_scales(), "
                "q_per_channel_zero_points() and q_per_channel_axis()"
            )

    def _require_per_channel(self, name: str) -> None:
        if self._axis is None:
            raise RuntimeError(
                f"{name}: this tensor is quantized per tensor; use q_scale() and q_zero_point()"
            )

    # ------------------------------------------------------------------ conversions
    def dequantize(self) -> Tensor:
        """The real values (q - zero_point) * scale as a float32 tensor."""
        if self._axis is None:
            scale = np.float32(self._scales)
            return Tensor._from_array(dequantize_array(self._integers, scale, self._zero_points))
        scales, zero_points = self._broadcast(self._scales), self._broadcast(self._zero_points)
        values = dequantize_array(self._integers, scales, zero_points)  # float64
        return Tensor._from_array(values.astype(np.float32))

    def _broadcast(self, per_channel: np.ndarray) -> np.ndarray:
        """Per-channel values shaped to broadcast along ``axis`` (C,) -> (1, .., C, .., 1)."""
        shape = [1] * self._integers.ndim
        shape[self._axis] = -1
        return per_channel.reshape(shape)

    def _with_integers(self, integers: np.ndarray) -> QuantizedTensor:
        """A tensor with the same quantization parameters and new integers."""
        return QuantizedTensor(integers, self._scales, self._zero_points, self._axis, self.dtype)

    # ------------------------------------------------------------------ operations
    def relu(self) -> QuantizedTensor:
        """max(x, 0) on the integers: real 0 is the zero point, so q -> max(q, zero_point)."""
        self._require_per_tensor("relu")
        zero = self._integers.dtype.type(self._zero_points)
        return self._with_integers(np.maximum(self._integers, zero))

    def reshape(self, *shape: int | Sequence[int]) -> QuantizedTensor:
        self._require_per_tensor("reshape")
        sizes = shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape
        return self._with_integers(self._integers.reshape(sizes))

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> QuantizedTensor:
        self._require_per_tensor("flatten")
        shape = self.shape
        end = end_dim % len(shape)
        merged = math.prod(shape[start_dim : end + 1])
        return self.reshape(*shape[:start_dim], merged, *shape[end + 1 :])

    def __repr__(self) -> str:
        values = repr(self.dequantize())[len("tensor(") : -1]
        if self._axis is None:
            detail = f"scale={self.q_scale()}, zero_point={self.q_zero_point()}"
        else:
            detail = f"scales={self._scales.tolist()}, zero_points={self._zero_points.tolist()}"
            detail += f", axis={self._axis}"
        return (
            f"tensor({values}, size={self.shape}, dtype={self.dtype}, "
            f"quantization_scheme={self.qscheme()}, {detail})"
        )


# ---------------------------------------------------------------------- quantize
def quantize_per_tensor(
    input: Tensor,  # noqa: A002 - PyTorch's name
    scale: float,
    zero_point: int,
    dtype: dtypes.dtype,
) -> QuantizedTensor:
    """Quantize a float32 tensor with one ``scale`` and ``zero_point`` for every value.

    q = clamp(round(x / scale) + zero_point, qmin, qmax), rounding half to even (see the
    module's notes for the exact float32 steps). Raises for a non-float32 input, a scale that
    is not a positive finite number, or a zero point outside the dtype's range.
    Example: ``quantize_per_tensor(torch.tensor([0.26]), 0.1, 0, torch.qint8).int_repr()`` is
    ``tensor([3], dtype=tinytorch.int8)``.
    """
    values = _float32_values("quantize_per_tensor", input)
    qmin, qmax = _check_dtype("quantize_per_tensor", dtype)
    scales = _check_scales("quantize_per_tensor", np.array(scale, np.float64))
    zero_points = _check_zero_points("quantize_per_tensor", np.array(zero_point), qmin, qmax)
    return quantize_checked(values, scales, zero_points, dtype)


def quantize_checked(
    values: np.ndarray, scales: np.ndarray, zero_points: np.ndarray, dtype: dtypes.dtype
) -> QuantizedTensor:
    """``quantize_per_tensor`` of float32 ``values`` with a float64 scale and an int64 zero
    point (0-d arrays) already checked: what a ``Quantize`` layer runs on every call."""
    qmin, qmax = dtype_range(dtype)
    inverse_scale = np.float32(1.0) / np.float32(scales)
    # x * (1 / scale) + zero_point rounded once to float32, as a fused multiply-add does:
    # float64 holds the product of two float32 numbers exactly.
    # In place: one buffer per precision instead of one per step (a query may be one image).
    shifted = values.astype(np.float64)
    shifted *= inverse_scale
    shifted += zero_points
    rounded = shifted.astype(np.float32)
    np.rint(rounded, out=rounded)  # half to even
    np.maximum(rounded, np.float32(qmin), out=rounded)  # float32 bounds: a Python int costs
    np.minimum(rounded, np.float32(qmax), out=rounded)  # a conversion in every ufunc call
    return QuantizedTensor(rounded.astype(dtype.numpy_dtype), scales, zero_points, None, dtype)


def quantize_per_channel(
    input: Tensor,  # noqa: A002 - PyTorch's name
    scales: Tensor,
    zero_points: Tensor,
    axis: int,
    dtype: dtypes.dtype,
) -> QuantizedTensor:
    """Quantize a float32 tensor with one (scale, zero_point) per slice along ``axis``.

    ``scales`` and ``zero_points`` are 1-D with ``input.shape[axis]`` entries. Example: the
    weight (O, I) of a Linear layer quantized with ``axis=0`` has one scale per output row.
    """
    values = _float32_values("quantize_per_channel", input)
    qmin, qmax = _check_dtype("quantize_per_channel", dtype)
    scale_array = _check_scales("quantize_per_channel", _as_array(scales).astype(np.float64))
    zero_array = _check_zero_points(
        "quantize_per_channel", _as_array(zero_points).astype(np.int64), qmin, qmax
    )
    if not 0 <= axis < values.ndim:  # PyTorch refuses negative axes too
        raise IndexError(
            f"quantize_per_channel: axis {axis} is out of range for a {values.ndim}-d input; "
            f"expected 0 <= axis < {values.ndim}"
        )
    if scale_array.shape != (values.shape[axis],) or zero_array.shape != scale_array.shape:
        raise ValueError(
            f"quantize_per_channel: input has {values.shape[axis]} channels along axis {axis} "
            f"but got scales of shape {scale_array.shape} and zero points of shape "
            f"{zero_array.shape}; pass one of each per channel"
        )
    result = QuantizedTensor(values, scale_array, zero_array, axis, dtype)
    inverse_scales = np.float32(1.0) / result._broadcast(scale_array).astype(np.float32)
    shifts = result._broadcast(zero_array).astype(np.float32)
    integers = quantize_array(values, inverse_scales, shifts, qmin, qmax)  # float32 steps
    return result._with_integers(integers.astype(dtype.numpy_dtype))


def _as_array(values: Tensor | Sequence[float] | np.ndarray) -> np.ndarray:
    return values._data if isinstance(values, Tensor) else np.asarray(values)


def _float32_values(op: str, input: Any) -> np.ndarray:  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a float32 Tensor, got {type(input).__name__}")
    if input._data.dtype != np.float32:
        raise TypeError(
            f"{op} only quantizes float32 tensors, got {input.dtype}; convert first with x.float()"
        )
    return input._data


def _check_dtype(op: str, dtype: Any) -> tuple[int, int]:
    if dtype not in QUANTIZED_DTYPES:
        raise TypeError(f"{op}: dtype must be tinytorch.qint8 or tinytorch.quint8, got {dtype!r}")
    return dtype_range(dtype)


def _check_scales(op: str, scales: np.ndarray) -> np.ndarray:
    if not (np.all(np.isfinite(scales)) and np.all(scales > 0)):
        raise ValueError(
            f"{op}: scale must be a positive finite number, got {scales.tolist()}; the scale "
            "is the real value of one integer step"
        )
    return scales


def _check_zero_points(op: str, zero_points: np.ndarray, qmin: int, qmax: int) -> np.ndarray:
    if np.any(zero_points < qmin) or np.any(zero_points > qmax):
        raise ValueError(
            f"{op}: zero_point {zero_points.tolist()} is outside the dtype's range "
            f"[{qmin}, {qmax}]; the zero point is the integer that stands for real 0"
        )
    return zero_points.astype(np.int64)
