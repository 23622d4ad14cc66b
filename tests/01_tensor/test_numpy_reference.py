"""Module 01's forward values against NumPy: these tests need no PyTorch.

The differential tests compare with PyTorch and skip where it is missing; these check the
same ops' values against NumPy's, so stubs and wrong values fail in every set-up. Mixed
ranks ((3, 4) + (4,)) catch a broadcasting rule that pads the shorter shape on the wrong
side; ``keepdim`` catches a reduction that drops it.
"""

import numpy as np
import pytest

import tinytorch
from tests.helpers import random_array

pytestmark = pytest.mark.module01

# (shape of a, shape of b): ranks differ, so a wrong padding side gives a wrong shape or value
MIXED_RANKS = [
    ((3, 4), (4,)),
    ((4,), (3, 4)),
    ((2, 1, 3), (3,)),
    ((3,), (2, 1, 3)),
    ((2, 3, 1), (1, 4)),
    ((5, 1, 4), (3, 1)),
    ((2, 3), ()),
]

# name -> (tinytorch call, NumPy reference, positive inputs)
BINARY = {
    "add": (lambda a, b: a + b, np.add, False),
    "sub": (lambda a, b: a - b, np.subtract, False),
    "mul": (lambda a, b: a * b, np.multiply, False),
    "div": (lambda a, b: a / b, np.divide, True),
    "pow": (lambda a, b: a**b, np.power, True),
    "maximum": (tinytorch.maximum, np.maximum, False),
    "minimum": (tinytorch.minimum, np.minimum, False),
    "add_alpha": (lambda a, b: a.add(b, alpha=2), lambda a, b: a + 2 * b, False),
    "sub_alpha": (lambda a, b: tinytorch.sub(a, b, alpha=0.5), lambda a, b: a - 0.5 * b, False),
    "where": (lambda a, b: tinytorch.where(a > b, a, b), lambda a, b: np.where(a > b, a, b), False),
}

UNARY = {
    "neg": (lambda a: -a, np.negative, False),
    "abs": (tinytorch.abs, np.abs, False),
    "exp": (tinytorch.exp, np.exp, False),
    "log": (tinytorch.log, np.log, True),
    "sqrt": (tinytorch.sqrt, np.sqrt, True),
    "sin": (tinytorch.sin, np.sin, False),
    "cos": (tinytorch.cos, np.cos, False),
    "clamp": (lambda a: tinytorch.clamp(a, -0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5), False),
    "rdiv": (lambda a: 2 / a, lambda a: 2 / a, True),
    "rsub": (lambda a: 3 - a, lambda a: 3 - a, False),
}

# name -> (tinytorch call with dim and keepdim, NumPy reference with axis and keepdims)
REDUCTIONS = {
    "sum": (lambda a, d, k: a.sum(d, keepdim=k), lambda a, d, k: a.sum(d, keepdims=k)),
    "mean": (lambda a, d, k: a.mean(d, keepdim=k), lambda a, d, k: a.mean(d, keepdims=k)),
    "var": (lambda a, d, k: a.var(d, keepdim=k), lambda a, d, k: a.var(d, ddof=1, keepdims=k)),
    "std": (lambda a, d, k: a.std(d, keepdim=k), lambda a, d, k: a.std(d, ddof=1, keepdims=k)),
    "max": (lambda a, d, k: a.max(d, keepdim=k)[0], lambda a, d, k: a.max(d, keepdims=k)),
    "min": (lambda a, d, k: a.min(d, keepdim=k)[0], lambda a, d, k: a.min(d, keepdims=k)),
    "logsumexp": (
        lambda a, d, k: a.logsumexp(d, keepdim=k),
        lambda a, d, k: np.log(np.exp(a).sum(d, keepdims=k)),
    ),
}


def assert_matches(actual: tinytorch.Tensor, expected: np.ndarray) -> None:
    """Same shape, float32 and the same values as the NumPy reference."""
    expected = np.asarray(expected, dtype=np.float32)
    assert isinstance(actual, tinytorch.Tensor), f"expected a Tensor, got {type(actual)}"
    assert tuple(actual.shape) == expected.shape, (
        f"shape {tuple(actual.shape)}, NumPy's {expected.shape}"
    )
    assert actual.dtype == tinytorch.float32, f"dtype {actual.dtype}, expected float32"
    np.testing.assert_allclose(actual.numpy(), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shapes", MIXED_RANKS, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_op_broadcasts_mixed_ranks_like_numpy(name: str, shapes: tuple) -> None:
    ours, reference, positive = BINARY[name]
    a, b = (random_array(shape, positive=positive) for shape in shapes)
    assert_matches(ours(tinytorch.tensor(a), tinytorch.tensor(b)), reference(a, b))


@pytest.mark.parametrize("name", UNARY)
def test_unary_op_matches_numpy(name: str) -> None:
    ours, reference, positive = UNARY[name]
    a = random_array((2, 3, 4), positive=positive)
    assert_matches(ours(tinytorch.tensor(a)), reference(a))


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, -1, 1], ids=str)
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_keeps_or_drops_the_dim_like_numpy(name: str, dim: int, keepdim: bool) -> None:
    ours, reference = REDUCTIONS[name]
    a = random_array((2, 3, 4))
    assert_matches(ours(tinytorch.tensor(a), dim, keepdim), reference(a, dim, keepdim))


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_sum_and_mean_over_several_dims_like_numpy(name: str, keepdim: bool) -> None:
    ours, reference = REDUCTIONS[name]
    a = random_array((2, 3, 4))
    assert_matches(ours(tinytorch.tensor(a), (0, 2), keepdim), reference(a, (0, 2), keepdim))
    assert_matches(getattr(tinytorch.tensor(a), name)(), getattr(a, name)())


@pytest.mark.parametrize(
    ("a_shape", "b_shape"),
    [((3, 4), (4, 5)), ((4,), (4, 2)), ((2, 3, 4), (4,)), ((5, 2, 3), (3, 2))],
)
def test_matmul_matches_numpy(a_shape: tuple, b_shape: tuple) -> None:
    a, b = random_array(a_shape), random_array(b_shape)
    assert_matches(tinytorch.tensor(a) @ tinytorch.tensor(b), a @ b)


def test_shape_ops_match_numpy() -> None:
    a = random_array((2, 3, 4))
    x = tinytorch.tensor(a)
    assert_matches(x.reshape(4, -1), a.reshape(4, -1))
    assert_matches(x.repeat(2, 1, 3), np.tile(a, (2, 1, 3)))
    assert_matches(x.repeat(2, 1, 1, 1), np.tile(a, (2, 1, 1, 1)))
    assert_matches(x.transpose(0, 2), a.transpose(2, 1, 0))
    assert_matches(x.permute(1, 2, 0), a.transpose(1, 2, 0))
    assert_matches(x.unsqueeze(1), a[:, None])
    assert_matches(x[1:, ::2, -1], a[1:, ::2, -1])
    assert_matches(tinytorch.tensor(a[:, :1]).squeeze(1), a[:, 0])
    assert_matches(tinytorch.cat([x, x], dim=1), np.concatenate([a, a], axis=1))
    assert_matches(tinytorch.stack([x, x], dim=0), np.stack([a, a]))
