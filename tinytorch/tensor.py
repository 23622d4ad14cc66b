"""``Tensor``: an n-dimensional array that can record how it was computed.

A tensor holds a NumPy array (``_data``) and, for automatic differentiation, three more things:
``requires_grad`` (should gradients flow to it), ``grad`` (the gradient after ``backward``) and
``grad_fn`` (the node of the graph that produced it, ``None`` for leaves). Every differentiable
method below calls a ``Function`` from ``tinytorch.ops``; non-differentiable ones (comparisons,
argmax, in-place updates) work on the array directly. Example::

    >>> import tinytorch as torch
    >>> x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> loss = (x @ x.T).sum()
    >>> loss.backward()
    >>> x.grad
    tensor([[ 8., 12.],
            [ 8., 12.]])
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from tinytorch import devices, dtypes
from tinytorch import random as tt_random
from tinytorch.autograd import engine, grad_mode
from tinytorch.ops import activation, arithmetic, pointwise, reduction, selection
from tinytorch.ops import shape as shape_ops

Number = int | float | bool


class ValuesIndices(NamedTuple):
    """What ``max(dim)`` and ``min(dim)`` return: the values and where they were found."""

    values: Tensor
    indices: Tensor


class Histogram(NamedTuple):
    """What ``histogram`` returns: the count in each bin and the bins' edges."""

    hist: Tensor
    bin_edges: Tensor


def accepts_numpy_names(method: Any) -> Any:
    """Let a reduction also take NumPy's keyword names: ``axis`` for ``dim`` and ``keepdims``
    for ``keepdim`` (PyTorch accepts both)."""

    @functools.wraps(method)
    def reduction_method(self: Tensor, *args: Any, **kwargs: Any) -> Any:
        if "axis" in kwargs:
            kwargs["dim"] = kwargs.pop("axis")
        if "keepdims" in kwargs:
            kwargs["keepdim"] = kwargs.pop("keepdims")
        return method(self, *args, **kwargs)

    return reduction_method


def normalize_dim(dim: int, ndim: int) -> int:
    """``dim`` as a non-negative axis of an ``ndim``-dimensional tensor (-1 is the last)."""
    low, high = (-ndim, ndim - 1) if ndim else (-1, 0)
    if not low <= dim <= high:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{low}, {high}], but got {dim})"
        )
    return dim % ndim if ndim else 0


def normalize_dims(dim: int | Sequence[int] | None, ndim: int) -> tuple[int, ...] | None:
    """A ``dim=`` argument (None, an int or several) as a sorted tuple of axes, or None."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    if ndim == 0:
        return None
    return tuple(sorted({normalize_dim(int(d), ndim) for d in dims}))


def sizes_argument(sizes: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept sizes as ``f(2, 3)``, ``f((2, 3))`` or ``f([2, 3])``, as PyTorch does."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list, np.ndarray)):
        sizes = tuple(sizes[0])
    return tuple(int(size) for size in sizes)


def as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Turn Python data, a NumPy array or a Tensor into an array, with PyTorch's dtype rules.

    Python floats become float32 (the default float type) and Python ints int64; arrays keep
    their dtype unless ``dtype`` is given.
    """
    numpy_dtype = dtypes.to_numpy_dtype(dtype)
    if isinstance(data, Tensor):
        array = data._data
    elif isinstance(data, np.ndarray):
        array = data
    else:
        array = np.array(data)
        if array.dtype == np.float64 and numpy_dtype is None:
            numpy_dtype = dtypes.default_float
    if array.dtype.kind in "OUS":
        raise TypeError(f"cannot make a tensor from {type(data).__name__} of {array.dtype}")
    if numpy_dtype is not None and array.dtype != numpy_dtype:
        array = array.astype(numpy_dtype)
    dtypes.from_numpy_dtype(array.dtype)
    return array


class VersionCounter:
    """How many times a tensor's memory has been written in place.

    A tensor and its views share one counter. ``Context.saved_tensors`` compares it with the
    value it had when forward saved the array, to catch values changed before backward.
    """

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0


