"""Max, average and adaptive pooling, and F.pad, against PyTorch (module 09)."""

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
from tests.helpers import assert_both_raise, assert_close, check_op, random_array
from tinytorch.autograd import gradcheck

pytestmark = [pytest.mark.module09, pytest.mark.module05]

# (input shape, kernel_size, stride, padding, dilation)
POOL_CASES = [
    ((2, 3, 8, 8), 2, None, 0, 1),
    ((2, 3, 7, 9), 3, 2, 1, 1),  # overlapping windows, padding
    ((1, 2, 9, 8), (3, 2), (1, 2), (1, 1), 1),
    ((2, 2, 7, 7), 3, 1, 0, 1),  # stride 1: every pixel in many windows
    ((3, 6, 6), 2, 2, 0, 1),  # unbatched
]


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
def test_max_pool2d_matches_pytorch(case: tuple) -> None:
    shape, kernel, stride, padding, dilation = case
    check_op(
        lambda lib, x: lib.nn.functional.max_pool2d(x, kernel, stride, padding, dilation),
        random_array(shape),
    )


def test_max_pool2d_dilation_and_indices_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    x = random_array((2, 3, 9, 8))
    ours = tinytorch.nn.functional.max_pool2d(tinytorch.tensor(x), 3, 2, 1, 2, return_indices=True)
    theirs = torch.nn.functional.max_pool2d(torch.tensor(x), 3, 2, 1, 2, return_indices=True)
    assert_close(ours[0], theirs[0])
    assert_close(ours[1], theirs[1])
    check_op(lambda lib, x: lib.nn.functional.max_pool2d(x, 3, 2, 1, 2), x)


def test_max_pool2d_ties_route_the_gradient_like_pytorch() -> None:
    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, 1:3, 1:3] = 1.0  # every overlapping window holds several equal maxima
    check_op(lambda lib, x: lib.nn.functional.max_pool2d(x, 2, 1), x)
    check_op(lambda lib, x: lib.nn.functional.max_pool2d(x, 3, 1, 1), np.ones((1, 2, 4, 5), "f"))


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d_matches_pytorch(case: tuple, count_include_pad: bool) -> None:
    shape, kernel, stride, padding, _ = case
    check_op(
        lambda lib, x: lib.nn.functional.avg_pool2d(
            x, kernel, stride, padding, count_include_pad=count_include_pad
        ),
        random_array(shape),
    )


def test_avg_pool2d_divisor_override_matches_pytorch() -> None:
    check_op(
        lambda lib, x: lib.nn.functional.avg_pool2d(x, 3, 2, 1, divisor_override=4),
        random_array((2, 3, 7, 7)),
    )


@pytest.mark.parametrize(
    "shape, size", [((2, 3, 8, 8), 1), ((2, 3, 7, 5), (3, 2)), ((3, 10, 9), (4, None))], ids=str
)
def test_adaptive_avg_pool2d_matches_pytorch(shape: tuple, size) -> None:
    check_op(lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(x, size), random_array(shape))


# (input shape, kernel_size, stride, padding): ceil_mode keeps a last, partial window
CEIL_CASES = [
    ((2, 3, 7, 7), 2, 2, 0),  # one extra row and column
    ((1, 2, 8, 9), 3, 2, 1),  # padding and a partial window
    ((2, 2, 6, 6), 3, 3, 1),  # the rule: no window may start in the trailing padding
    ((1, 1, 5, 8), (2, 3), (3, 2), (1, 0)),
]


@pytest.mark.parametrize("case", CEIL_CASES, ids=str)
def test_max_pool2d_ceil_mode_matches_pytorch(case: tuple) -> None:
    shape, kernel, stride, padding = case
    check_op(
        lambda lib, x: lib.nn.functional.max_pool2d(x, kernel, stride, padding, ceil_mode=True),
        random_array(shape),
    )


