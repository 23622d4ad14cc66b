"""Backward of every module-01 op against PyTorch, over the same zoo of shapes as module 01."""

import numpy as np
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

pytestmark = pytest.mark.module05


@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("name", UNARY_OPS)
def test_unary(name, shape):
    fn, positive = UNARY_OPS[name]
    check_op(fn, random_array(shape, positive=positive))


@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
@pytest.mark.parametrize("name", BINARY_OPS)
def test_binary(name, shapes):
    fn, positive = BINARY_OPS[name]
    check_op(fn, *(random_array(shape, positive=positive) for shape in shapes), atol=1e-4)


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes):
    check_op(lambda lib, a, b: a @ b, *(random_array(shape) for shape in shapes), atol=1e-4)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, -1, (0, -1)], ids=str)
@pytest.mark.parametrize("shape", REDUCTION_SHAPES, ids=str)
@pytest.mark.parametrize("name", REDUCTION_OPS)
def test_reduction(name, shape, dim, keepdim):
    if dim is not None and len(shape) == 0:
        dim = 0 if dim != (0, -1) else None
    if isinstance(dim, tuple) and (len(shape) < 2 or name in ("max", "min")):
        pytest.skip("PyTorch takes one dim here")
    check_op(lambda lib, a: REDUCTION_OPS[name](lib, a, dim, keepdim), random_array(shape))


@pytest.mark.parametrize("name", SHAPE_OPS)
def test_shape_op(name):
    fn, shapes = SHAPE_OPS[name]
    check_op(fn, *(random_array(shape) for shape in shapes))


@pytest.mark.parametrize("name", INDEXED_OPS)
def test_indexed_op(name):
    fn, (shape, index) = INDEXED_OPS[name]
    check_op(fn, random_array(shape), index)


def test_non_contiguous_inputs():
    check_op(
        lambda lib, a, b: (a.T * b[::2, 1:]).exp() @ a[:, 1:].T.mT,
        random_array((5, 4)),
        random_array((7, 6)),
        atol=1e-4,
    )


def test_max_ties_share_the_gradient_like_pytorch():
    values = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], dtype=np.float32)
    check_op(lambda lib, a: a.max(), values)
    check_op(lambda lib, a: a.min(1).values, values)
    check_op(lambda lib, a, b: lib.maximum(a, b), values, values[::-1].copy())


def test_float64_inputs_keep_float64_gradients():
    check_op(
        lambda lib, a, b: (a * b.float()).sum(),
        random_array((3,), np.float64),
        random_array((3,), np.float64),
    )
