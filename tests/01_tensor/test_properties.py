"""Property tests (hypothesis): broadcasting and shape ops agree with PyTorch on any shapes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tests.helpers import check_op

pytestmark = pytest.mark.module01

FEW = settings(max_examples=30, deadline=None)


def float_array(shape):
    return hnp.arrays(np.float32, shape, elements=st.floats(-3, 3, width=32))


broadcastable_pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=4, max_side=4)


@FEW
@given(broadcastable_pairs, st.sampled_from(["add", "sub", "mul", "maximum", "where"]), st.data())
def test_binary_ops_broadcast_like_pytorch(shapes, name, data):
    first, second = shapes.input_shapes
    a, b = data.draw(float_array(first)), data.draw(float_array(second))
    ops = {
        "add": lambda lib, a, b: a + b,
        "sub": lambda lib, a, b: a - b,
        "mul": lambda lib, a, b: a * b,
        "maximum": lambda lib, a, b: lib.maximum(a, b),
        "where": lambda lib, a, b: lib.where(a > 0, a, b),
    }
    check_op(ops[name], a, b, grad=False)


@FEW
@given(hnp.array_shapes(min_dims=1, max_dims=4, max_side=4), st.data())
def test_permute_and_reshape_round_trip(shape, data):
    array = data.draw(float_array(shape))
    order = data.draw(st.permutations(range(len(shape))))
    check_op(lambda lib, a: a.permute(*order).reshape(-1), array, grad=False)
    check_op(lambda lib, a: a.permute(*order).flatten(0, -1).reshape(shape), array, grad=False)


@FEW
@given(hnp.array_shapes(min_dims=0, max_dims=4, max_side=3), st.data())
def test_squeeze_unsqueeze_and_reductions(shape, data):
    array = data.draw(float_array(shape))
    position = data.draw(st.integers(-len(shape) - 1, len(shape)))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1)) if shape else 0
    keepdim = data.draw(st.booleans())
    check_op(lambda lib, a: a.unsqueeze(position).squeeze(), array, grad=False)
    check_op(lambda lib, a: a.sum(dim, keepdim), array, grad=False, atol=1e-4)
    check_op(lambda lib, a: a.logsumexp(dim, keepdim), array, grad=False, atol=1e-4)


@FEW
@given(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), st.data())
def test_expand_and_repeat(shape, data):
    array = data.draw(float_array(shape))
    lead = data.draw(st.integers(1, 3))
    expanded = tuple(data.draw(st.integers(1, 3)) if size == 1 else size for size in shape)
    repeats = data.draw(st.lists(st.integers(1, 3), min_size=len(shape), max_size=len(shape) + 1))
    check_op(lambda lib, a: a.expand(lead, *expanded), array, grad=False)
    check_op(lambda lib, a: a.repeat(*repeats), array, grad=False)


@FEW
@given(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6), st.data())
def test_split_chunk_cat_stack(shape, data):
    array = data.draw(float_array(shape))
    dim = data.draw(st.integers(0, len(shape) - 1))
    size = data.draw(st.integers(1, shape[dim]))
    check_op(lambda lib, a: lib.cat(a.split(size, dim)[::-1], dim), array, grad=False)
    check_op(lambda lib, a: lib.stack(a.chunk(size, dim)[:1], dim), array, grad=False)
