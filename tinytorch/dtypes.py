"""Data types: the names PyTorch uses, each backed by a NumPy dtype.

``tinytorch.float32`` is a small object that knows its NumPy twin, so tensors can store plain
NumPy arrays while scripts compare and pass dtypes exactly as they would with PyTorch::

    >>> import tinytorch as torch
    >>> torch.zeros(2).dtype
    tinytorch.float32
    >>> torch.zeros(2, dtype=torch.int64).dtype.is_floating_point
    False
"""

from __future__ import annotations

import numpy as np


class dtype:  # noqa: N801 - lower case, as in PyTorch
    """A tensor element type: its name, its NumPy dtype and whether it is floating point."""

    def __init__(self, name: str, numpy_dtype: np.dtype) -> None:
        self.name = name
        self.numpy_dtype = np.dtype(numpy_dtype)
        self.is_floating_point = self.numpy_dtype.kind == "f"
        self.itemsize = self.numpy_dtype.itemsize

    def __repr__(self) -> str:
        return f"tinytorch.{self.name}"

    def __copy__(self) -> dtype:
        return self  # one object per type, as in PyTorch: ``is`` comparisons survive copies

    def __deepcopy__(self, memo: dict) -> dtype:
        return self


float32 = dtype("float32", np.float32)
float64 = dtype("float64", np.float64)
float16 = dtype("float16", np.float16)
int64 = dtype("int64", np.int64)
int32 = dtype("int32", np.int32)
int16 = dtype("int16", np.int16)
int8 = dtype("int8", np.int8)
uint8 = dtype("uint8", np.uint8)
bool = dtype("bool", np.bool_)  # noqa: A001 - PyTorch's name

# PyTorch's aliases for the same types.
float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16

_ALL = (float32, float64, float16, int64, int32, int16, int8, uint8, bool)
_BY_NUMPY = {d.numpy_dtype: d for d in _ALL}


def from_numpy_dtype(numpy_dtype: np.dtype) -> dtype:
    """The tinytorch dtype of a NumPy dtype; raises ``TypeError`` for types without one."""
    try:
        return _BY_NUMPY[numpy_dtype]
    except KeyError:
        names = ", ".join(d.name for d in _ALL)
        raise TypeError(
            f"NumPy dtype {numpy_dtype} has no tinytorch equivalent; use one of: {names}"
        ) from None


def to_numpy_dtype(requested: dtype | np.dtype | type | str | None) -> np.dtype | None:
    """The NumPy dtype for a ``dtype=`` argument (tinytorch dtype, NumPy dtype or name)."""
    if requested is None:
        return None
    if isinstance(requested, dtype):
        return requested.numpy_dtype
    numpy_dtype = np.dtype(requested)
    from_numpy_dtype(numpy_dtype)  # rejects types tinytorch cannot hold
    return numpy_dtype


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}  # bool < integer < floating point


def promote_types(first: np.dtype, second: np.dtype) -> np.dtype:
    """PyTorch's common dtype of two tensors: the floating one wins over an integer one.

    Within one category (bool, integer, floating point) it is the smallest type that holds both,
    as in NumPy (uint8 and int8 give int16). Across categories the higher category's dtype is
    kept as it is: int64 with float32 gives float32, where NumPy would widen to float64.
    """
    category_first, category_second = _CATEGORY[first.kind], _CATEGORY[second.kind]
    if category_first != category_second:
        return first if category_first > category_second else second
    return np.promote_types(first, second)


def result_type(first: np.ndarray, second: np.ndarray) -> np.dtype:
    """The dtype of a binary operation on two tensors' arrays, by PyTorch's promotion rules.

    A 0-d tensor (a "scalar tensor") decides the dtype only if its category is higher than the
    other's: float32 (3,) with a float64 0-d tensor stays float32, int64 (3,) with a float64
    0-d tensor becomes float64.
    """
    if (first.ndim == 0) != (second.ndim == 0) and (
        _CATEGORY[first.dtype.kind] == _CATEGORY[second.dtype.kind]
    ):
        return second.dtype if first.ndim == 0 else first.dtype
    return promote_types(first.dtype, second.dtype)


default_float = np.dtype(np.float32)
"""The NumPy dtype of floating-point tensors made from Python floats (PyTorch's default)."""

# Quantized types: one byte per value, stored as int8 / uint8 in a ``QuantizedTensor``
# (tinytorch.qtensor) beside a scale and a zero point. Not in ``_ALL``: a plain tensor
# never has them.
qint8 = dtype("qint8", np.int8)
quint8 = dtype("quint8", np.uint8)
