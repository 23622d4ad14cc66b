"""Every op's backward against finite differences in float64, with a random upstream gradient."""

import numpy as np
import pytest

import tinytorch
from tests.helpers import BINARY_OPS, INDEXED_OPS, REDUCTION_OPS, SHAPE_OPS, UNARY_OPS
from tinytorch.autograd import GradcheckError, gradcheck

pytestmark = pytest.mark.module05


def leaf(shape, positive=False):
    """A float64 leaf away from kinks and ties (abs, clamp, max) so the check is smooth."""
    values = np.random.uniform(0.5, 2.5, shape) if positive else np.random.standard_normal(shape)
    values = values + np.sign(values) * 0.05 + np.arange(np.prod(shape)).reshape(shape) * 1e-3
    return tinytorch.tensor(values, dtype=tinytorch.float64, requires_grad=True)


def with_tinytorch(fn):
    """A zoo entry ``fn(lib, *xs)`` as a function of tinytorch tensors only."""
    return lambda *xs: fn(tinytorch, *xs)


# half_then_float rounds to float16; detach_mul reads the input through a detached alias, which
# the finite differences perturb too.
@pytest.mark.parametrize(
    "name", [n for n in UNARY_OPS if n not in ("half_then_float", "detach_mul")]
)
def test_unary(name):
    fn, positive = UNARY_OPS[name]
    assert gradcheck(with_tinytorch(fn), [leaf((2, 3), positive)])


@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((3, 1), (1, 4)), ((), (2,))], ids=str)
@pytest.mark.parametrize("name", BINARY_OPS)
def test_binary(name, shapes):
    fn, positive = BINARY_OPS[name]
    assert gradcheck(with_tinytorch(fn), [leaf(shape, positive) for shape in shapes])


@pytest.mark.parametrize(
    "shapes", [((3,), (3, 2)), ((2, 3), (3,)), ((2, 1, 1, 3), (4, 3, 2))], ids=str
)
def test_matmul(shapes):
    assert gradcheck(lambda a, b: a @ b, [leaf(shape) for shape in shapes])


@pytest.mark.parametrize("dim", [None, 1])
@pytest.mark.parametrize("name", REDUCTION_OPS)
def test_reduction(name, dim):
    fn = REDUCTION_OPS[name]
    assert gradcheck(lambda a: fn(tinytorch, a, dim, False), [leaf((2, 3))])


@pytest.mark.parametrize("name", SHAPE_OPS)
def test_shape_op(name):
    fn, shapes = SHAPE_OPS[name]
    assert gradcheck(with_tinytorch(fn), [leaf(shape) for shape in shapes])


@pytest.mark.parametrize("name", [n for n in INDEXED_OPS if n != "masked_fill_broadcast"])
def test_indexed_op(name):
    fn, (shape, index) = INDEXED_OPS[name]
    assert gradcheck(lambda a: fn(tinytorch, a, tinytorch.tensor(index)), [leaf(shape)])


def test_gradcheck_catches_a_wrong_backward():
    class WrongSquare(tinytorch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * x  # should be 2 * x

    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(WrongSquare.apply, [leaf((3,))])
    assert not gradcheck(WrongSquare.apply, [leaf((3,))], raise_exception=False)


def test_gradcheck_needs_float64():
    with pytest.raises(ValueError, match="float64"):
        gradcheck(lambda x: x * 2, [tinytorch.ones(2, requires_grad=True)])
