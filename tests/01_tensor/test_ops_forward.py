"""Forward of every module-01 op against PyTorch, over a zoo of shapes (values and dtypes).

The same cases are differentiated in ``tests/05_autograd``; here only forward is compared, so
these tests pass before autograd exists.
"""

import pytest

from tests.helpers import (
    BINARY_OPS,
    BINARY_SHAPES,
    INDEXED_OPS,
    MATMUL_SHAPES,
    REDUCTION_OPS,
    REDUCTION_SHAPES,
    SHAPE_OPS,
    UNARY_OPS,
    UNARY_SHAPES,
    check_op,
    random_array,
)

pytestmark = pytest.mark.module01


@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("name", UNARY_OPS)
def test_unary(name, shape):
    fn, positive = UNARY_OPS[name]
    check_op(fn, random_array(shape, positive=positive), grad=False)


@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
@pytest.mark.parametrize("name", BINARY_OPS)
def test_binary(name, shapes):
    fn, positive = BINARY_OPS[name]
    check_op(fn, *(random_array(shape, positive=positive) for shape in shapes), grad=False)


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes):
    a, b = (random_array(shape) for shape in shapes)
    check_op(lambda lib, a, b: a @ b, a, b, grad=False)
    check_op(lambda lib, a, b: lib.matmul(a, b), a, b, grad=False)


def test_rmatmul_with_numpy_operand():
    a, b = random_array((2, 3)), random_array((3, 4))
    check_op(lambda lib, b: lib.tensor(a) @ b, b, grad=False)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, -1, (0, -1)], ids=str)
@pytest.mark.parametrize("shape", REDUCTION_SHAPES, ids=str)
@pytest.mark.parametrize("name", REDUCTION_OPS)
def test_reduction(name, shape, dim, keepdim):
    if dim is not None and len(shape) == 0:
        dim = 0 if dim != (0, -1) else None
    if isinstance(dim, tuple) and (len(shape) < 2 or name in ("max", "min")):
        pytest.skip("PyTorch takes one dim here")
    check_op(
        lambda lib, a: REDUCTION_OPS[name](lib, a, dim, keepdim), random_array(shape), grad=False
    )


@pytest.mark.parametrize("name", SHAPE_OPS)
def test_shape_op(name):
    fn, shapes = SHAPE_OPS[name]
    check_op(fn, *(random_array(shape) for shape in shapes), grad=False)


@pytest.mark.parametrize("name", INDEXED_OPS)
def test_indexed_op(name):
    fn, (shape, index) = INDEXED_OPS[name]
    check_op(fn, random_array(shape), index, grad=False)


@pytest.mark.parametrize("name", ["exp", "sin", "abs", "pow_2", "mul_scalar"])
def test_unary_on_transposed_input(name):
    fn, _ = UNARY_OPS[name]
    check_op(lambda lib, a: fn(lib, a.transpose(0, 1)), random_array((3, 4)), grad=False)


@pytest.mark.parametrize("name", ["add", "mul", "maximum", "where"])
def test_binary_on_non_contiguous_inputs(name):
    fn, _ = BINARY_OPS[name]
    check_op(
        lambda lib, a, b: fn(lib, a.T, b[::2, 1:]),
        random_array((5, 4)),
        random_array((7, 6)),
        grad=False,
    )


def test_matmul_on_non_contiguous_inputs():
    check_op(
        lambda lib, a, b: a.mT @ b[:, ::2],
        random_array((2, 3, 4)),
        random_array((3, 10)),
        grad=False,
    )


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_arg_extremum(name, dim):
    a = random_array((3, 4))
    check_op(lambda lib, a: getattr(a, name)(), a)
    check_op(lambda lib, a: getattr(lib, name)(a, dim), a)
    check_op(lambda lib, a: getattr(a, name)(dim, keepdim=True), a)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_along_dim_return_values_and_indices(name, keepdim):
    a = random_array((3, 4))
    check_op(lambda lib, a: getattr(a, name)(1, keepdim=keepdim).indices, a)
    check_op(lambda lib, a: getattr(lib, name)(a, dim=0, keepdim=keepdim)[1], a)
    values, indices = getattr(tensor_of(a), name)(1)
    assert values.shape == indices.shape == (3,)


def tensor_of(array):
    import tinytorch

    return tinytorch.tensor(array)
