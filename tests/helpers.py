"""Differential-test helpers: run one computation in tinytorch and in PyTorch, compare both.

Import as ``from tests.helpers import check_op, assert_close``.

``check_op(fn, *arrays)`` feeds the same arrays to ``fn(tinytorch)`` and ``fn(torch)``: the
function receives the library module and the input tensors, so one lambda serves both::

    check_op(lambda lib, a, b: lib.maximum(a, b), x, y)

Forward values and dtypes must match; then both backpropagate the same random upstream
gradient, and every input's gradient must match.
"""

from __future__ import annotations

import importlib.abc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinytorch

WITHOUT_TORCH = "TINYTORCH_TESTS_WITHOUT_TORCH"
"""Set to 1, the tests run as where PyTorch is not installed (``tests/conftest.py``)."""


class HideTorch(importlib.abc.MetaPathFinder):
    """A meta-path finder that makes ``import torch`` fail as if PyTorch were not installed."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "torch" or name.startswith("torch."):
            message = f"No module named {name!r} ({WITHOUT_TORCH}=1 hides PyTorch)"
            raise ModuleNotFoundError(message, name=name)


def torch_or_skip() -> Any:
    """The ``torch`` module, or skip the calling test where PyTorch is not installed."""
    return pytest.importorskip("torch")


def as_numpy(value: Any) -> np.ndarray:
    """The values of a tinytorch tensor, a PyTorch tensor or an array, as a NumPy array."""
    if isinstance(value, tinytorch.Tensor):
        return value.detach().numpy()
    if hasattr(value, "detach"):
        return value.detach().numpy()
    return np.asarray(value)


def assert_close(actual: Any, expected: Any, atol: float = 1e-5, rtol: float = 1e-5) -> None:
    """Same shape, same dtype name, same values (within tolerance)."""
    actual_array, expected_array = as_numpy(actual), as_numpy(expected)
    assert actual_array.shape == expected_array.shape, (
        f"shape {actual_array.shape} != expected {expected_array.shape}"
    )
    assert actual_array.dtype == expected_array.dtype, (
        f"dtype {actual_array.dtype} != expected {expected_array.dtype}"
    )
    np.testing.assert_allclose(actual_array, expected_array, atol=atol, rtol=rtol)


def check_op(
    fn: Callable[..., Any],
    *arrays: np.ndarray,
    grad: bool = True,
    atol: float = 1e-5,
    rtol: float = 1e-5,
) -> None:
    """Compare ``fn(tinytorch, *inputs)`` with ``fn(torch, *inputs)``, forward and backward.

    Floating-point arrays become inputs that require grad (when ``grad``); other arrays
    (indices, masks) are passed as plain tensors.
    """
    torch = torch_or_skip()

    def wants_grad(array: np.ndarray) -> bool:
        return grad and np.asarray(array).dtype.kind == "f"

    ours = [tinytorch.tensor(a, requires_grad=wants_grad(a)) for a in arrays]
    theirs = [torch.tensor(np.asarray(a), requires_grad=wants_grad(a)) for a in arrays]
    our_out, their_out = fn(tinytorch, *ours), fn(torch, *theirs)
    assert_close(our_out, their_out, atol=atol, rtol=rtol)
    if not (grad and their_out.requires_grad):
        return
    upstream = np.random.default_rng(1).standard_normal(their_out.shape)
    upstream = upstream.astype(as_numpy(their_out).dtype)
    our_out.backward(tinytorch.tensor(upstream))
    their_out.backward(torch.tensor(upstream))
    for position, (mine, reference) in enumerate(zip(ours, theirs, strict=True)):
        if reference.grad is None:
            assert mine.grad is None or not np.any(mine.grad.numpy()), f"input {position}"
            continue
        assert mine.grad is not None, f"input {position} got no gradient"
        assert_close(mine.grad, reference.grad, atol=atol, rtol=rtol)


def assert_both_raise(fn: Callable[..., Any], *arrays: np.ndarray) -> None:
    """``fn(tinytorch, *inputs)`` and ``fn(torch, *inputs)`` both raise the same kind of error.

    tinytorch's exception must be an instance of PyTorch's exception class (RuntimeError,
    IndexError, TypeError, ...), so ``except`` clauses written for PyTorch still catch it.
    """
    torch = torch_or_skip()
    with pytest.raises(Exception) as theirs:
        fn(torch, *[torch.tensor(np.asarray(a)) for a in arrays])
    with pytest.raises(type(theirs.value)):
        fn(tinytorch, *[tinytorch.tensor(a) for a in arrays])


def random_array(shape: tuple[int, ...], dtype: Any = np.float32, positive: bool = False) -> Any:
    """Standard-normal values of ``shape`` (in [0.5, 2.5) when ``positive``), as ``dtype``."""
    values = np.random.standard_normal(shape)
    if positive:
        values = np.random.uniform(0.5, 2.5, shape)
    return values.astype(dtype)


# ---------------------------------------------------------------------------- the op zoo
# Every op of modules 01-04's core as ``name -> (fn, input shapes, positive)``: ``fn(lib, *xs)``
# runs it with tinytorch or torch. Module 01 checks the forward of each case, module 05 the
# backward (against PyTorch and by finite differences).

UNARY_SHAPES = [(), (1,), (5,), (3, 1), (2, 3, 4)]

UNARY_OPS: dict[str, tuple[Callable[..., Any], bool]] = {
    "neg": (lambda lib, a: -a, False),
    "neg_method": (lambda lib, a: a.neg(), False),
    "abs": (lambda lib, a: lib.abs(a), False),
    "exp": (lambda lib, a: lib.exp(a), False),
    "log": (lambda lib, a: lib.log(a), True),
    "sqrt": (lambda lib, a: lib.sqrt(a), True),
    "sin": (lambda lib, a: lib.sin(a), False),
    "cos": (lambda lib, a: lib.cos(a), False),
    "square": (lambda lib, a: lib.square(a), False),
    "pow_2": (lambda lib, a: a**2, False),
    "pow_3": (lambda lib, a: a.pow(3), False),
    "pow_half": (lambda lib, a: a**0.5, True),
    "pow_neg": (lambda lib, a: a**-1.5, True),
    "rpow": (lambda lib, a: 2.0**a, False),
    "add_scalar": (lambda lib, a: a + 2, False),
    "radd": (lambda lib, a: 1.5 + a, False),
    "sub_scalar": (lambda lib, a: a - 0.5, False),
    "rsub": (lambda lib, a: 3 - a, False),
    "mul_scalar": (lambda lib, a: a * 3, False),
    "rmul": (lambda lib, a: -0.5 * a, False),
    "div_scalar": (lambda lib, a: a / 4, False),
    "rdiv": (lambda lib, a: 2 / a, True),
    "clamp": (lambda lib, a: lib.clamp(a, -0.5, 0.5), False),
    "clamp_min": (lambda lib, a: a.clamp(min=0.1), False),
    "clamp_max": (lambda lib, a: a.clamp(max=-0.1), False),
    "clip": (lambda lib, a: a.clip(-1, 1), False),
    "double": (lambda lib, a: a.double() * 2, False),
    "to_float64": (lambda lib, a: a.to(lib.float64), False),
    "half_then_float": (lambda lib, a: a.half().float(), False),
    "clone": (lambda lib, a: a.clone(), False),
    "contiguous": (lambda lib, a: a.contiguous(), False),
    "detach_mul": (lambda lib, a: a * a.detach(), False),
}

BINARY_SHAPES = [
    ((), ()),
    ((3,), ()),
    ((), (3,)),
    ((1,), (4,)),
    ((4, 1), (1, 5)),
    ((45, 65), (45, 1)),
    ((5, 3, 14, 16), (5, 1, 14, 1)),
    ((1, 3, 1, 7, 1), (2, 1, 5, 1, 8)),
]

BINARY_OPS: dict[str, tuple[Callable[..., Any], bool]] = {
    "add": (lambda lib, a, b: a + b, False),
    "add_alpha": (lambda lib, a, b: a.add(b, alpha=2), False),
    "sub": (lambda lib, a, b: a - b, False),
    "sub_alpha": (lambda lib, a, b: lib.sub(a, b, alpha=0.5), False),
    "mul": (lambda lib, a, b: a * b, False),
    "div": (lambda lib, a, b: a / b, True),
    "pow": (lambda lib, a, b: a**b, True),
    "maximum": (lambda lib, a, b: lib.maximum(a, b), False),
    "minimum": (lambda lib, a, b: lib.minimum(a, b), False),
    "max_binary": (lambda lib, a, b: lib.max(a, b), False),
    "where": (lambda lib, a, b: lib.where(a > b, a, b), False),
    "where_method": (lambda lib, a, b: a.where(a < 0, b), False),
    "self_mul": (lambda lib, a, b: a * a + b, False),
}

MATMUL_SHAPES = [
    ((3,), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3,)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((5, 1, 2, 3), (4, 3, 2)),
    ((3,), (2, 3, 4)),
    ((2, 3, 4), (4,)),
]

REDUCTION_SHAPES = [(), (1,), (5,), (4, 1), (3, 4), (2, 3, 4)]

REDUCTION_OPS: dict[str, Callable[..., Any]] = {
    "sum": lambda lib, a, dim, keepdim: a.sum() if dim is None else a.sum(dim, keepdim),
    "mean": lambda lib, a, dim, keepdim: a.mean() if dim is None else a.mean(dim, keepdim),
    "var": lambda lib, a, dim, keepdim: a.var() if dim is None else a.var(dim, keepdim=keepdim),
    "var_population": lambda lib, a, dim, keepdim: a.var(dim, unbiased=False, keepdim=keepdim),
    "var_correction0": lambda lib, a, dim, keepdim: lib.var(a, dim, keepdim=keepdim, correction=0),
    "std": lambda lib, a, dim, keepdim: a.std() if dim is None else a.std(dim, keepdim=keepdim),
    "max": lambda lib, a, dim, keepdim: a.max() if dim is None else a.max(dim, keepdim)[0],
    "min": lambda lib, a, dim, keepdim: a.min() if dim is None else lib.min(a, dim, keepdim).values,
    "logsumexp": lambda lib, a, dim, keepdim: lib.logsumexp(a, -1 if dim is None else dim, keepdim),
}

SHAPE_OPS: dict[str, tuple[Callable[..., Any], tuple[tuple[int, ...], ...]]] = {
    "reshape": (lambda lib, a: a.reshape(4, -1), ((2, 3, 4),)),
    "reshape_tuple": (lambda lib, a: lib.reshape(a, (2, 12)), ((2, 3, 4),)),
    "reshape_scalar": (lambda lib, a: a.reshape(1, 1), ((),)),
    "reshape_to_scalar": (lambda lib, a: a.reshape(()), ((1,),)),
    "view": (lambda lib, a: a.view(-1), ((2, 3, 4),)),
    "view_as": (lambda lib, a: a.view_as(a.reshape(3, 8)), ((2, 3, 4),)),
    "flatten": (lambda lib, a: a.flatten(), ((2, 3, 4),)),
    "flatten_1": (lambda lib, a: lib.flatten(a, 1), ((2, 3, 4),)),
    "flatten_0_1": (lambda lib, a: a.flatten(0, 1), ((2, 3, 4),)),
    "flatten_scalar": (lambda lib, a: a.flatten(), ((),)),
    "squeeze": (lambda lib, a: a.squeeze(), ((1, 3, 1, 2),)),
    "squeeze_dim": (lambda lib, a: a.squeeze(2), ((1, 3, 1, 2),)),
    "squeeze_non_one": (lambda lib, a: a.squeeze(1), ((1, 3, 1, 2),)),
    "squeeze_neg": (lambda lib, a: lib.squeeze(a, -2), ((1, 3, 1, 2),)),
    "unsqueeze": (lambda lib, a: a.unsqueeze(0), ((3, 2),)),
    "unsqueeze_last": (lambda lib, a: lib.unsqueeze(a, -1), ((3, 2),)),
    "unsqueeze_scalar": (lambda lib, a: a.unsqueeze(0), ((),)),
    "transpose": (lambda lib, a: a.transpose(0, 2), ((2, 3, 4),)),
    "transpose_neg": (lambda lib, a: lib.transpose(a, -1, -2), ((2, 3, 4),)),
    "permute": (lambda lib, a: a.permute(2, 0, 1), ((2, 3, 4),)),
    "permute_tuple": (lambda lib, a: lib.permute(a, (1, 2, 0)), ((2, 3, 4),)),
    "T": (lambda lib, a: a.T, ((3, 4),)),
    "t": (lambda lib, a: a.t(), ((3, 4),)),
    "mT": (lambda lib, a: a.mT, ((2, 3, 4),)),
    "expand": (lambda lib, a: a.expand(2, 3, 4), ((3, 1),)),
    "expand_keep": (lambda lib, a: a.expand(-1, 5), ((3, 1),)),
    "expand_as": (lambda lib, a: a.expand_as(lib.ones(2, 3)), ((3,),)),
    "expand_scalar": (lambda lib, a: a.expand(2, 2), ((),)),
    "repeat": (lambda lib, a: a.repeat(2, 3), ((3, 2),)),
    "repeat_more_dims": (lambda lib, a: a.repeat(2, 1, 3), ((3, 2),)),
    "cat": (lambda lib, a, b: lib.cat([a, b]), ((2, 3), (4, 3))),
    "cat_dim1": (lambda lib, a, b: lib.cat((a, b, a), dim=1), ((2, 3), (2, 1))),
    "cat_neg": (lambda lib, a, b: lib.cat([a, b], -1), ((2, 3, 1), (2, 3, 2))),
    "stack": (lambda lib, a, b: lib.stack([a, b]), ((2, 3), (2, 3))),
    "stack_last": (lambda lib, a, b: lib.stack([a, b, a], dim=-1), ((2, 3), (2, 3))),
    "stack_scalars": (lambda lib, a, b: lib.stack([a, b]), ((), ())),
    "split": (lambda lib, a: a.split(2)[2] * 2 + a.split(2)[0].sum(), ((5, 3),)),
    "split_sections": (lambda lib, a: lib.split(a, [1, 2], dim=1)[1], ((4, 3),)),
    "chunk": (lambda lib, a: lib.cat(a.chunk(3, 1)[::-1], 1), ((2, 7),)),
    "chunk_uneven": (lambda lib, a: lib.chunk(a, 4)[-1], ((6, 2),)),
    "unbind": (lambda lib, a: a.unbind(1)[2], ((2, 3),)),
    "narrow": (lambda lib, a: a.narrow(1, 1, 2), ((2, 4),)),
    "tril": (lambda lib, a: a.tril(), ((4, 4),)),
    "tril_diag": (lambda lib, a: lib.tril(a, -1), ((3, 5),)),
    "triu": (lambda lib, a: a.triu(), ((4, 3),)),
    "triu_batched": (lambda lib, a: lib.triu(a, 1), ((2, 3, 3),)),
    "index_int": (lambda lib, a: a[1], ((3, 4),)),
    "index_neg": (lambda lib, a: a[-1, -2], ((3, 4),)),
    "index_slice": (lambda lib, a: a[1:, ::2], ((3, 4),)),
    "index_none": (lambda lib, a: a[None, :, None], ((3, 4),)),
    "index_ellipsis": (lambda lib, a: a[..., 1], ((2, 3, 4),)),
    "index_ellipsis_none": (lambda lib, a: a[0, ..., None], ((2, 3, 4),)),
    "index_list": (lambda lib, a: a[[0, 2, 0]], ((3, 4),)),
    "index_two_lists": (lambda lib, a: a[[0, 2], [1, 1]], ((3, 4),)),
    "index_slice_list": (lambda lib, a: a[:, [3, 0, 3]], ((3, 4),)),
    "index_mask": (lambda lib, a: a[a > 0], ((3, 4),)),
    "index_row_mask": (lambda lib, a: a[a.sum(1) > 0], ((5, 4),)),
}

# name -> (fn(lib, input, index), (input shape, the index or mask array))
INDEXED_OPS: dict[str, tuple[Callable[..., Any], tuple[tuple[int, ...], np.ndarray]]] = {
    "index_tensor": (
        lambda lib, a, i: a[i],
        ((3, 4), np.array([[2, 0], [0, 0]])),
    ),
    "index_tensor_dim1": (
        lambda lib, a, i: a[:, i],
        ((3, 4), np.array([3, 1, 3])),
    ),
    "index_scalar_tensor": (lambda lib, a, i: a[i], ((3, 4), np.array(1))),
    "index_bool_tensor": (
        lambda lib, a, m: a[m],
        ((3, 4), np.array([True, False, True])),
    ),
    "gather": (
        lambda lib, a, i: a.gather(1, i),
        ((3, 4), np.array([[0, 0], [3, 1], [2, 2]])),
    ),
    "gather_dim0": (
        lambda lib, a, i: lib.gather(a, 0, i),
        ((3, 4), np.array([[0, 1, 2, 0]])),
    ),
    "gather_3d": (
        lambda lib, a, i: a.gather(-1, i),
        ((2, 3, 4), np.array([[[1], [3], [0]], [[2], [2], [1]]])),
    ),
    "masked_fill": (
        lambda lib, a, m: a.masked_fill(m, -1.5),
        ((3, 4), np.array([[True, False, True, False]] * 3)),
    ),
    "masked_fill_broadcast": (
        lambda lib, a, m: lib.masked_fill(a, m, float("-inf")).exp(),
        ((2, 3, 4), np.array([[True], [False], [True]])),
    ),
    "where_mask": (
        lambda lib, a, m: lib.where(m, a, 0.0),
        ((3, 4), np.array([True, False, True, False])),
    ),
}


# ---------------------------------------------------------------------- NumPy references
# Plain NumPy forms shared by the ``test_numpy_reference.py`` files (no PyTorch needed).


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(x - max) / sum exp(x - max) along ``axis``; a row of only -inf gives zeros."""
    row_max = x.max(axis=axis, keepdims=True)
    exp = np.exp(x - np.where(np.isneginf(row_max), 0, row_max))
    return exp / np.maximum(exp.sum(axis=axis, keepdims=True), np.finfo(exp.dtype).tiny)


