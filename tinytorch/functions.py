"""PyTorch's top-level functions: ``tinytorch.cat``, ``tinytorch.exp``, ``tinytorch.sum``, ...

Most are the matching ``Tensor`` method called as a function (``tinytorch.exp(x)`` is
``x.exp()``); ``cat`` and ``stack`` join several tensors and exist only here.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from tinytorch import dtypes
from tinytorch.ops import arithmetic
from tinytorch.ops import shape as shape_ops
from tinytorch.tensor import Tensor, normalize_dim, where

__all__ = [
    "abs", "add", "all", "allclose", "any", "argmax", "argmin", "cat", "chunk", "clamp", "clip",
    "concat", "concatenate", "cos", "div", "divide", "eq", "equal", "exp", "flatten", "gather",
    "ge", "gt", "is_tensor", "le", "log", "log_softmax", "logical_not", "logsumexp", "lt",
    "masked_fill", "matmul", "max", "maximum", "mean", "min", "minimum", "mul", "multiply",
    "narrow", "ne", "neg", "negative", "norm", "numel", "permute", "pow", "relu", "reshape",
    "rsqrt", "sigmoid", "sign", "sin", "softmax", "split", "sqrt", "square", "squeeze", "stack",
    "std", "sub", "subtract", "sum", "t", "tanh", "topk", "multinomial", "transpose", "tril",
    "triu", "unbind",
    "unsqueeze", "var", "where",
    "log10", "log1p", "expm1", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh",
    "atanh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "atan2", "arctan2",
    "fmod", "lerp", "floor", "ceil", "round", "trunc", "fix", "isclose", "true_divide",
    "prod", "cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "sort", "argsort", "histc",
    "histogram", "std_mean", "var_mean",
    "flip", "roll", "diagonal", "scatter", "scatter_reduce", "nonzero", "masked_select",
    "repeat_interleave", "movedim", "mm", "bmm", "einsum",
]  # fmt: skip


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension; all other sizes must match."""
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("cat(): expected a non-empty list of tensors")
    first = tensors[0]
    if first.ndim == 0:
        raise RuntimeError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    axis = normalize_dim(dim, first.ndim)
    for position, other in enumerate(tensors[1:], start=1):
        if other.ndim != first.ndim or _without(other.shape, axis) != _without(first.shape, axis):
            raise RuntimeError(
                f"cat: sizes of tensors must match except in dimension {dim}; tensor 0 has "
                f"shape {first.shape} but tensor {position} has shape {other.shape}"
            )
    dtype = functools.reduce(dtypes.promote_types, (tensor._data.dtype for tensor in tensors))
    return shape_ops.Cat.apply(axis, *(tensor.type(dtype) for tensor in tensors))


concat = concatenate = cat


def _tensor_list(tensors: Sequence[Tensor], operation: str) -> list[Tensor]:
    """``tensors`` as a list, each checked to be a tensor (PyTorch's TypeErrors)."""
    if isinstance(tensors, Tensor):
        raise TypeError(
            f"{operation}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
            f"Tensor; pass a list or tuple of tensors"
        )
    tensors = list(tensors)
    for position, item in enumerate(tensors):
        if not isinstance(item, Tensor):
            raise TypeError(
                f"expected Tensor as element {position} in argument 0, but got "
                f"{type(item).__name__}; {operation}() joins tensors: convert it with "
                f"tinytorch.tensor(...)"
            )
    return tensors