class Tensor:
    """An n-dimensional array of one dtype, with optional gradient tracking."""

    __slots__ = (
        "_data",
        "_requires_grad",
        "grad",
        "grad_fn",
        "_version_counter",  # a VersionCounter, shared with views of the same memory
        "_view_of",  # (base, view Function, its argument) for a view of base, else None
        "__weakref__",
    )
    # NumPy defers to Tensor's reflected operators (array + tensor -> Tensor.__radd__).
    __array_priority__ = 1000

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        self._data = as_array(data)
        self.grad: Tensor | None = None
        self.grad_fn = None
        self._version_counter = VersionCounter()
        self._view_of = None
        self._requires_grad = False
        self.requires_grad = requires_grad

    @classmethod
    def _from_array(cls, array: np.ndarray, requires_grad: bool = False) -> Tensor:
        """Wrap an array without copying or checking it (framework code only)."""
        tensor = object.__new__(cls)
        tensor._data = array
        tensor._requires_grad = requires_grad
        tensor.grad = None
        tensor.grad_fn = None
        tensor._version_counter = VersionCounter()
        tensor._view_of = None
        return tensor

    # ------------------------------------------------------------------ attributes
    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def dtype(self) -> dtypes.dtype:
        return dtypes.from_numpy_dtype(self._data.dtype)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def device(self) -> devices.device:
        """Always ``device('cpu')``: tinytorch computes with NumPy on the CPU."""
        return devices.CPU

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and self._data.dtype.kind != "f":
            raise RuntimeError(
                f"only tensors of floating point dtype can require gradients, but this one is "
                f"{self.dtype}; convert it first with .float()"
            )
        if not value and self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad can only be switched off on leaf tensors; use .detach() to get "
                "a tensor outside the graph"
            )
        self._requires_grad = bool(value)

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user, not by an operation that recorded a graph."""
        return self.grad_fn is None

    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's memory has had (its views count too)."""
        return self._version_counter.value

    @property
    def data(self) -> Tensor:
        """The same values as a tensor outside the graph (shares memory with this one)."""
        return Tensor._from_array(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        self._data = as_array(value)

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """All dimensions reversed (the matrix transpose for 2-D tensors)."""
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """The last two dimensions swapped (a batch of transposed matrices)."""
        return self.transpose(-2, -1)

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        return self.shape if dim is None else self.shape[normalize_dim(dim, self.ndim)]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    def element_size(self) -> int:
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return self._data.flags.c_contiguous

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __repr__(self) -> str:
        body = np.array2string(
            self._data, separator=", ", prefix="tensor(", precision=4, threshold=1000
        )
        extras = []
        if self._data.dtype not in (np.float32, np.int64, np.bool_) or self._data.size == 0:
            extras.append(f"dtype={self.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn={self.grad_fn!r}")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    def __format__(self, format_spec: str) -> str:
        """A 0-d tensor formats as its number, as in PyTorch: ``f"{loss:.4f}"`` is '2.3026'.

        Larger tensors accept only the empty spec (``f"{x}"`` is ``str(x)``).
        """
        if self.ndim == 0:
            return format(self.item(), format_spec)
        return object.__format__(self, format_spec)

    # ------------------------------------------------------------------ conversion
    def item(self) -> Number:
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to a Python "
                f"number; index it first or reduce it (e.g. .sum())"
            )
        return self._data.item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def numpy(self) -> np.ndarray:
        """The NumPy array behind this tensor (shared memory: changes show on both sides).

        Refused for a tensor that requires grad, as in PyTorch: changes made through the
        array would bypass autograd. ``detach().numpy()`` is the explicit way.
        """
        if self._requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        return self._data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return self._data if dtype is None else self._data.astype(dtype)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self._data.size} elements is ambiguous; use "
                ".any() or .all()"
            )
        return bool(self._data.item())

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """Convert to a dtype (``to(torch.float64)``); devices other than 'cpu' are refused."""
        dtype = kwargs.get("dtype")
        for arg in (*args, kwargs.get("device")):
            if isinstance(arg, dtypes.dtype):
                dtype = arg
            elif isinstance(arg, Tensor):
                dtype = arg.dtype
            elif not isinstance(arg, builtins.bool):  # non_blocking and copy change nothing
                devices.check_device(arg)
        return self if dtype is None else self.type(dtype)

    def type(self, dtype: dtypes.dtype) -> Tensor:
        """This tensor converted to ``dtype`` (itself if it already has that dtype)."""
        numpy_dtype = dtypes.to_numpy_dtype(dtype)
        if numpy_dtype == self._data.dtype:
            return self
        return pointwise.Cast.apply(self, numpy_dtype)

    def type_as(self, other: Tensor) -> Tensor:
        return self.type(other.dtype)

    def float(self) -> Tensor:
        return self.type(dtypes.float32)

    def double(self) -> Tensor:
        return self.type(dtypes.float64)

    def half(self) -> Tensor:
        return self.type(dtypes.float16)

    def long(self) -> Tensor:
        return self.type(dtypes.int64)

    def int(self) -> Tensor:
        return self.type(dtypes.int32)

    def bool(self) -> Tensor:
        return self.type(dtypes.bool)

    def cpu(self) -> Tensor:
        return self

    def cuda(self, device: Any = None) -> Tensor:
        """Refused: tinytorch has no GPU (see ``tinytorch.cuda.is_available()``)."""
        devices.check_device("cuda" if device is None else device)
        return self

    def detach(self) -> Tensor:
        """The same values (shared memory) outside the graph: no grad_fn, no requires_grad.

        The result shares this tensor's version counter, as it shares its memory.
        """
        detached = Tensor._from_array(self._data)
        detached._version_counter = self._version_counter
        return detached

    def clone(self) -> Tensor:
        """A copy with its own memory; gradients flow back to this tensor."""
        return shape_ops.Clone.apply(self)

    def contiguous(self) -> Tensor:
        """This tensor if its memory is in row-major order already, else a row-major copy."""
        return self if self._data.flags.c_contiguous else self.clone()

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient: Tensor | None = None, retain_graph: bool = False) -> None:
        """Compute d self / d leaf for every leaf that requires grad; add it to ``leaf.grad``.

        ``gradient`` is d loss / d self; it may be left out when ``self`` has one element.
        """
        if not self._requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn: "
                "nothing in this computation requires gradients (create the inputs with "
                "requires_grad=True, and do not compute under no_grad)"
            )
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs; this tensor has "
                    f"shape {self.shape}: pass gradient= of that shape, or reduce it first"
                )
            seed = np.ones_like(self._data)
        else:
            seed = as_array(gradient, self._data.dtype)
            if seed.shape != self.shape:
                raise RuntimeError(
                    f"backward: gradient has shape {seed.shape}, but the tensor has shape "
                    f"{self.shape}; they must match"
                )
        engine.run_backward(self, seed, retain_graph=retain_graph)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward (leaves always keep it)."""
        if self.grad_fn is not None:
            self.grad_fn.retained = self
        elif not self._requires_grad:
            raise RuntimeError("can't retain_grad on a tensor that has requires_grad=False")

    # ------------------------------------------------------------------ arithmetic
    def _operand(self, other: Any) -> Any:
        """``other`` ready for a binary operation with this tensor.

        Python numbers stay numbers (NumPy keeps the tensor's dtype for them, as PyTorch
        does); everything else becomes a tensor.
        """
        if isinstance(other, (Tensor, builtins.int, builtins.float, builtins.bool)):
            return other
        return Tensor(other)

    def _promote(self, other: Any) -> tuple[Tensor, Any]:
        """This tensor and ``other`` converted to the dtype PyTorch gives their result.

        Two tensors meet at ``dtypes.result_type`` (int64 and float32 give float32); a Python
        float turns an integer or bool tensor into float32; other Python numbers keep the
        tensor's dtype (NumPy treats them as "weak", like PyTorch).
        """
        other = self._operand(other)
        if isinstance(other, Tensor):
            if other._data.dtype == self._data.dtype:
                return self, other
            dtype = dtypes.result_type(self._data, other._data)
            return self.type(dtype), other.type(dtype)
        if isinstance(other, builtins.float) and self._data.dtype.kind != "f":
            return self.float(), other
        return self, other

    def add(self, other: Any, alpha: Number = 1) -> Tensor:
        a, b = self._promote(other)
        return arithmetic.Add.apply(a, b if alpha == 1 else b * alpha)

    def sub(self, other: Any, alpha: Number = 1) -> Tensor:
        a, b = self._promote(other)
        return arithmetic.Sub.apply(a, b if alpha == 1 else b * alpha)

    def mul(self, other: Any) -> Tensor:
        return arithmetic.Mul.apply(*self._promote(other))

    def div(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        """True division: integer operands give a float32 result, as in PyTorch.

        ``rounding_mode='trunc'`` rounds the quotient toward zero, ``'floor'`` down (Python's
        ``//``); both keep the operands' promoted dtype and have a zero gradient.
        """
        if rounding_mode is None:
            return _true_divide(self, self._operand(other))
        if rounding_mode not in ("trunc", "floor"):
            raise RuntimeError(
                f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                f"{rounding_mode!r}"
            )
        a, b = self._promote(other)
        _check_integer_divisor(a, b, "div")
        divide = np.floor_divide if rounding_mode == "floor" else _trunc_divide
        return pointwise.StepFunction.apply(divide, a, b)

    def pow(self, exponent: Any) -> Tensor:
        return arithmetic.Pow.apply(*self._promote(exponent))

    def matmul(self, other: Tensor) -> Tensor:
        return _matmul(self, self._operand(other))

    def neg(self) -> Tensor:
        return arithmetic.Neg.apply(self)

    __add__ = add
    __sub__ = sub
    __mul__ = mul
    __truediv__ = div
    __pow__ = pow  # noqa: A003 - the method above
    __matmul__ = matmul
    __neg__ = neg
    __hash__ = object.__hash__

    def __radd__(self, other: Any) -> Tensor:
        return self.add(other)

    def __rsub__(self, other: Any) -> Tensor:
        b, a = self._promote(other)
        return arithmetic.Sub.apply(a, b)

    def __rmul__(self, other: Any) -> Tensor:
        return self.mul(other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _true_divide(self._operand(other), self)

    def __rpow__(self, other: Any) -> Tensor:
        b, a = self._promote(other)
        return arithmetic.Pow.apply(a, b)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _matmul(self._operand(other), self)

    def __pos__(self) -> Tensor:
        return self

    def _undifferentiable(self, other: Any, operation: np.ufunc) -> Tensor:
        """``operation(self, other)`` on the promoted arrays, outside the graph."""
        a, b = self._promote(other)
        return Tensor._from_array(operation(a._data, b._data if isinstance(b, Tensor) else b))

    def __floordiv__(self, other: Any) -> Tensor:
        """Floor division; not differentiable (its gradient is zero almost everywhere)."""
        return self._undifferentiable(other, np.floor_divide)

    def __mod__(self, other: Any) -> Tensor:
        """Remainder with the sign of the divisor, as in Python; not differentiable."""
        return self._undifferentiable(other, np.mod)

    def __abs__(self) -> Tensor:
        return self.abs()

    # ------------------------------------------------------------------ pointwise
    def exp(self) -> Tensor:
        return pointwise.Exp.apply(self._as_float())

    def log(self) -> Tensor:
        return pointwise.Log.apply(self._as_float())

    def sqrt(self) -> Tensor:
        return pointwise.Sqrt.apply(self._as_float())

    def rsqrt(self) -> Tensor:
        return 1 / self.sqrt()

    def sin(self) -> Tensor:
        return pointwise.Sin.apply(self._as_float())

    def cos(self) -> Tensor:
        return pointwise.Cos.apply(self._as_float())

    def abs(self) -> Tensor:
        return pointwise.Abs.apply(self)

    def sign(self) -> Tensor:
        """-1, 0 or 1 by the sign of each element; not differentiable."""
        return Tensor._from_array(np.sign(self._data))

    def square(self) -> Tensor:
        return arithmetic.Mul.apply(self, self)

    def clamp(self, min: Number | None = None, max: Number | None = None) -> Tensor:  # noqa: A002
        if min is None and max is None:
            raise RuntimeError("clamp: at least one of min and max must be given")
        return pointwise.Clamp.apply(self, min, max)

    clip = clamp

    def maximum(self, other: Tensor) -> Tensor:
        return pointwise.Maximum.apply(*self._promote(other))

    def minimum(self, other: Tensor) -> Tensor:
        return pointwise.Minimum.apply(*self._promote(other))

    def where(self, condition: Tensor, other: Any) -> Tensor:
        """Elements of self where ``condition`` holds, else of ``other``."""
        return where(condition, self, other)

    def relu(self) -> Tensor:
        return activation.relu(self)

    def sigmoid(self) -> Tensor:
        return activation.sigmoid(self)

    def tanh(self) -> Tensor:
        return activation.tanh(self)

    def softmax(self, dim: int) -> Tensor:
        return activation.softmax(self, dim)

    def log_softmax(self, dim: int) -> Tensor:
        return activation.log_softmax(self, dim)

    def _as_float(self) -> Tensor:
        """This tensor, converted to float32 first if it is integral (as torch.exp does)."""
        return self if self._data.dtype.kind == "f" else self.float()

    # ------------------------------------------------------------------ more math
    def log10(self) -> Tensor:
        return pointwise.Log10.apply(self._as_float())

    def log1p(self) -> Tensor:
        """ln(1 + x), accurate for tiny x."""
        return pointwise.Log1p.apply(self._as_float())

    def expm1(self) -> Tensor:
        """e^x - 1, accurate for tiny x."""
        return pointwise.Expm1.apply(self._as_float())

    def tan(self) -> Tensor:
        return pointwise.Tan.apply(self._as_float())

    def asin(self) -> Tensor:
        return pointwise.Asin.apply(self._as_float())

    def acos(self) -> Tensor:
        return pointwise.Acos.apply(self._as_float())

    def atan(self) -> Tensor:
        return pointwise.Atan.apply(self._as_float())

    def sinh(self) -> Tensor:
        return pointwise.Sinh.apply(self._as_float())

    def cosh(self) -> Tensor:
        return pointwise.Cosh.apply(self._as_float())

    def asinh(self) -> Tensor:
        return pointwise.Asinh.apply(self._as_float())

    def acosh(self) -> Tensor:
        return pointwise.Acosh.apply(self._as_float())

    def atanh(self) -> Tensor:
        return pointwise.Atanh.apply(self._as_float())

    arcsin, arccos, arctan = asin, acos, atan
    arcsinh, arccosh, arctanh = asinh, acosh, atanh

    def atan2(self, other: Any) -> Tensor:
        """The angle of the point (other, self) in (-pi, pi], element-wise."""
        a, b = self._promote(other)
        if a._data.dtype.kind != "f":
            a, b = a.float(), b.float() if isinstance(b, Tensor) else b
        return pointwise.Atan2.apply(a, b)

    arctan2 = atan2

    def fmod(self, other: Any) -> Tensor:
        """The remainder of self / other with the sign of self (C's fmod)."""
        a, b = self._promote(other)
        _check_integer_divisor(a, b, "fmod")
        return pointwise.Fmod.apply(a, b)

    def lerp(self, end: Tensor, weight: Any) -> Tensor:
        """Linear interpolation: self + weight * (end - self)."""
        if not isinstance(weight, Tensor):
            weight = builtins.float(weight)
        return pointwise.Lerp.apply(self, end, weight)

    def floor(self) -> Tensor:
        return self._step(np.floor)

    def ceil(self) -> Tensor:
        return self._step(np.ceil)

    def trunc(self) -> Tensor:
        """Round toward zero."""
        return self._step(np.trunc)

    fix = trunc

    def round(self, decimals: int = 0) -> Tensor:
        """Round to ``decimals`` decimal places, halves to the even neighbour (2.5 -> 2)."""
        return self._step(lambda a: np.round(a, decimals))

    def _step(self, compute: Any) -> Tensor:
        """A rounding function of this tensor; integer tensors are already whole (a copy)."""
        if self._data.dtype.kind != "f":
            return Tensor._from_array(self._data.copy())
        return pointwise.StepFunction.apply(compute, self)

    def isclose(
        self, other: Tensor, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False
    ) -> Tensor:
        """Element-wise |self - other| <= atol + rtol * |other|, as a bool tensor."""
        close = np.isclose(self._data, as_array(other), rtol=rtol, atol=atol, equal_nan=equal_nan)
        return Tensor._from_array(close)

    # ------------------------------------------------------------------ comparisons
    def _compare(self, other: Any, compare: np.ufunc) -> Tensor:
        return Tensor._from_array(compare(self._data, as_array(other)))

    def eq(self, other: Any) -> Tensor:
        return self._compare(other, np.equal)

    def ne(self, other: Any) -> Tensor:
        return self._compare(other, np.not_equal)

    def lt(self, other: Any) -> Tensor:
        return self._compare(other, np.less)

    def le(self, other: Any) -> Tensor:
        return self._compare(other, np.less_equal)

    def gt(self, other: Any) -> Tensor:
        return self._compare(other, np.greater)

    def ge(self, other: Any) -> Tensor:
        return self._compare(other, np.greater_equal)

    __eq__ = eq  # type: ignore[assignment]
    __ne__ = ne  # type: ignore[assignment]
    __lt__ = lt
    __le__ = le
    __gt__ = gt
    __ge__ = ge

    def logical_not(self) -> Tensor:
        return Tensor._from_array(np.logical_not(self._data))

    __invert__ = logical_not

    def __and__(self, other: Any) -> Tensor:
        return self._compare(other, np.logical_and if self.dtype is dtypes.bool else np.bitwise_and)

    def __or__(self, other: Any) -> Tensor:
        return self._compare(other, np.logical_or if self.dtype is dtypes.bool else np.bitwise_or)

    @accepts_numpy_names
    def all(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        axes = normalize_dims(dim, self.ndim)
        return Tensor._from_array(np.all(self._data, axis=axes, keepdims=keepdim))

    @accepts_numpy_names
    def any(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        axes = normalize_dims(dim, self.ndim)
        return Tensor._from_array(np.any(self._data, axis=axes, keepdims=keepdim))

    def allclose(self, other: Tensor, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
        return bool(np.allclose(self._data, as_array(other), rtol=rtol, atol=atol))

    def equal(self, other: Tensor) -> bool:
        return self.shape == other.shape and bool(np.array_equal(self._data, other._data))

    # ------------------------------------------------------------------ reductions
    @accepts_numpy_names
    def sum(
        self, dim: int | Sequence[int] | None = None, keepdim: bool = False, dtype: Any = None
    ) -> Tensor:
        source = self if dtype is None else self.type(dtype)
        if source._data.dtype.kind in "ub":
            source = source.long()  # PyTorch sums bools and small ints as int64
        return reduction.Sum.apply(source, normalize_dims(dim, self.ndim), keepdim)

    @accepts_numpy_names
    def mean(
        self, dim: int | Sequence[int] | None = None, keepdim: bool = False, dtype: Any = None
    ) -> Tensor:
        source = self if dtype is None else self.type(dtype)
        if not source.is_floating_point():
            raise RuntimeError(
                f"mean(): could not infer output dtype. Input dtype must be either a floating "
                f"point or complex dtype. Got: {self.dtype}; convert with .float() first"
            )
        return reduction.Mean.apply(source, normalize_dims(dim, self.ndim), keepdim)

    @accepts_numpy_names
    def var(
        self,
        dim: int | Sequence[int] | None = None,
        unbiased: bool | None = None,
        keepdim: bool = False,
        *,
        correction: int | None = None,
    ) -> Tensor:
        """Variance; ``correction=1`` (the default, same as ``unbiased=True``) divides by N-1."""
        if correction is None:
            correction = 0 if unbiased is False else 1
        axes = normalize_dims(dim, self.ndim)
        return reduction.Var.apply(self._as_float(), axes, correction, keepdim)

    @accepts_numpy_names
    def std(
        self,
        dim: int | Sequence[int] | None = None,
        unbiased: bool | None = None,
        keepdim: bool = False,
        *,
        correction: int | None = None,
    ) -> Tensor:
        return self.var(dim, unbiased, keepdim, correction=correction).sqrt()

    @accepts_numpy_names
    def max(self, dim: int | Tensor | None = None, keepdim: bool = False) -> Any:
        """The largest element, or with ``dim`` the (values, indices) along that dimension."""
        return self._extremum(dim, keepdim, largest=True)

    @accepts_numpy_names
    def min(self, dim: int | Tensor | None = None, keepdim: bool = False) -> Any:
        """The smallest element, or with ``dim`` the (values, indices) along that dimension."""
        return self._extremum(dim, keepdim, largest=False)

    def _extremum(self, dim: Any, keepdim: bool, largest: bool) -> Any:
        if isinstance(dim, Tensor):
            return self.maximum(dim) if largest else self.minimum(dim)
        if dim is None:
            return reduction.Extremum.apply(self, largest)
        indices = self.argmax(dim, keepdim=True) if largest else self.argmin(dim, keepdim=True)
        values = self.gather(dim, indices)
        if not keepdim:
            values, indices = values.squeeze(dim), indices.squeeze(dim)
        return ValuesIndices(values, indices)

    @accepts_numpy_names
    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return self._arg_extremum(np.argmax, dim, keepdim)

    @accepts_numpy_names
    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return self._arg_extremum(np.argmin, dim, keepdim)

    def _arg_extremum(self, find: Any, dim: int | None, keepdim: bool) -> Tensor:
        if dim is None:
            return Tensor._from_array(np.asarray(find(self._data), dtype=np.int64))
        axis = normalize_dim(dim, self.ndim)
        return Tensor._from_array(find(self._data, axis=axis, keepdims=keepdim).astype(np.int64))

    def topk(
        self,
        k: int,
        dim: int = -1,
        largest: bool = True,
        sorted: bool = True,  # noqa: A002 - PyTorch's name
    ) -> ValuesIndices:
        """The k largest elements along ``dim`` (smallest with ``largest=False``), best first.

        Shapes: (..., n, ...) -> values and indices (..., k, ...). Gradients of the values
        flow back to the chosen positions. ``sorted=False`` still returns them best first.
        """
        if self.ndim == 0:
            raise RuntimeError("topk: input is a 0-d tensor; give it a dimension (x.reshape(1))")
        axis = normalize_dim(dim, self.ndim)
        if not 0 <= k <= self.shape[axis]:
            raise RuntimeError(
                f"topk: k={k} is out of range for dimension {dim} of size {self.shape[axis]} "
                f"(input shape {self.shape}); choose 0 <= k <= {self.shape[axis]}"
            )
        indices = selection.topk_indices(self._data, k, axis, largest)
        values = shape_ops.Gather.apply(self, axis, indices)
        return ValuesIndices(values, Tensor._from_array(indices))

    def multinomial(
        self, num_samples: int, replacement: bool = False, *, generator: Any = None
    ) -> Tensor:
        """Category indices drawn with probability proportional to each row's weights.

        Shapes: (C,) -> (num_samples,); (B, C) -> (B, num_samples), int64.
        """
        samples = selection.sample_categories(
            self._data, num_samples, replacement, tt_random.rng(generator)
        )
        return Tensor._from_array(samples)

    @accepts_numpy_names
    def logsumexp(self, dim: int | Sequence[int], keepdim: bool = False) -> Tensor:
        """log(sum(exp(x))) over ``dim``, computed without overflow."""
        return reduction.LogSumExp.apply(self._as_float(), normalize_dims(dim, self.ndim), keepdim)

    @accepts_numpy_names
    def norm(self, p: float | str = 2, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """The p-norm: (sum |x|^p)^(1/p); ``p=2`` (or 'fro') is the Euclidean length."""
        if p in (2, "fro"):
            return (self * self).sum(dim, keepdim).sqrt()
        if p == 1:
            return self.abs().sum(dim, keepdim)
        return (self.abs() ** p).sum(dim, keepdim) ** (1 / p)

    # ------------------------------------------------------------------ more reductions
    @accepts_numpy_names
    def prod(self, dim: int | None = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
        """The product of all elements, or along one dimension ``dim``."""
        source = self if dtype is None else self.type(dtype)
        if source._data.dtype.kind in "iub":
            source = source.long()  # PyTorch multiplies bools and integers as int64
        axis = None if dim is None or self.ndim == 0 else normalize_dim(dim, self.ndim)
        return reduction.Prod.apply(source, axis, keepdim)

    def _one_axis(self, dim: int) -> tuple[Tensor, int]:
        """This tensor and ``dim`` as one of its axes; a 0-d tensor as 1-d (for scans)."""
        if self.ndim == 0:
            normalize_dim(dim, 0)
            return self.reshape(1), 0
        return self, normalize_dim(dim, self.ndim)

    def _integers_as_long(self, dtype: Any) -> Tensor:
        """Converted to ``dtype`` if given, else bools and integers to int64 (as PyTorch)."""
        if dtype is not None:
            return self.type(dtype)
        return self.long() if self._data.dtype.kind in "iub" else self

    def cumsum(self, dim: int, dtype: Any = None) -> Tensor:
        """Running sums along ``dim``: out[i] = x[0] + ... + x[i]."""
        source, axis = self._integers_as_long(dtype)._one_axis(dim)
        return reduction.CumSum.apply(source, axis).reshape(self.shape)

    def cumprod(self, dim: int, dtype: Any = None) -> Tensor:
        """Running products along ``dim``: out[i] = x[0] * ... * x[i]."""
        source, axis = self._integers_as_long(dtype)._one_axis(dim)
        return reduction.CumProd.apply(source, axis).reshape(self.shape)

    def logcumsumexp(self, dim: int) -> Tensor:
        """Running log-sum-exp along ``dim``: out[i] = log(e^x[0] + ... + e^x[i])."""
        source, axis = self._as_float()._one_axis(dim)
        return reduction.LogCumSumExp.apply(source, axis).reshape(self.shape)

    def cummax(self, dim: int) -> ValuesIndices:
        """Running maxima along ``dim`` and where each was found (the last on ties)."""
        return self._running_extremum(dim, largest=True)

    def cummin(self, dim: int) -> ValuesIndices:
        """Running minima along ``dim`` and where each was found (the last on ties)."""
        return self._running_extremum(dim, largest=False)

    def _running_extremum(self, dim: int, largest: bool) -> ValuesIndices:
        source, axis = self._one_axis(dim)
        indices = reduction.running_extremum_indices(source._data, axis, largest)
        values = shape_ops.Gather.apply(source, axis, indices)
        return ValuesIndices(
            values.reshape(self.shape), Tensor._from_array(indices.reshape(self.shape))
        )

    def sort(
        self,
        dim: int = -1,
        descending: bool = False,
        stable: bool = False,
    ) -> ValuesIndices:
        """The elements sorted along ``dim``, and their old positions. Equal elements keep
        their order (always stable; ``stable`` is accepted). Gradients flow to the positions."""
        source, axis = self._one_axis(dim)
        indices = selection.sort_indices(source._data, axis, descending)
        values = shape_ops.Gather.apply(source, axis, indices)
        return ValuesIndices(
            values.reshape(self.shape), Tensor._from_array(indices.reshape(self.shape))
        )

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
        """The positions that sort the elements along ``dim``."""
        return self.sort(dim, descending).indices

    def histc(self, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
        """Counts in ``bins`` equal bins over [min, max] (the data's range when min == max);
        elements outside are ignored. Not differentiable."""
        if not self.is_floating_point():
            raise RuntimeError(
                f"histc: expected a floating-point tensor, got {self.dtype}; use .float()"
            )
        if bins <= 0:
            raise RuntimeError(f"histc: bins must be > 0, got {bins}")
        low, high = builtins.float(min), builtins.float(max)
        if low > high:
            raise RuntimeError(f"histc: max ({high}) must be larger than min ({low})")
        if low == high and self.numel():
            low, high = builtins.float(self._data.min()), builtins.float(self._data.max())
        if low == high:
            low, high = low - 1, high + 1
        counts = reduction.histogram_counts(self._data, bins, low, high)
        return Tensor._from_array(counts.astype(self._data.dtype))

    def histogram(
        self,
        bins: int | Tensor = 100,
        *,
        range: tuple[float, float] | None = None,  # noqa: A002 - PyTorch's name
        weight: Tensor | None = None,
        density: bool = False,
    ) -> Histogram:
        """Counts (or weight sums, or a density) in ``bins`` bins: a number of equal bins over
        ``range`` (default the data's range) or a tensor of bin edges. Not differentiable."""
        if not self.is_floating_point():
            raise RuntimeError(
                f"histogram: expected a floating-point tensor, got {self.dtype}; use .float()"
            )
        edges = bins._data if isinstance(bins, Tensor) else builtins.int(bins)
        counts, edges = np.histogram(
            self._data,
            edges,
            range=range,
            weights=None if weight is None else as_array(weight),
            density=density,
        )
        dtype = self._data.dtype
        return Histogram(Tensor._from_array(counts.astype(dtype)), Tensor(edges.astype(dtype)))

    # ------------------------------------------------------------------ shape
    def reshape(self, *shape: Any) -> Tensor:
        sizes = sizes_argument(shape)
        if sizes and builtins.min(sizes) < -1:  # NumPy would read any negative size as -1
            raise RuntimeError(_reshape_problem(sizes, self.numel()))
        try:
            return self._view(shape_ops.Reshape, sizes)
        except NotImplementedError:  # an exercise not written yet (also a RuntimeError)
            raise
        except RuntimeError:
            raise RuntimeError(_reshape_problem(sizes, self.numel())) from None

    view = reshape

    def view_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        if self.ndim == 0:
            return self.reshape(1)
        start, end = normalize_dim(start_dim, self.ndim), normalize_dim(end_dim, self.ndim)
        if start > end:
            raise RuntimeError(
                f"flatten() has invalid args: start_dim ({start_dim}) cannot come after end_dim "
                f"({end_dim})"
            )
        sizes = self.shape
        return self.reshape(*sizes[:start], -1, *sizes[end + 1 :])

    def unflatten(self, dim: int, sizes: Sequence[int]) -> Tensor:
        axis = normalize_dim(dim, self.ndim)
        return self.reshape(*self.shape[:axis], *sizes, *self.shape[axis + 1 :])

    def squeeze(self, dim: int | None = None) -> Tensor:
        if dim is None:
            return self.reshape(tuple(size for size in self.shape if size != 1))
        axis = normalize_dim(dim, self.ndim)
        if self.ndim == 0 or self.shape[axis] != 1:
            return self
        return self.reshape(self.shape[:axis] + self.shape[axis + 1 :])

    def unsqueeze(self, dim: int) -> Tensor:
        axis = normalize_dim(dim, self.ndim + 1)
        return self.reshape(self.shape[:axis] + (1,) + self.shape[axis:])

    def permute(self, *dims: Any) -> Tensor:
        order = sizes_argument(dims)
        axes = tuple(normalize_dim(d, self.ndim) for d in order[: self.ndim])
        if len(order) != self.ndim or sorted(axes) != list(range(self.ndim)):
            raise RuntimeError(
                f"permute: dims {list(order)} must be a permutation of the {self.ndim} "
                f"dimensions of a tensor of shape {self.shape}"
            )
        return self._view(shape_ops.Permute, axes)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        axes = list(range(self.ndim))
        first, second = normalize_dim(dim0, self.ndim), normalize_dim(dim1, self.ndim)
        axes[first], axes[second] = axes[second], axes[first]
        return self._view(shape_ops.Permute, tuple(axes))

    def t(self) -> Tensor:
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, got {self.shape}")
        return self.T

    def expand(self, *sizes: Any) -> Tensor:
        """A broadcast view of this tensor at ``sizes``; -1 keeps a dimension's size."""
        target = sizes_argument(sizes)
        lead = len(target) - self.ndim
        if lead < 0:
            raise RuntimeError(
                f"expand: the number of sizes ({len(target)}) must be at least the number of "
                f"dimensions ({self.ndim}) of a tensor of shape {self.shape}"
            )
        resolved = tuple(
            self.shape[i - lead] if size == -1 and i >= lead else size
            for i, size in enumerate(target)
        )
        if any(
            size != target_size and size != 1
            for size, target_size in zip(self.shape, resolved[lead:], strict=True)
        ):
            raise RuntimeError(
                f"expand: a tensor of shape {self.shape} cannot be expanded to {resolved}: "
                f"only size-1 dimensions can change size"
            )
        return self._view(shape_ops.Expand, resolved)

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other.shape)

    def repeat(self, *sizes: Any) -> Tensor:
        repeats = sizes_argument(sizes)
        if len(repeats) < self.ndim:
            raise RuntimeError(
                f"repeat: number of repeat dims ({len(repeats)}) can not be smaller than the "
                f"number of tensor dims ({self.ndim})"
            )
        return shape_ops.Repeat.apply(self, repeats)

    def split(self, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple:
        """Pieces along ``dim``: each of ``split_size`` (the last may be smaller), or sized
        by the list ``sections``."""
        axis = normalize_dim(dim, self.ndim)
        length = self.shape[axis]
        if isinstance(split_size_or_sections, (int, np.integer)):
            step = builtins.max(int(split_size_or_sections), 1)
            sizes = [builtins.min(step, length - start) for start in range(0, length, step)]
        else:
            sizes = list(split_size_or_sections)
            if sum(sizes) != length:
                raise RuntimeError(
                    f"split: sections {sizes} sum to {sum(sizes)}, but dimension {dim} has "
                    f"size {length}"
                )
        return tuple(self.narrow(axis, start, size) for start, size in _offsets(sizes))

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        length = self.shape[normalize_dim(dim, self.ndim)]
        return self.split(-(-length // chunks), dim)

    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        axis = normalize_dim(dim, self.ndim)
        index = (slice(None),) * axis + (slice(start, start + length),)
        return self._view(shape_ops.GetItem, index)

    def unbind(self, dim: int = 0) -> tuple:
        axis = normalize_dim(dim, self.ndim)
        return tuple(self.select(axis, i) for i in range(self.shape[axis]))

    def select(self, dim: int, index: int) -> Tensor:
        axis = normalize_dim(dim, self.ndim)
        return self._view(shape_ops.GetItem, (slice(None),) * axis + (int(index), ...))

    def tril(self, diagonal: int = 0) -> Tensor:
        """The lower triangle (elements on or below ``diagonal``); the rest set to 0."""
        return self._triangle(diagonal, upper=False)

    def triu(self, diagonal: int = 0) -> Tensor:
        """The upper triangle (elements on or above ``diagonal``); the rest set to 0."""
        return self._triangle(diagonal, upper=True)

    def _triangle(self, diagonal: int, upper: bool) -> Tensor:
        """Keep the last two dims' elements on one side of ``diagonal``; zero the others."""
        if self.ndim < 2:
            raise RuntimeError(
                f"{'triu' if upper else 'tril'}: input tensor must have at least 2 dimensions, "
                f"got shape {self.shape}"
            )
        rows, columns = self.shape[-2:]
        lower = np.tri(rows, columns, k=diagonal - 1 if upper else diagonal, dtype=bool)
        keep = ~lower if upper else lower
        return pointwise.Where.apply(keep, self, np.zeros((), dtype=self._data.dtype))

    def masked_fill(self, mask: Tensor, value: Number) -> Tensor:
        """``value`` where ``mask`` is True, this tensor elsewhere (mask broadcasts)."""
        mask_array = _bool_mask(mask, "masked_fill")
        fill = value.item() if isinstance(value, Tensor) else value
        return pointwise.Where.apply(mask_array, np.asarray(fill, dtype=self._data.dtype), self)

    def gather(self, dim: int, index: Tensor) -> Tensor:
        """out[i][j] = self[i][index[i][j]] for dim=1 (likewise for any dim)."""
        index_array = as_array(index)
        if index_array.dtype.kind not in "iu":
            raise RuntimeError(f"gather(): Expected dtype int64 for index, got {index.dtype}")
        if index_array.ndim != self.ndim:
            raise RuntimeError(
                f"gather: index has {index_array.ndim} dimensions but the input has "
                f"{self.ndim} (shape {self.shape}); they must be equal"
            )
        return shape_ops.Gather.apply(self, normalize_dim(dim, self.ndim), index_array)

    def __getitem__(self, index: Any) -> Tensor:
        return self._view(shape_ops.GetItem, _view_index(_numpy_index(index)))

    def _view(self, function: type, argument: Any) -> Tensor:
        """``function.apply(self, argument)`` for reshape, permute, expand and indexing.

        Where NumPy returns a view (basic indexing, and reshape when no copy is needed), the
        result shares this tensor's memory, so it shares its version counter too and
        remembers how it was made: an in-place change of the view is then recorded on this
        tensor as well (``_record_inplace``).
        """
        out = function.apply(self, argument)
        if np.may_share_memory(out._data, self._data):
            out._version_counter = self._version_counter
            out._view_of = (self, function, argument)
        return out

    def __setitem__(self, index: Any, value: Any) -> None:
        """``self[index] = value`` in place; recorded by autograd as ``IndexPut``."""
        numpy_index = _numpy_index(index)
        if self._begin_inplace("__setitem__", value):
            source = value if isinstance(value, Tensor) else Tensor(value)
            self._take_result("__setitem__", shape_ops.IndexPut.apply(self, numpy_index, source))
            return
        self._data[numpy_index] = as_array(value)
        self._version_counter.value += 1

    # ------------------------------------------------------------------ more indexing
    def flip(self, *dims: Any) -> Tensor:
        """The elements in reverse order along each of ``dims`` (a copy)."""
        axes = tuple(normalize_dim(d, self.ndim) for d in sizes_argument(dims))
        return shape_ops.Flip.apply(self, axes)

    def roll(self, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None) -> Tensor:
        """The elements shifted by ``shifts`` along ``dims``, wrapping around; without
        ``dims`` the tensor is rolled as if flattened."""
        shift_list = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
        if dims is None:
            return shape_ops.Roll.apply(self, shift_list, None)
        dim_list = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
        if len(shift_list) != len(dim_list):
            raise RuntimeError(
                f"roll: shifts and dims must have the same length, got {len(shift_list)} "
                f"shifts and {len(dim_list)} dims"
            )
        axes = tuple(normalize_dim(d, self.ndim) for d in dim_list)
        return shape_ops.Roll.apply(self, shift_list, axes)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        """The diagonal of the matrices over ``dim1`` and ``dim2`` (above it for
        ``offset`` > 0), as a new last dimension."""
        axis1, axis2 = normalize_dim(dim1, self.ndim), normalize_dim(dim2, self.ndim)
        if axis1 == axis2:
            raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
        return shape_ops.Diagonal.apply(self, offset, axis1, axis2)

    def _index_along(self, operation: str, dim: int, index: Any) -> tuple[int, np.ndarray]:
        """``dim`` as an axis and ``index`` as an int64 array, checked as scatter needs."""
        index_array = as_array(index)
        if index_array.dtype != np.int64:
            raise RuntimeError(f"{operation}(): Expected dtype int64 for index")
        axis = normalize_dim(dim, self.ndim)
        if index_array.ndim != self.ndim:
            raise RuntimeError(
                f"{operation}: index has {index_array.ndim} dimensions but the tensor has "
                f"{self.ndim} (shape {self.shape}); they must be equal"
            )
        size = self.shape[axis] if self.ndim else 1
        if index_array.size and (index_array.min() < -size or index_array.max() >= size):
            raise RuntimeError(
                f"{operation}: index {index_array.max()} is out of bounds for dimension {dim} "
                f"with size {size}"
            )
        return axis, index_array % builtins.max(size, 1)

    def scatter(
        self, dim: int, index: Tensor, src: Any = None, *, value: Any = None, reduce: Any = None
    ) -> Tensor:
        """A copy with ``src`` (a tensor, or the number ``value``) written at ``index`` along
        ``dim``: out[index[i][j]][j] = src[i][j] for dim=0. ``reduce='add'`` or
        ``'multiply'`` combines instead (as ``scatter_reduce``)."""
        source = value if src is None else src
        if reduce is not None:
            return self._scatter_combining(dim, index, source, reduce)
        axis, index_array = self._index_along("scatter", dim, index)
        if isinstance(source, Tensor):
            source = source.type(self.dtype)
        return shape_ops.Scatter.apply(self, axis, index_array, source)

    def _scatter_combining(self, dim: int, index: Tensor, source: Any, reduce: str) -> Tensor:
        """``scatter``'s older ``reduce='add'`` or ``'multiply'``, as ``scatter_reduce``."""
        names = {"add": "sum", "multiply": "prod"}
        if reduce not in names:
            raise RuntimeError(f"scatter: reduce must be either add or multiply, got {reduce}")
        if not isinstance(source, Tensor):
            source = Tensor._from_array(np.full(as_array(index).shape, source, self._data.dtype))
        return self.scatter_reduce(dim, index, source, names[reduce])

    def scatter_reduce(
        self, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True
    ) -> Tensor:
        """Combine each src[i][j] into out[index[i][j]][j] (dim=0) by ``reduce``: 'sum',
        'prod', 'mean', 'amax' or 'amin'; ``include_self=False`` leaves this tensor's values
        out of the places written to."""
        if reduce not in shape_ops.REDUCERS:
            raise RuntimeError(
                f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}"
            )
        axis, index_array = self._index_along("scatter_reduce", dim, index)
        source = src.type(self.dtype)
        return shape_ops.ScatterReduce.apply(self, axis, index_array, source, reduce, include_self)

    def nonzero(self, *, as_tuple: bool = False) -> Any:
        """The positions of the non-zero elements: an int64 (count, ndim) tensor, or one
        1-d tensor per dimension with ``as_tuple=True``. Not differentiable."""
        if as_tuple:
            positions = np.nonzero(np.atleast_1d(self._data))
            return tuple(Tensor._from_array(p.astype(np.int64)) for p in positions)
        return Tensor._from_array(np.argwhere(self._data).astype(np.int64))

    def masked_select(self, mask: Tensor) -> Tensor:
        """The elements where ``mask`` (which broadcasts) is True, as a 1-d tensor."""
        mask_array = _bool_mask(mask, "masked_select")
        shape = np.broadcast_shapes(self.shape, mask_array.shape)
        return self.expand(shape)[np.broadcast_to(mask_array, shape)]

    def repeat_interleave(
        self,
        repeats: int | Tensor | None = None,
        dim: int | None = None,
        *,
        output_size: int | None = None,
    ) -> Tensor:
        """Each element repeated ``repeats`` times (a number, or one count per element)
        along ``dim``, or of the flattened tensor. ``repeat_interleave(counts)`` alone
        repeats 0, 1, 2, ... by ``counts``."""
        if repeats is None:
            counts = self._data
            return Tensor._from_array(np.repeat(np.arange(len(counts)), counts))
        source = self.reshape(-1) if dim is None else self
        axis = 0 if dim is None else normalize_dim(dim, self.ndim)
        counts = as_array(repeats)
        if np.any(counts < 0):
            raise RuntimeError("repeat_interleave: repeats can not be negative")
        positions = np.repeat(np.arange(source.shape[axis]), counts)
        return source[(slice(None),) * axis + (positions,)]

    def unfold(self, dimension: int, size: int, step: int) -> Tensor:
        """Every window of ``size`` elements along ``dimension``, ``step`` apart: that
        dimension becomes the number of windows, and each window a new last dimension."""
        source, axis = self._one_axis(dimension)
        length = source.shape[axis]
        if size > length or size < 0 or step <= 0:
            raise RuntimeError(
                f"unfold: maximum size for tensor at dimension {dimension} is {length} but "
                f"size is {size}; the step must be positive (got {step})"
            )
        starts = np.arange(0, length - size + 1, step)
        windows = source[(slice(None),) * axis + (starts[:, None] + np.arange(size),)]
        return windows.movedim(axis + 1, -1) if self.ndim else windows.reshape(size)

    def movedim(self, source: int, destination: int) -> Tensor:
        """Dimension ``source`` moved to position ``destination``; the others keep order."""
        order = list(range(self.ndim))
        order.insert(
            normalize_dim(destination, self.ndim), order.pop(normalize_dim(source, self.ndim))
        )
        return self.permute(order)

    def mm(self, mat2: Tensor) -> Tensor:
        """The product of two matrices: (n, m) @ (m, p) -> (n, p)."""
        if self.ndim != 2 or mat2.ndim != 2:
            raise RuntimeError(
                f"mm: self must be a matrix and mat2 a matrix, got shapes {self.shape} and "
                f"{mat2.shape}; use matmul for other shapes"
            )
        if self.shape[1] != mat2.shape[0]:
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({self.shape[0]}x{self.shape[1]} "
                f"and {mat2.shape[0]}x{mat2.shape[1]})"
            )
        return self.matmul(mat2)

    def bmm(self, mat2: Tensor) -> Tensor:
        """A batch of matrix products: (b, n, m) @ (b, m, p) -> (b, n, p)."""
        if self.ndim != 3 or mat2.ndim != 3:
            raise RuntimeError(
                f"bmm: batch1 and batch2 must be 3-D tensors, got shapes {self.shape} and "
                f"{mat2.shape}"
            )
        expected = (self.shape[0], self.shape[2])
        if mat2.shape[:2] != expected:
            raise RuntimeError(
                f"Expected size for first two dimensions of batch2 tensor to be: "
                f"{list(expected)} but got: {list(mat2.shape[:2])}."
            )
        return self.matmul(mat2)

    def nelement(self) -> int:
        """The number of elements (the same as ``numel``)."""
        return self.numel()

    # ------------------------------------------------------------------ in place
    # An in-place operation writes into this tensor's memory and bumps its version counter.
    # When autograd must record it, the new values are computed out of place (from a clone, so
    # that arrays saved for backward keep the old values), written into this tensor's memory,
    # and this tensor takes the result's place in the graph, as in PyTorch.

    def _begin_inplace(self, operation: str, *others: Any) -> bool:
        """Check that this tensor may be changed in place; return whether to record it.

        Refused, with PyTorch's message, for a leaf that requires grad (or a view of one)
        while gradients are recorded: its gradient would no longer belong to its values.
        Recorded when gradients are on and this tensor or one of ``others`` requires grad.
        """
        if not self._data.flags.writeable:
            raise RuntimeError(
                f"{operation}: unsupported operation: more than one element of the written-to "
                f"tensor refers to a single memory location. Please clone() the tensor before "
                f"performing the operation."
            )
        if not grad_mode.is_grad_enabled():
            return False
        base = self
        while base._view_of is not None:
            base = base._view_of[0]
        if base._requires_grad and base.grad_fn is None:
            leaf = "a leaf Variable" if base is self else "a view of a leaf Variable"
            raise RuntimeError(
                f"{leaf} that requires grad is being used in an in-place operation. "
                f"({operation}: wrap the update in `with tinytorch.no_grad():`, as optimizers "
                f"do, or use the out-of-place form)"
            )
        return self._requires_grad or builtins.any(
            isinstance(other, Tensor) and other._requires_grad for other in others
        )

    def _take_result(self, operation: str, result: Tensor) -> Tensor:
        """Write ``result`` (the new values, computed out of place and recorded) into this
        tensor's memory, and make it this tensor's place in the graph."""
        if result.shape != self.shape:
            raise RuntimeError(
                f"{operation}: output with shape {list(self.shape)} doesn't match the "
                f"broadcast shape {list(result.shape)}"
            )
        if result._data.dtype != self._data.dtype:
            if not np.can_cast(result._data.dtype, self._data.dtype, "same_kind"):
                raise RuntimeError(
                    f"{operation}: result type {result.dtype} can't be cast to the desired "
                    f"output type {self.dtype}"
                )
            result = result.type(self.dtype)
        self._data[...] = result._data
        self._version_counter.value += 1
        self._record_inplace(result)
        return self

    def _record_inplace(self, result: Tensor) -> None:
        """Make ``result``, whose values this tensor now holds, this tensor's graph node.

        A view passes the change on to the tensor it views, whose new value is its old value
        with the view's positions replaced (``IndexPut``), or, for a view of all of it, the
        view reshaped or permuted back.
        """
        self.grad_fn, self._requires_grad = result.grad_fn, result._requires_grad
        if self._view_of is None:
            return
        base, function, argument = self._view_of
        if function is shape_ops.GetItem:
            base_result = shape_ops.IndexPut.apply(base, argument, self)
        elif function is shape_ops.Reshape:
            base_result = shape_ops.Reshape.apply(self, base.shape)
        else:  # Permute; Expand views are read-only
            base_result = shape_ops.Permute.apply(self, tuple(np.argsort(argument)))
        base._record_inplace(base_result)

    def _replaced_by(self, values: Any) -> Tensor:
        """Out of place: ``values`` broadcast to this tensor's shape, recorded so that the
        gradient flows into ``values`` (if a tensor) and none into this tensor."""
        return pointwise.Where.apply(np.True_, values, self)

    def _fill(self, values: Any) -> Tensor:
        """Write ``values`` (broadcast) into this tensor's memory, outside the graph."""
        self._data[...] = values
        self._version_counter.value += 1
        return self

    def _update(self, operation: str, ufunc: np.ufunc, other: Any) -> Tensor:
        """``self = ufunc(self, other)`` in this tensor's memory, outside the graph."""
        other = other._data if isinstance(other, Tensor) else other
        try:
            ufunc(self._data, other, out=self._data)
        except (ValueError, TypeError) as error:
            raise RuntimeError(
                f"{operation}: {error} (an in-place result keeps the shape {self.shape} and "
                f"dtype {self.dtype} of the tensor it updates)"
            ) from error
        self._version_counter.value += 1
        return self

    def add_(self, other: Any, alpha: Number = 1) -> Tensor:
        if self._begin_inplace("add_", other):
            return self._take_result("add_", self.clone().add(other, alpha))
        return self._update("add_", np.add, other if alpha == 1 else as_array(other) * alpha)

    def sub_(self, other: Any, alpha: Number = 1) -> Tensor:
        if self._begin_inplace("sub_", other):
            return self._take_result("sub_", self.clone().sub(other, alpha))
        return self._update("sub_", np.subtract, other if alpha == 1 else as_array(other) * alpha)

    def mul_(self, other: Any) -> Tensor:
        if self._begin_inplace("mul_", other):
            return self._take_result("mul_", self.clone().mul(other))
        return self._update("mul_", np.multiply, other)

    def div_(self, other: Any) -> Tensor:
        if self._begin_inplace("div_", other):
            return self._take_result("div_", self.clone().div(other))
        return self._update("div_", np.true_divide, other)

    # ``a += b`` changes ``a`` in place, as in PyTorch (without these, Python would rebind ``a``
    # to a new tensor and a layer's parameter would keep its old values).
    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    def zero_(self) -> Tensor:
        if self._begin_inplace("zero_"):
            return self._take_result("zero_", self._replaced_by(np.zeros((), self._data.dtype)))
        return self._fill(0)

    def fill_(self, value: Number | Tensor) -> Tensor:
        if self._begin_inplace("fill_", value):
            return self._take_result("fill_", self._replaced_by(value))
        return self._fill(value.item() if isinstance(value, Tensor) else value)

    def copy_(self, source: Tensor) -> Tensor:
        source_array = as_array(source)
        try:
            np.broadcast_shapes(source_array.shape, self.shape)
        except ValueError:
            raise RuntimeError(
                f"copy_: source of shape {source_array.shape} cannot be broadcast to the "
                f"destination's shape {self.shape}"
            ) from None
        if self._begin_inplace("copy_", source):
            return self._take_result("copy_", self._replaced_by(source))
        return self._fill(source_array)

    def clamp_(self, min: Number | None = None, max: Number | None = None) -> Tensor:  # noqa: A002
        if self._begin_inplace("clamp_"):
            return self._take_result("clamp_", self.clone().clamp(min, max))
        return self._fill(np.clip(self._data, min, max))

    def masked_fill_(self, mask: Tensor, value: Number) -> Tensor:
        if self._begin_inplace("masked_fill_"):
            return self._take_result("masked_fill_", self.clone().masked_fill(mask, value))
        self._data[np.broadcast_to(_bool_mask(mask, "masked_fill_"), self.shape)] = value
        self._version_counter.value += 1
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
        values = tt_random.rng(generator).uniform(a, b, self.shape)
        if self._begin_inplace("uniform_"):
            return self._take_result("uniform_", self._replaced_by(values))
        return self._fill(values)

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
        values = tt_random.rng(generator).normal(mean, std, self.shape)
        if self._begin_inplace("normal_"):
            return self._take_result("normal_", self._replaced_by(values))
        return self._fill(values)

    def new_zeros(self, *sizes: Any) -> Tensor:
        return Tensor._from_array(np.zeros(sizes_argument(sizes), dtype=self._data.dtype))

    def new_ones(self, *sizes: Any) -> Tensor:
        return Tensor._from_array(np.ones(sizes_argument(sizes), dtype=self._data.dtype))

    def new_tensor(self, data: Any) -> Tensor:
        return Tensor._from_array(as_array(data, self._data.dtype).copy())


def _true_divide(numerator: Any, denominator: Any) -> Tensor:
    """``numerator / denominator`` where at least one is a tensor.

    The operands meet at their promoted dtype; if that is an integer or bool type, each is
    converted to float32 from its own values instead (so int8 -1 / uint8 4 is -0.25).
    """
    numerator_is_tensor = isinstance(numerator, Tensor)
    first, second = (numerator, denominator) if numerator_is_tensor else (denominator, numerator)
    a, b = first._promote(second)
    if a._data.dtype.kind != "f":
        a, b = first.float(), second.float() if isinstance(second, Tensor) else second
    return arithmetic.Div.apply(a, b) if numerator_is_tensor else arithmetic.Div.apply(b, a)


def _trunc_divide(a: np.ndarray, b: Any) -> np.ndarray:
    """a / b rounded toward zero, exactly for integers (floor division, then one step up
    where the quotient is negative and inexact)."""
    if np.result_type(a, b).kind == "f":
        return np.trunc(np.true_divide(a, b))
    quotient = np.floor_divide(a, b)
    return quotient + ((np.remainder(a, b) != 0) & ((a < 0) != (np.asarray(b) < 0)))


def _check_integer_divisor(a: Tensor, b: Any, operation: str) -> None:
    """Integer division by zero has no value: raise as PyTorch does (NumPy would give 0)."""
    divisor = b._data if isinstance(b, Tensor) else np.asarray(b)
    if a._data.dtype.kind in "iub" and divisor.dtype.kind in "iub" and np.any(divisor == 0):
        raise RuntimeError(f"ZeroDivisionError: {operation} of integers by zero")


def _matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b``; batch dimensions that do not broadcast get PyTorch's message. Inside an
    ``autocast`` region, float32 operands are cast to its dtype first."""
    a, b = autocast_mode.cast_arguments(a, b)
    try:
        return arithmetic.MatMul.apply(a, b)
    except RuntimeError:
        batch_a, batch_b = a.shape[:-2], b.shape[:-2]
        length = builtins.max(len(batch_a), len(batch_b))
        padded_a = (1,) * (length - len(batch_a)) + batch_a
        padded_b = (1,) * (length - len(batch_b)) + batch_b
        for dim, (size_a, size_b) in enumerate(zip(padded_a, padded_b, strict=True)):
            if size_a != size_b and 1 not in (size_a, size_b):
                raise RuntimeError(
                    f"matmul: the batch dimensions of shapes {a.shape} and {b.shape} do not "
                    f"broadcast: the size of tensor a ({size_a}) must match the size of tensor "
                    f"b ({size_b}) at non-singleton dimension {dim}"
                ) from None
        raise


def _reshape_problem(sizes: tuple[int, ...], numel: int) -> str:
    """Why ``sizes`` is not a shape for ``numel`` elements, in PyTorch's words."""
    if sizes.count(-1) > 1:
        return f"only one dimension can be inferred (shape {list(sizes)})"
    for size in sizes:
        if size < -1:
            return f"invalid shape dimension {size} (shape {list(sizes)})"
    return f"shape '{list(sizes)}' is invalid for input of size {numel}"


def _offsets(sizes: Sequence[int]) -> Iterator[tuple[int, int]]:
    """(start, size) of consecutive pieces with the given sizes."""
    start = 0
    for size in sizes:
        yield start, size
        start += size


def _bool_mask(mask: Any, operation: str) -> np.ndarray:
    mask_array = as_array(mask)
    if mask_array.dtype != np.bool_:
        raise RuntimeError(
            f"{operation} only supports boolean masks, but got mask with dtype "
            f"{dtypes.from_numpy_dtype(mask_array.dtype)}"
        )
    return mask_array


def _view_index(index: Any) -> Any:
    """``index`` with a trailing ``...`` where it has none.

    NumPy returns a copied scalar for ``a[0, 1]`` but a 0-d view for ``a[0, 1, ...]``; the view
    lets ``x[0, 1] += 1`` change ``x`` in place.
    """
    if isinstance(index, tuple):
        return index if builtins.any(part is Ellipsis for part in index) else (*index, ...)
    return index if index is Ellipsis else (index, ...)


def _numpy_index(index: Any) -> Any:
    """An index with every Tensor in it replaced by its array (bool masks, integer indices)."""
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(part._data if isinstance(part, Tensor) else part for part in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def where(condition: Tensor, input: Any, other: Any) -> Tensor:  # noqa: A002
    """``input`` where ``condition`` is True, else ``other`` (all three broadcast)."""
    condition_array = _bool_mask(condition, "where")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = Tensor(input)  # noqa: A001 - two Python numbers: the first sets the dtype
    if isinstance(input, Tensor):
        chosen, otherwise = input._promote(other)
    else:
        otherwise, chosen = other._promote(input)
    return pointwise.Where.apply(condition_array, chosen, otherwise)


# ``tinytorch.amp`` imports this module (its GradScaler handles Tensors), so autocast's state
# is imported once ``Tensor`` exists; ``_matmul`` reads it when it runs.
from tinytorch.amp import autocast_mode  # noqa: E402