def attention(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: Any = 0.0, scale: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """softmax(Q K^T * scale + mask) V for q (..., L, E), k (..., S, E), v (..., S, Ev), and the
    weights (..., L, S); ``scale`` is 1 / sqrt(E) by default, ``mask`` is added to the scores."""
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    weights = softmax(q @ np.swapaxes(k, -1, -2) * scale + mask)
    return weights @ v, weights


def keep_mask(keep: np.ndarray) -> np.ndarray:
    """The additive float mask of a bool mask: 0 where ``keep`` is True, -inf elsewhere."""
    return np.where(keep, 0.0, -np.inf).astype(np.float32)


def multihead_attention(
    mha: Any, query: np.ndarray, key: np.ndarray, value: np.ndarray, keep: Any = True
) -> tuple[np.ndarray, np.ndarray]:
    """The forward of ``nn.MultiheadAttention`` ``mha`` in NumPy, batch first: (N, T, E).

    Rows [0, E), [E, 2E), [2E, 3E) of ``in_proj_weight`` project q, k, v; head h gets
    features [h D, (h + 1) D); ``keep`` (broadcasting to (N, H, L, S)) marks what may be
    attended. Returns the output (N, L, E) and the weights of every head (N, H, L, S).
    """
    weight, bias = as_numpy(mha.in_proj_weight), as_numpy(mha.in_proj_bias)
    projected = []
    for part, x in enumerate((query, key, value)):
        rows = slice(part * mha.embed_dim, (part + 1) * mha.embed_dim)
        y = x @ weight[rows].T + bias[rows]  # (N, T, E)
        heads = y.reshape(*y.shape[:2], mha.num_heads, mha.head_dim)  # (N, T, H, D)
        projected.append(heads.transpose(0, 2, 1, 3))  # (N, H, T, D)
    out, weights = attention(*projected, keep_mask(keep))  # (N, H, L, D), (N, H, L, S)
    out = out.transpose(0, 2, 1, 3).reshape(query.shape)  # (N, L, E)
    return out @ as_numpy(mha.out_proj.weight).T + as_numpy(mha.out_proj.bias), weights


def layer_norm(
    x: np.ndarray, weight: Any = 1.0, bias: Any = 0.0, dims: int = 1, eps: float = 1e-5
) -> np.ndarray:
    """(x - mean) / sqrt(var + eps) * weight + bias over the last ``dims`` dims (biased var)."""
    axes = tuple(range(-dims, 0))
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias
