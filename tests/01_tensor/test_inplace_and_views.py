"""In-place updates (``add_``, ``mul_``, ``zero_``, ``copy_``, ``fill_``, ...) and views."""

import numpy as np
import pytest

import tinytorch
from tests.helpers import assert_close, check_op, random_array

pytestmark = pytest.mark.module01

IN_PLACE = {
    "add_": lambda lib, a, b: a.add_(b),
    "add_alpha": lambda lib, a, b: a.add_(b, alpha=-2),
    "add_scalar": lambda lib, a, b: a.add_(1.5),
    "sub_": lambda lib, a, b: a.sub_(b),
    "mul_": lambda lib, a, b: a.mul_(b),
    "mul_scalar": lambda lib, a, b: a.mul_(3),
    "div_": lambda lib, a, b: a.div_(b),
    "zero_": lambda lib, a, b: a.zero_(),
    "fill_": lambda lib, a, b: a.fill_(2.5),
    "copy_": lambda lib, a, b: a.copy_(b),
    "clamp_": lambda lib, a, b: a.clamp_(-0.5, 0.5),
    "masked_fill_": lambda lib, a, b: a.masked_fill_(b > 0, 0.0),
    "setitem": lambda lib, a, b: a.__setitem__((slice(None), 0), 7.0),
    "setitem_mask": lambda lib, a, b: a.__setitem__(a > 0, 0.0),
    "setitem_broadcast": lambda lib, a, b: a.__setitem__(slice(1, 3), b),
}


@pytest.mark.parametrize("name", IN_PLACE)
def test_in_place_matches_pytorch_and_returns_self(name):
    def run(lib, a, b):
        result = IN_PLACE[name](lib, a, b)
        assert result is None or result is a
        return a

    check_op(run, random_array((3, 4)), random_array((4,)), grad=False)


def test_in_place_on_a_view_changes_the_base():
    x = tinytorch.zeros(3, 4)
    x[1].fill_(1.0)
    x.T[0].add_(2.0)
    x.reshape(12)[-1:].copy_(tinytorch.tensor([5.0]))
    expected = np.zeros((3, 4), np.float32)
    expected[1] = 1.0
    expected[:, 0] += 2.0
    expected[2, 3] = 5.0
    assert_close(x, expected)


def test_in_place_keeps_dtype():
    x = tinytorch.ones(3, dtype=tinytorch.int64)
    x.mul_(4)
    assert x.dtype == tinytorch.int64 and x.tolist() == [4, 4, 4]
    y = tinytorch.ones(2)
    y.copy_(tinytorch.tensor([3, 4]))
    assert y.dtype == tinytorch.float32 and y.tolist() == [3.0, 4.0]


def test_views_share_memory():
    x = tinytorch.arange(6.0)
    views = [x.reshape(2, 3), x.view(3, 2).T, x[1:], x.unsqueeze(0), x.expand(2, 6)]
    x.add_(1.0)
    for view in views:
        assert view.numpy().base is not None
    assert views[0][0, 0].item() == 1.0 and views[2][0].item() == 2.0