@pytest.mark.parametrize("case", CEIL_CASES, ids=str)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d_ceil_mode_matches_pytorch(case: tuple, count_include_pad: bool) -> None:
    shape, kernel, stride, padding = case
    check_op(
        lambda lib, x: lib.nn.functional.avg_pool2d(
            x, kernel, stride, padding, ceil_mode=True, count_include_pad=count_include_pad
        ),
        random_array(shape),
    )


def test_pooling_gradcheck_float64() -> None:
    x = tinytorch.randn(2, 2, 6, 5, dtype=tinytorch.float64, requires_grad=True)
    functional = tinytorch.nn.functional
    assert gradcheck(lambda x: functional.max_pool2d(x, 3, 2, 1), (x,))
    assert gradcheck(lambda x: functional.avg_pool2d(x, 3, 2, 1, count_include_pad=False), (x,))
    assert gradcheck(lambda x: functional.adaptive_avg_pool2d(x, (4, 3)), (x,))
    assert gradcheck(lambda x: functional.avg_pool2d(x, 2, ceil_mode=True), (x,))


@pytest.mark.parametrize(
    "name, args", [("MaxPool2d", (3, 2, 1)), ("AvgPool2d", (2,)), ("AdaptiveAvgPool2d", ((2, 3),))]
)
def test_pooling_modules_match_pytorch(name: str, args: tuple) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    check_op(lambda lib, x: (ours if lib is tinytorch else theirs)(x), random_array((2, 3, 8, 8)))
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize(
    "op, kwargs",
    [
        ("max_pool2d", dict(kernel_size=3, padding=2)),  # padding more than half the kernel
        ("max_pool2d", dict(kernel_size=9)),  # window larger than the input
        ("avg_pool2d", dict(kernel_size=9)),
        ("max_pool2d", dict(kernel_size=2, stride=0)),
    ],
    ids=str,
)
def test_pooling_errors_match_pytorch(op: str, kwargs: dict) -> None:
    assert_both_raise(
        lambda lib, x: getattr(lib.nn.functional, op)(x, **kwargs), random_array((2, 3, 8, 8))
    )


# ---------------------------------------------------------------------- F.pad
@pytest.mark.parametrize(
    "shape, pad, mode",
    [
        ((2, 3, 4, 5), (1, 2), "constant"),
        ((2, 3, 4, 5), (1, 2, 0, 3), "constant"),
        ((2, 3, 4, 5), (-1, 2, 1, -2), "constant"),  # negative widths crop
        ((3, 4), (1, 1, 2, 0), "constant"),
        ((2, 3, 4, 5), (2, 1, 3, 1), "reflect"),
        ((2, 3, 4, 5), (2, 1, 3, 1), "replicate"),
        ((2, 3, 4, 5), (2, 1, 3, 4), "circular"),
        ((2, 3, 5), (4, 2), "reflect"),
    ],
    ids=str,
)
def test_pad_matches_pytorch(shape: tuple, pad: tuple, mode: str) -> None:
    check_op(lambda lib, x: lib.nn.functional.pad(x, pad, mode=mode), random_array(shape))


def test_pad_constant_value_and_gradcheck() -> None:
    check_op(lambda lib, x: lib.nn.functional.pad(x, (1, 1), value=-2.5), random_array((2, 3)))
    x = tinytorch.randn(2, 3, 4, dtype=tinytorch.float64, requires_grad=True)
    assert gradcheck(lambda x: tinytorch.nn.functional.pad(x, (2, 1, 1, 2), "reflect"), (x,))


@pytest.mark.parametrize(
    "pad, mode", [((1, 2, 3), "constant"), ((5, 5), "reflect"), ((1, 1), "mirror")], ids=str
)
def test_pad_errors_match_pytorch(pad: tuple, mode: str) -> None:
    assert_both_raise(
        lambda lib, x: lib.nn.functional.pad(x, pad, mode=mode), random_array((2, 3, 4))
    )
