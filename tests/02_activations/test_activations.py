"""Activation functions and layers (module 02).

Their backward passes are written in module 05 (autograd): the tests that need them carry the
``module05`` marker as well.
"""

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F
from tests.helpers import assert_close, check_op
from tinytorch.autograd import gradcheck

pytestmark = pytest.mark.module02
needs_autograd = pytest.mark.module05

SHAPES = [(), (1,), (5,), (3, 1), (2, 3, 4)]

# name -> call with the library (tinytorch or torch) and one input tensor
ACTIVATIONS = {
    "relu": lambda lib, x: lib.nn.functional.relu(x),
    "leaky_relu": lambda lib, x: lib.nn.functional.leaky_relu(x, 0.2),
    "sigmoid": lambda lib, x: lib.nn.functional.sigmoid(x),
    "tanh": lambda lib, x: lib.nn.functional.tanh(x),
    "gelu": lambda lib, x: lib.nn.functional.gelu(x),
    "gelu_tanh": lambda lib, x: lib.nn.functional.gelu(x, approximate="tanh"),
    "silu": lambda lib, x: lib.nn.functional.silu(x),
    "softmax": lambda lib, x: lib.nn.functional.softmax(x, dim=-1),
    "log_softmax": lambda lib, x: lib.nn.functional.log_softmax(x, dim=0),
}


def random_input(shape: tuple, scale: float = 3.0) -> np.ndarray:
    return (np.random.standard_normal(shape) * scale).astype(np.float32)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_forward_matches_pytorch(name: str, shape: tuple) -> None:
    check_op(ACTIVATIONS[name], random_input(shape), grad=False)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_forward_is_stable_for_large_magnitudes(name: str) -> None:
    x = np.array([[-1e4, -100.0, -30.0, 0.0, 30.0, 100.0, 1e4]], dtype=np.float32)
    check_op(ACTIVATIONS[name], x, grad=False)
    assert np.isfinite(ACTIVATIONS[name](tinytorch, tinytorch.tensor(x)).detach().numpy()).all()


def test_float64_stays_float64() -> None:
    x = tinytorch.randn(3, 4, dtype=tinytorch.float64)
    for name, call in ACTIVATIONS.items():
        assert call(tinytorch, x).dtype == tinytorch.float64, name


def test_relu_and_leaky_relu_at_known_points() -> None:
    x = tinytorch.tensor([-2.0, 0.0, 3.0])
    assert F.relu(x).tolist() == [0.0, 0.0, 3.0]
    assert F.leaky_relu(x).tolist() == pytest.approx([-0.02, 0.0, 3.0])


def test_softmax_rows_are_probabilities() -> None:
    probabilities = F.softmax(tinytorch.randn(4, 6) * 50, dim=1).detach().numpy()
    assert (probabilities >= 0).all()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)


def test_log_softmax_of_tiny_probability_is_finite() -> None:
    out = F.log_softmax(tinytorch.tensor([0.0, -200.0]), dim=0)
    assert out.detach().numpy()[1] == pytest.approx(-200.0)


def test_softmax_dtype_argument_converts_first() -> None:
    out = F.softmax(tinytorch.randn(2, 3), dim=1, dtype=tinytorch.float64)
    assert out.dtype == tinytorch.float64


def test_softmax_without_dim_warns_and_uses_pytorchs_implicit_dim() -> None:
    x = random_input((2, 3))
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = F.softmax(tinytorch.tensor(x))
    assert_close(out, F.softmax(tinytorch.tensor(x), dim=1))


def test_tensor_methods_call_the_activations() -> None:
    x = tinytorch.tensor(random_input((2, 3)))
    assert_close(x.relu(), F.relu(x))
    assert_close(x.sigmoid(), F.sigmoid(x))
    assert_close(x.tanh(), F.tanh(x))
    assert_close(x.softmax(1), F.softmax(x, dim=1))
    assert_close(x.log_softmax(0), F.log_softmax(x, dim=0))


# name -> build the layer with the library (tinytorch or torch); built inside the test, since
# layers need nn.Module (module 03) and comparing gradients needs autograd (module 05)
MODULES = {
    "ReLU": lambda lib: lib.nn.ReLU(),
    "LeakyReLU": lambda lib: lib.nn.LeakyReLU(0.1),
    "Sigmoid": lambda lib: lib.nn.Sigmoid(),
    "Tanh": lambda lib: lib.nn.Tanh(),
    "GELU": lambda lib: lib.nn.GELU(approximate="tanh"),
    "SiLU": lambda lib: lib.nn.SiLU(),
    "Softmax": lambda lib: lib.nn.Softmax(dim=1),
    "LogSoftmax": lambda lib: lib.nn.LogSoftmax(dim=1),
}


@needs_autograd
@pytest.mark.parametrize("name", MODULES)
def test_modules_match_pytorch_and_print_alike(name: str) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = MODULES[name](tinytorch), MODULES[name](torch)
    check_op(lambda lib, x: (ours if lib is tinytorch else theirs)(x), random_input((3, 4)))
    assert repr(ours) == repr(theirs)


def test_gelu_rejects_unknown_approximation() -> None:
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh'"):
        F.gelu(tinytorch.ones(2), approximate="fast")


def test_softmax_rejects_dim_out_of_range() -> None:
    with pytest.raises(IndexError, match=r"softmax: dim 2 is out of range .* shape \(2, 3\)"):
        F.softmax(tinytorch.ones(2, 3), dim=2)


@needs_autograd
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_backward_matches_pytorch(name: str, shape: tuple) -> None:
    check_op(ACTIVATIONS[name], random_input(shape))


@needs_autograd
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_backward_is_stable_for_large_magnitudes(name: str) -> None:
    x = np.array([[-1e4, -100.0, -30.0, 0.5, 30.0, 100.0, 1e4]], dtype=np.float32)
    check_op(ACTIVATIONS[name], x)


@needs_autograd
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_gradient_matches_finite_differences_in_float64(name: str) -> None:
    x = tinytorch.tensor(random_input((3, 4)).astype(np.float64), requires_grad=True)
    x.data[x.data.abs() < 1e-3] += 0.01  # keep away from the kink of relu at 0
    assert gradcheck(lambda t: ACTIVATIONS[name](tinytorch, t), (x,))


@needs_autograd
def test_relu_gradient_at_zero_is_zero_as_in_pytorch() -> None:
    check_op(lambda lib, x: lib.nn.functional.relu(x), np.zeros(3, np.float32))


@needs_autograd
def test_gelu_gradient_at_zero_is_one_half_as_in_pytorch() -> None:
    """Backward recovers Phi(a) as out / a, which is 0 / 0 at a = 0 (see ``GELU``)."""
    x = np.array([0.0, -0.0, 1e-40, 2.0, 0.0], np.float32)
    check_op(lambda lib, x: lib.nn.functional.gelu(x), x)
