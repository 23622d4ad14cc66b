"""Backward of broadcasting arithmetic and of reductions against NumPy: no PyTorch needed.

The gradient of a broadcast input is the upstream gradient (times the local derivative)
summed over the dims broadcasting added or stretched; a reduction's gradient spreads the
upstream gradient back over the reduced dims, with or without ``keepdim``.
"""

import numpy as np
import pytest

import tinytorch
from tests.helpers import random_array

pytestmark = pytest.mark.module05

MIXED_RANKS = [((3, 4), (4,)), ((2, 1, 3), (3,)), ((3,), (2, 1, 3)), ((2, 3, 1), (1, 4))]

# name -> (tinytorch call, NumPy local derivatives (a, b) -> (d out/d a, d out/d b), positive)
BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: (np.ones_like(a), np.ones_like(b)), False),
    "sub": (lambda a, b: a - b, lambda a, b: (np.ones_like(a), -np.ones_like(b)), False),
    "mul": (lambda a, b: a * b, lambda a, b: (b, a), False),
    "div": (lambda a, b: a / b, lambda a, b: (1 / b, -a / b**2), True),
    "pow": (lambda a, b: a**b, lambda a, b: (b * a ** (b - 1), a**b * np.log(a)), True),
}


def unbroadcast(gradient: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``gradient`` down to ``shape``: over added leading dims and stretched size-1 dims."""
    target = (1,) * (gradient.ndim - len(shape)) + tuple(shape)  # ``shape`` padded on the left
    stretched = tuple(d for d in range(gradient.ndim) if target[d] == 1 < gradient.shape[d])
    return gradient.sum(axis=stretched, keepdims=True).reshape(shape)


def gradients(fn, *arrays: np.ndarray, upstream: np.ndarray | None = None) -> list[np.ndarray]:
    """The gradient of every input of ``fn`` for ``upstream`` (ones by default)."""
    inputs = [tinytorch.tensor(array, requires_grad=True) for array in arrays]
    out = fn(*inputs)
    out.backward(tinytorch.tensor(np.ones(out.shape, np.float32) if upstream is None else upstream))
    for position, tensor in enumerate(inputs):
        assert tensor.grad is not None, f"input {position} got no gradient"
    return [tensor.grad.numpy() for tensor in inputs]


@pytest.mark.parametrize("shapes", MIXED_RANKS, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_broadcast_gradients_sum_back_to_each_input(name: str, shapes: tuple) -> None:
    ours, derivatives, positive = BINARY[name]
    a, b = (random_array(shape, positive=positive) for shape in shapes)
    a_full, b_full = np.broadcast_arrays(a, b)
    upstream = random_array(a_full.shape)
    d_a, d_b = derivatives(a_full, b_full)
    grad_a, grad_b = gradients(ours, a, b, upstream=upstream)
    np.testing.assert_allclose(grad_a, unbroadcast(upstream * d_a, a.shape), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(grad_b, unbroadcast(upstream * d_b, b.shape), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, -1, (0, 2)], ids=str)
def test_sum_and_mean_spread_the_gradient_back(dim, keepdim: bool) -> None:
    a = random_array((2, 3, 4))
    reduced = a.sum(dim, keepdims=keepdim)
    upstream = random_array(reduced.shape)
    spread = np.broadcast_to(upstream if keepdim else np.expand_dims(upstream, dim), a.shape)
    (grad,) = gradients(lambda x: x.sum(dim, keepdim=keepdim), a, upstream=upstream)
    np.testing.assert_allclose(grad, spread, rtol=1e-6)
    (grad,) = gradients(lambda x: x.mean(dim, keepdim=keepdim), a, upstream=upstream)
    np.testing.assert_allclose(grad, spread * reduced.size / a.size, rtol=1e-5)


def test_matmul_gradients_are_the_transposed_products() -> None:
    a, b = random_array((3, 4)), random_array((4, 5))
    upstream = random_array((3, 5))
    grad_a, grad_b = gradients(lambda x, y: x @ y, a, b, upstream=upstream)
    np.testing.assert_allclose(grad_a, upstream @ b.T, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(grad_b, a.T @ upstream, rtol=1e-4, atol=1e-5)


def test_gradient_through_a_cast_comes_back_in_the_inputs_dtype() -> None:
    a = random_array((2, 3))
    upstream = np.random.standard_normal((2, 3))  # float64, as the cast's output
    (grad,) = gradients(lambda x: x.double() * 2, a, upstream=upstream)
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad, (2 * upstream).astype(np.float32), rtol=1e-6)


def test_repeat_gradient_sums_the_copies() -> None:
    a = random_array((2, 3))
    upstream = random_array((2, 2, 6))  # a, viewed as (1, 2, 3), tiled (2, 1, 2) times
    (grad,) = gradients(lambda x: x.repeat(2, 1, 2), a, upstream=upstream)
    copies = upstream.reshape(2, 1, 1, 2, 2, 3)  # (r0, s0, r1, s1, r2, s2)
    expected = copies.sum(axis=(0, 2, 4)).reshape(2, 3)
    np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-6)
