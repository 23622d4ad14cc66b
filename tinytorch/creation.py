"""Creating tensors: from data, filled with a constant, ranges, identity, random values.

Every function takes PyTorch's arguments. Floating-point results are float32 unless ``dtype``
says otherwise; ``requires_grad=True`` makes the result a leaf that collects gradients::

    >>> import tinytorch as torch
    >>> torch.zeros(2, 3).shape
    (2, 3)
    >>> torch.arange(5)
    tensor([0, 1, 2, 3, 4])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinytorch import devices, dtypes
from tinytorch import random as tt_random
from tinytorch.random import Generator
from tinytorch.tensor import Tensor, as_array, sizes_argument


def _leaf(array: np.ndarray, requires_grad: bool, device: Any = None) -> Tensor:
    """Wrap a freshly made array as a leaf tensor (checking that it may require grad, and that
    ``device`` is the CPU)."""
    devices.check_device(device)
    tensor = Tensor._from_array(array)
    if requires_grad:
        tensor.requires_grad = True
    return tensor


def _float_dtype(dtype: Any) -> np.dtype:
    """The NumPy dtype for a creation function whose default is the default float type."""
    return dtypes.to_numpy_dtype(dtype) or dtypes.default_float


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, arrays, tensors)."""
    devices.check_device(device)
    # BEGIN SOLUTION 01
    array = as_array(data, dtype)
    return _leaf(np.array(array, copy=True), requires_grad)
    # END SOLUTION


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """``data`` as a tensor, sharing memory with a NumPy array or tensor when it can."""
    devices.check_device(device)
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtype):
        return data
    return Tensor._from_array(as_array(data, dtype))


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (changes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return Tensor._from_array(as_array(array))


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of the given size filled with 0."""
    return _leaf(np.zeros(sizes_argument(size), _float_dtype(dtype)), requires_grad, device)


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of the given size filled with 1."""
    return _leaf(np.ones(sizes_argument(size), _float_dtype(dtype)), requires_grad, device)


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of the given size whose values are whatever was in memory."""
    return _leaf(np.empty(sizes_argument(size), _float_dtype(dtype)), requires_grad, device)


def full(
    size: Any, fill_value: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """A tensor of the given size filled with ``fill_value`` (its dtype follows the value)."""
    array = np.full(sizes_argument((size,)), as_array(fill_value, dtype))
    return _leaf(array, requires_grad, device)


def zeros_like(
    input: Tensor,  # noqa: A002
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    return zeros(
        input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad
    )


def ones_like(
    input: Tensor,  # noqa: A002
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    return ones(input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def empty_like(
    input: Tensor,  # noqa: A002
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    return empty(
        input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad
    )


def full_like(
    input: Tensor,  # noqa: A002
    fill_value: Any,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    return full(
        input.shape,
        fill_value,
        dtype=dtype or input.dtype,
        device=device,
        requires_grad=requires_grad,
    )


def rand(
    *size: Any,
    generator: Generator | None = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Uniform random numbers in [0, 1)."""
    array = tt_random.rng(generator).random(sizes_argument(size)).astype(_float_dtype(dtype))
    return _leaf(array, requires_grad, device)


def randn(
    *size: Any,
    generator: Generator | None = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Standard normal random numbers (mean 0, variance 1)."""
    values = tt_random.rng(generator).standard_normal(sizes_argument(size))
    return _leaf(values.astype(_float_dtype(dtype)), requires_grad, device)


def randint(
    low: int,
    high: int | None = None,
    size: Any = None,
    generator: Generator | None = None,
    dtype: Any = None,
    device: Any = None,
) -> Tensor:
    """Random integers in [low, high); ``randint(high, size)`` starts at 0, as in PyTorch."""
    if size is None:
        if not isinstance(high, (tuple, list)):
            raise TypeError("randint() needs a size, e.g. randint(0, 10, (3,))")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    devices.check_device(device)
    values = tt_random.rng(generator).integers(low, high, sizes_argument((size,)))
    return Tensor._from_array(values.astype(dtypes.to_numpy_dtype(dtype) or np.int64))


def randperm(n: int, generator: Generator | None = None, dtype: Any = None) -> Tensor:
    """A random permutation of 0 .. n-1."""
    order = tt_random.rng(generator).permutation(n)
    return Tensor._from_array(order.astype(dtypes.to_numpy_dtype(dtype) or np.int64))


def rand_like(
    input: Tensor,  # noqa: A002
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    return rand(input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def randn_like(
    input: Tensor,  # noqa: A002
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    return randn(
        input.shape, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad
    )


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Values from ``start`` up to (not including) ``end`` by ``step``; ``arange(n)`` is 0..n-1.

    The result is int64 when every argument is an integer, else float32.
    """
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    integral = all(isinstance(value, (int, np.integer)) for value in (start, end, step))
    default = np.dtype(np.int64) if integral else dtypes.default_float
    array = np.arange(start, end, step).astype(dtypes.to_numpy_dtype(dtype) or default)
    return _leaf(array, requires_grad, device)


def linspace(
    start: float,
    end: float,
    steps: int,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    array = np.linspace(start, end, steps).astype(_float_dtype(dtype))
    return _leaf(array, requires_grad, device)


def eye(
    n: int,
    m: int | None = None,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """The n x m identity matrix (ones on the diagonal)."""
    return _leaf(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad, device)


def _legacy_constructor(dtype: dtypes.dtype, name: str) -> Any:
    """PyTorch's legacy typed constructor ``NAME(*sizes)`` or ``NAME(data)`` for ``dtype``."""

    def constructor(*args: Any) -> Tensor:
        if all(isinstance(arg, (int, np.integer)) for arg in args):
            return empty(*(args or (0,)), dtype=dtype)  # sizes; none: an empty 1-d tensor
        if len(args) != 1 or isinstance(args[0], str):
            raise TypeError(f"{name}() takes sizes or one sequence of data, got {args!r}")
        data = args[0]
        if isinstance(data, Tensor) and data.dtype != dtype:
            raise TypeError(
                f"{name}(): expected a tensor of dtype {dtype}, got {data.dtype}; use "
                f"tensor.to({dtype}) instead"
            )
        return tensor(data, dtype=dtype)

    constructor.__name__ = constructor.__qualname__ = name
    constructor.__doc__ = (
        f"``{name}(2, 3)`` is an uninitialised {dtype} tensor of that size; ``{name}(data)`` "
        f"is ``tinytorch.tensor(data, dtype={dtype})``. Prefer those two in new code."
    )
    return constructor


FloatTensor = _legacy_constructor(dtypes.float32, "FloatTensor")
DoubleTensor = _legacy_constructor(dtypes.float64, "DoubleTensor")
HalfTensor = _legacy_constructor(dtypes.float16, "HalfTensor")
LongTensor = _legacy_constructor(dtypes.int64, "LongTensor")
IntTensor = _legacy_constructor(dtypes.int32, "IntTensor")
ShortTensor = _legacy_constructor(dtypes.int16, "ShortTensor")
ByteTensor = _legacy_constructor(dtypes.uint8, "ByteTensor")
BoolTensor = _legacy_constructor(dtypes.bool, "BoolTensor")
