"""Differential-test helpers: run one computation in tinytorch and in PyTorch, compare both.

Import as ``from tests.helpers import check_op, assert_close``.

``check_op(fn, *arrays)`` feeds the same arrays to ``fn(tinytorch)`` and ``fn(torch)``: the
function receives the library module and the input tensors, so one lambda serves both::

    check_op(lambda lib, a, b: lib.maximum(a, b), x, y)

Forward values and dtypes must match; then both backpropagate the same random upstream
gradient, and every input's gradient must match.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinytorch


def torch_or_skip() -> Any:
    """The ``torch`` module, or skip the calling test where PyTorch is not installed."""
    return pytest.importorskip("torch")


def as_numpy(value: Any) -> np.ndarray:
    """The values of a tinytorch tensor, a PyTorch tensor or an array, as a NumPy array."""
    if isinstance(value, tinytorch.Tensor):
        return value.numpy()
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
    for position, (mine, reference) in enumerate(zip(ours, theirs)):
        if reference.grad is None:
            assert mine.grad is None or not np.any(mine.grad.numpy()), f"input {position}"
            continue
        assert mine.grad is not None, f"input {position} got no gradient"
        assert_close(mine.grad, reference.grad, atol=atol, rtol=rtol)
