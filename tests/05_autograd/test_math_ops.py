"""The element-wise math beyond the exercises (log10, trigonometric and hyperbolic functions,
atan2, fmod, lerp, rounding, isclose, division with rounding) against PyTorch, forward and
backward over a zoo of shapes, and against finite differences in float64."""

import numpy as np
import pytest

import tinytorch
from tests.helpers import UNARY_SHAPES, assert_both_raise, check_op, torch_or_skip
from tinytorch.autograd import gradcheck

pytestmark = pytest.mark.module05

# name -> (fn(lib, a), the interval the inputs are drawn from)
UNARY_MATH = {
    "log10": (lambda lib, a: lib.log10(a), (0.2, 3.0)),
    "log1p": (lambda lib, a: a.log1p(), (-0.5, 3.0)),
    "expm1": (lambda lib, a: lib.expm1(a), (-2.0, 2.0)),
    "tan": (lambda lib, a: lib.tan(a), (-1.2, 1.2)),
    "asin": (lambda lib, a: lib.asin(a), (-0.9, 0.9)),
    "arcsin": (lambda lib, a: a.arcsin(), (-0.9, 0.9)),
    "acos": (lambda lib, a: a.acos(), (-0.9, 0.9)),
    "atan": (lambda lib, a: lib.arctan(a), (-3.0, 3.0)),
    "sinh": (lambda lib, a: lib.sinh(a), (-2.0, 2.0)),
    "cosh": (lambda lib, a: a.cosh(), (-2.0, 2.0)),
    "tanh": (lambda lib, a: lib.tanh(a), (-2.0, 2.0)),
    "asinh": (lambda lib, a: lib.asinh(a), (-3.0, 3.0)),
    "acosh": (lambda lib, a: a.acosh(), (1.2, 4.0)),
    "atanh": (lambda lib, a: lib.atanh(a), (-0.9, 0.9)),
    "floor": (lambda lib, a: lib.floor(a * 3), (-3.0, 3.0)),
    "ceil": (lambda lib, a: (a * 3).ceil(), (-3.0, 3.0)),
    "round": (lambda lib, a: lib.round(a * 3), (-3.0, 3.0)),
    "round_decimals": (lambda lib, a: a.round(decimals=2), (-3.0, 3.0)),
    "round_negative_decimals": (lambda lib, a: lib.round(a * 300, decimals=-1), (-3.0, 3.0)),
    "trunc": (lambda lib, a: lib.trunc(a * 3), (-3.0, 3.0)),
    "fmod_scalar": (lambda lib, a: lib.fmod(a * 3, 0.7), (-3.0, 3.0)),
    "fmod_negative": (lambda lib, a: (a * 3).fmod(-1.1), (-3.0, 3.0)),
    "lerp_scalar": (lambda lib, a: lib.lerp(a, a * a, 0.3), (-2.0, 2.0)),
    "div_floor_scalar": (lambda lib, a: lib.div(a, 0.3, rounding_mode="floor"), (-2.0, 2.0)),
    "div_trunc_scalar": (lambda lib, a: a.div(0.3, rounding_mode="trunc"), (-2.0, 2.0)),
}

# name -> (fn(lib, a, b), interval for a, interval for b)
BINARY_MATH = {
    "atan2": (lambda lib, a, b: lib.atan2(a, b), (-2.0, 2.0), (-2.0, 2.0)),
    "arctan2_method": (lambda lib, a, b: a.arctan2(b), (-2.0, 2.0), (0.5, 2.0)),
    "fmod": (lambda lib, a, b: lib.fmod(a, b), (-5.0, 5.0), (0.5, 2.0)),
    "fmod_negative_divisor": (lambda lib, a, b: a.fmod(-b), (-5.0, 5.0), (0.5, 2.0)),
    "lerp": (lambda lib, a, b: lib.lerp(a, b, 0.75), (-2.0, 2.0), (-2.0, 2.0)),
    "lerp_tensor_weight": (lambda lib, a, b: a.lerp(b * 2, b), (-2.0, 2.0), (0.1, 0.9)),
    "div_floor": (lambda lib, a, b: lib.div(a, b, rounding_mode="floor"), (-5.0, 5.0), (0.5, 2)),
    "div_trunc": (lambda lib, a, b: a.div(-b, rounding_mode="trunc"), (-5.0, 5.0), (0.5, 2.0)),
    "true_divide": (lambda lib, a, b: lib.true_divide(a, b), (-5.0, 5.0), (0.5, 2.0)),
}

BINARY_MATH_SHAPES = [((), ()), ((3,), ()), ((4, 1), (1, 5)), ((2, 3, 4), (3, 1))]


