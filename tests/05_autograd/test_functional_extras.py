"""softplus, hardtanh, celu, smooth_l1_loss, one_hot and normalize against PyTorch.

Forward and backward both, so the file carries module 05's marker (autograd); the float64
gradient checks test each new ``Function`` by finite differences.
"""

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tests.helpers import assert_both_raise, assert_close, check_op, torch_or_skip
from tinytorch.autograd import gradcheck

pytestmark = pytest.mark.module05

rng = np.random.default_rng(0)


def values(*shape: int, scale: float = 2.0, dtype: type = np.float32) -> np.ndarray:
    return np.asarray(rng.standard_normal(shape) * scale, dtype=dtype)


ACTIVATIONS = {
    "softplus": lambda lib, x: lib.nn.functional.softplus(x),
    "softplus_beta": lambda lib, x: lib.nn.functional.softplus(x, beta=2.5, threshold=3.0),
    "softplus_small_threshold": lambda lib, x: lib.nn.functional.softplus(x, 0.5, 0.1),
    "hardtanh": lambda lib, x: lib.nn.functional.hardtanh(x),
    "hardtanh_bounds": lambda lib, x: lib.nn.functional.hardtanh(x, -0.5, 2.0),
    "celu": lambda lib, x: lib.nn.functional.celu(x),
    "celu_alpha": lambda lib, x: lib.nn.functional.celu(x, alpha=0.4),
    "Softplus": lambda lib, x: lib.nn.Softplus(beta=2.0)(x),
    "Hardtanh": lambda lib, x: lib.nn.Hardtanh(-2.0, 0.5)(x),
    "CELU": lambda lib, x: lib.nn.CELU(1.5)(x),
}


@pytest.mark.parametrize("shape", [(), (7,), (3, 4, 5)])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_against_pytorch(name: str, shape: tuple[int, ...]) -> None:
    check_op(ACTIVATIONS[name], values(*shape))
    check_op(ACTIVATIONS[name], values(*shape, dtype=np.float64), atol=1e-7, rtol=1e-7)


def test_activations_at_the_edges() -> None:
    """Large inputs do not overflow; the bounds of hardtanh get no gradient."""
    x = np.array([-500.0, -20.0, -1.0, -0.5, 0.0, 0.5, 1.0, 19.0, 21.0, 500.0], np.float32)
    for name in ("softplus", "hardtanh", "celu", "softplus_beta"):
        check_op(ACTIVATIONS[name], x)


@pytest.mark.parametrize("name", ["softplus_beta", "hardtanh_bounds", "celu_alpha"])
def test_activation_gradcheck(name: str) -> None:
    x = tinytorch.tensor(values(4, 5, dtype=np.float64) + 0.01, requires_grad=True)
    assert gradcheck(lambda t: ACTIVATIONS[name](tinytorch, t), [x])


def test_activation_bad_arguments() -> None:
    torch_or_skip()
    x = values(3)
    assert_both_raise(lambda lib, t: lib.nn.functional.hardtanh(t, 1.0, -1.0), x)
    assert_both_raise(lambda lib, t: lib.nn.functional.celu(t, 0.0), x)
    with pytest.raises(ValueError, match="min_val"):
        nn.Hardtanh(1.0, 0.0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("beta", [1.0, 0.3, 0.0])
def test_smooth_l1_against_pytorch(reduction: str, beta: float) -> None:
    def loss(lib, x, y):
        return lib.nn.functional.smooth_l1_loss(x, y, reduction=reduction, beta=beta)

    check_op(loss, values(4, 5), values(4, 5))
    check_op(loss, values(6, dtype=np.float64), values(6, dtype=np.float64), atol=1e-12)
    check_op(lambda lib, x, y: lib.nn.SmoothL1Loss(reduction=reduction, beta=beta)(x, y),
             values(2, 3), values(2, 3))  # fmt: skip


@pytest.mark.filterwarnings("ignore:Using a target size")
def test_smooth_l1_gradcheck_and_errors() -> None:
    x = tinytorch.tensor(values(3, 4, dtype=np.float64), requires_grad=True)
    y = tinytorch.tensor(values(3, 4, dtype=np.float64), requires_grad=True)
    assert gradcheck(lambda a, b: F.smooth_l1_loss(a, b, beta=0.7), [x, y])
    torch_or_skip()
    assert_both_raise(
        lambda lib, a, b: lib.nn.functional.smooth_l1_loss(a, b, beta=-1.0),
        x.detach().numpy(),
        y.detach().numpy(),
    )  # noqa: E501
    assert_both_raise(
        lambda lib, a, b: lib.nn.functional.smooth_l1_loss(a, b), values(3), values(4)
    )
    with pytest.raises(ValueError, match="reduction"):
        F.smooth_l1_loss(x, y, reduction="avg")


@pytest.mark.parametrize("num_classes", [-1, 6])
def test_one_hot_against_pytorch(num_classes: int) -> None:
    torch = torch_or_skip()
    indices = rng.integers(0, 5, (3, 4))
    ours = F.one_hot(tinytorch.tensor(indices), num_classes)
    theirs = torch.nn.functional.one_hot(torch.tensor(indices), num_classes)
    assert_close(ours, theirs)


def test_one_hot_errors() -> None:
    torch_or_skip()
    assert_both_raise(lambda lib, t: lib.nn.functional.one_hot(t, 3), np.array([1, 5]))
    assert_both_raise(lambda lib, t: lib.nn.functional.one_hot(t), np.array([-1, 2]))
    assert_both_raise(lambda lib, t: lib.nn.functional.one_hot(t), np.array([1.0]))
    assert_both_raise(lambda lib, t: lib.nn.functional.one_hot(t), np.array([], np.int64))


@pytest.mark.parametrize(
    ("shape", "p", "dim"),
    [((4, 5), 2.0, 1), ((4, 5), 1.0, 0), ((2, 3, 4), 3.0, -1), ((6,), 2.0, 0), ((2, 3), 0.5, 1)],
)
def test_normalize_against_pytorch(shape: tuple[int, ...], p: float, dim: int) -> None:
    def run(lib, x):
        return lib.nn.functional.normalize(x, p=p, dim=dim)

    check_op(run, values(*shape))
    check_op(run, values(*shape, dtype=np.float64), atol=1e-10)
    x = tinytorch.tensor(values(*shape, dtype=np.float64), requires_grad=True)
    assert gradcheck(lambda t: F.normalize(t, p=p, dim=dim), [x])


def test_normalize_zero_vector_and_errors() -> None:
    """A zero row stays zero and gets a finite gradient, as in PyTorch."""
    x = values(3, 4)
    x[1] = 0
    check_op(lambda lib, t: lib.nn.functional.normalize(t, dim=1), x)
    check_op(lambda lib, t: lib.nn.functional.normalize(t, dim=1, eps=10.0), x)
    torch_or_skip()
    assert_both_raise(lambda lib, t: lib.nn.functional.normalize(t, dim=2), values(3, 4))