def _without(shape: tuple[int, ...], axis: int) -> tuple[int, ...]:
    """``shape`` with the size at ``axis`` left out."""
    return shape[:axis] + shape[axis + 1 :]


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dimension ``dim``."""
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise ValueError("stack(): expected a non-empty list of tensors")
    for position, other in enumerate(tensors[1:], start=1):
        if other.shape != tensors[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {tensors[0].shape} at "
                f"entry 0 and {other.shape} at entry {position}"
            )
    axis = normalize_dim(dim, tensors[0].ndim + 1)
    return cat([tensor.unsqueeze(axis) for tensor in tensors], axis)


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:  # noqa: A002
    return input.numel()


def _method(name: str) -> Any:
    """The function form ``tinytorch.NAME(input, ...)`` of the method ``Tensor.NAME``."""
    method = getattr(Tensor, name)

    def function(input: Tensor, *args: Any, **kwargs: Any) -> Any:  # noqa: A002
        return method(input, *args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``tinytorch.{name}(input, ...)`` is ``input.{name}(...)``."
    return function


abs = _method("abs")  # noqa: A001
add = _method("add")
all = _method("all")  # noqa: A001
any = _method("any")  # noqa: A001
div = divide = _method("div")
eq = _method("eq")
ge = _method("ge")
gt = _method("gt")
le = _method("le")
logical_not = _method("logical_not")
lt = _method("lt")
mul = multiply = _method("mul")
ne = _method("ne")
neg = negative = _method("neg")
pow = _method("pow")  # noqa: A001
rsqrt = _method("rsqrt")
sign = _method("sign")
sub = subtract = _method("sub")
allclose = _method("allclose")
argmax = _method("argmax")
argmin = _method("argmin")
chunk = _method("chunk")
clamp = _method("clamp")
clip = _method("clip")
cos = _method("cos")
equal = _method("equal")
exp = _method("exp")
flatten = _method("flatten")
gather = _method("gather")
log = _method("log")
logsumexp = _method("logsumexp")
masked_fill = _method("masked_fill")
matmul = _method("matmul")
max = _method("max")  # noqa: A001
maximum = _method("maximum")
mean = _method("mean")
min = _method("min")  # noqa: A001
minimum = _method("minimum")
narrow = _method("narrow")
norm = _method("norm")
permute = _method("permute")
reshape = _method("reshape")
sin = _method("sin")
split = _method("split")
sqrt = _method("sqrt")
square = _method("square")
squeeze = _method("squeeze")
std = _method("std")
sum = _method("sum")  # noqa: A001
t = _method("t")
transpose = _method("transpose")
topk = _method("topk")
multinomial = _method("multinomial")
tril = _method("tril")
triu = _method("triu")
unbind = _method("unbind")
unsqueeze = _method("unsqueeze")
var = _method("var")
relu = _method("relu")
sigmoid = _method("sigmoid")
tanh = _method("tanh")
softmax = _method("softmax")
log_softmax = _method("log_softmax")

log10 = _method("log10")
log1p = _method("log1p")
expm1 = _method("expm1")
tan = _method("tan")
asin = arcsin = _method("asin")
acos = arccos = _method("acos")
atan = arctan = _method("atan")
sinh = _method("sinh")
cosh = _method("cosh")
asinh = arcsinh = _method("asinh")
acosh = arccosh = _method("acosh")
atanh = arctanh = _method("atanh")
atan2 = arctan2 = _method("atan2")
fmod = _method("fmod")
lerp = _method("lerp")
floor = _method("floor")
ceil = _method("ceil")
round = _method("round")  # noqa: A001
trunc = fix = _method("trunc")
isclose = _method("isclose")
true_divide = _method("div")
prod = _method("prod")
cumsum = _method("cumsum")
cumprod = _method("cumprod")
cummax = _method("cummax")
cummin = _method("cummin")
logcumsumexp = _method("logcumsumexp")
sort = _method("sort")
argsort = _method("argsort")
histc = _method("histc")
histogram = _method("histogram")


def std_mean(
    input: Tensor,  # noqa: A002
    dim: int | Sequence[int] | None = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: int | None = None,
) -> tuple[Tensor, Tensor]:
    """The standard deviation and the mean over ``dim``, as a pair (see ``Tensor.std``)."""
    spread = input.std(dim, unbiased, keepdim, correction=correction)
    return spread, input.mean(dim, keepdim)


def var_mean(
    input: Tensor,  # noqa: A002
    dim: int | Sequence[int] | None = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: int | None = None,
) -> tuple[Tensor, Tensor]:
    """The variance and the mean over ``dim``, as a pair (see ``Tensor.var``)."""
    return input.var(dim, unbiased, keepdim, correction=correction), input.mean(dim, keepdim)


flip = _method("flip")
roll = _method("roll")
diagonal = _method("diagonal")
scatter = _method("scatter")
scatter_reduce = _method("scatter_reduce")
nonzero = _method("nonzero")
masked_select = _method("masked_select")
repeat_interleave = _method("repeat_interleave")
movedim = _method("movedim")
mm = _method("mm")
bmm = _method("bmm")


def einsum(equation: str, *operands: Any) -> Tensor:
    """Products written as an equation over letters, one letter per dimension:
    ``einsum("ij,jk->ik", a, b)`` is ``a @ b``, ``einsum("bhqd,bhkd->bhqk", q, k)`` the
    attention scores, ``einsum("ii", a)`` the trace. Letters left out of the output (after
    ``->``) are summed over; without ``->`` the output is the letters used once, in
    alphabetical order. Operands may also be given as one list."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    equation = equation.replace(" ", "")
    inputs = equation.split("->")[0]
    if inputs.count(",") + 1 != len(operands):
        raise RuntimeError(
            f"einsum(): {inputs.count(',') + 1} operands in the equation {equation!r} but "
            f"{len(operands)} tensors given"
        )
    if "->" not in equation:
        letters = inputs.replace(",", "").replace("...", "")
        single = "".join(sorted(letter for letter in set(letters) if letters.count(letter) == 1))
        equation = f"{inputs}->{'...' if '...' in inputs else ''}{single}"
    tensors = [tensor if isinstance(tensor, Tensor) else Tensor(tensor) for tensor in operands]
    dtype = functools.reduce(dtypes.promote_types, (tensor._data.dtype for tensor in tensors))
    return arithmetic.Einsum.apply(equation, *(tensor.type(dtype) for tensor in tensors))