def uniform(shape, interval, dtype=np.float32):
    low, high = interval
    return np.random.uniform(low, high, shape).astype(dtype)


@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("name", UNARY_MATH)
def test_unary_against_pytorch(name, shape):
    fn, interval = UNARY_MATH[name]
    check_op(fn, uniform(shape, interval), atol=1e-4)


@pytest.mark.parametrize("name", UNARY_MATH)
def test_unary_on_transposed_input(name):
    fn, interval = UNARY_MATH[name]
    check_op(lambda lib, a: fn(lib, a.T[::2]), uniform((3, 4), interval), atol=1e-4)


@pytest.mark.parametrize("shapes", BINARY_MATH_SHAPES, ids=str)
@pytest.mark.parametrize("name", BINARY_MATH)
def test_binary_against_pytorch(name, shapes):
    fn, interval_a, interval_b = BINARY_MATH[name]
    a, b = uniform(shapes[0], interval_a), uniform(shapes[1], interval_b)
    check_op(fn, a, b, atol=1e-4)


@pytest.mark.parametrize("name", [n for n in UNARY_MATH if not n.startswith(("floor", "ceil"))])
def test_unary_gradcheck(name):
    fn, interval = UNARY_MATH[name]
    x = tinytorch.tensor(uniform((2, 3), interval, np.float64), requires_grad=True)
    if name.startswith(("round", "trunc", "fmod", "div")):
        x = tinytorch.tensor(np.round(x.detach().numpy() * 3 - 0.5) / 3 + 0.01, requires_grad=True)
    assert gradcheck(lambda a: fn(tinytorch, a), [x])


@pytest.mark.parametrize("name", [n for n in BINARY_MATH if not n.startswith("div")])
def test_binary_gradcheck(name):
    fn, interval_a, interval_b = BINARY_MATH[name]
    a = tinytorch.tensor(uniform((3, 1), interval_a, np.float64) + 0.01, requires_grad=True)
    b = tinytorch.tensor(uniform((1, 2), interval_b, np.float64), requires_grad=True)
    assert gradcheck(lambda a, b: fn(tinytorch, a, b), [a, b])


def test_rounding_gives_zero_gradients_like_pytorch():
    x = tinytorch.tensor([0.4, 1.6], requires_grad=True)
    (x.floor() + x.round() + x.div(x + 1, rounding_mode="floor")).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_integer_inputs():
    torch = torch_or_skip()
    a, b = np.array([-7, 7, 5, -5]), np.array([2, -2, 3, 3])
    for mode in ("trunc", "floor"):
        ours = tinytorch.tensor(a).div(tinytorch.tensor(b), rounding_mode=mode)
        assert ours.dtype == tinytorch.int64
        assert ours.tolist() == torch.tensor(a).div(torch.tensor(b), rounding_mode=mode).tolist()
    expected = torch.fmod(torch.tensor(a), 3).tolist()
    assert tinytorch.fmod(tinytorch.tensor(a), 3).tolist() == expected
    assert tinytorch.floor(tinytorch.tensor(a)).tolist() == a.tolist()
    assert tinytorch.atan2(tinytorch.tensor(a), tinytorch.tensor(b)).dtype == tinytorch.float32
    logs = tinytorch.log10(tinytorch.tensor([10, 100]))  # integers promote to float32
    assert logs.dtype == tinytorch.float32
    assert logs.tolist() == pytest.approx([1.0, 2.0], rel=1e-6)  # float32 log10 may be 1 ulp off


def test_round_halves_to_even():
    assert tinytorch.tensor([0.5, 1.5, 2.5, -0.5]).round().tolist() == [0.0, 2.0, 2.0, -0.0]


@pytest.mark.parametrize("equal_nan", [False, True])
def test_isclose(equal_nan):
    a = np.array([1.0, 1.0 + 1e-6, 1.1, np.nan, np.inf], dtype=np.float32)
    b = np.array([1.0, 1.0, 1.0, np.nan, np.inf], dtype=np.float32)
    check_op(lambda lib, a, b: lib.isclose(a, b, equal_nan=equal_nan), a, b, grad=False)
    check_op(lambda lib, a, b: a.isclose(b, rtol=0.2, atol=0.0), a, b, grad=False)


def test_bad_inputs_raise_like_pytorch():
    ints = np.array([5, 3])
    assert_both_raise(lambda lib, a: lib.div(a, 0, rounding_mode="floor"), ints)
    assert_both_raise(lambda lib, a: lib.fmod(a, 0), ints)
    assert_both_raise(lambda lib, a: lib.div(a, 2, rounding_mode="round"), ints)
    with pytest.raises(RuntimeError, match="rounding_mode"):
        tinytorch.tensor([1.0]).div(2, rounding_mode="nearest")
