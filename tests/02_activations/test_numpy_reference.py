"""Activations against NumPy, forward (module 02) and backward (module 05): no PyTorch needed.

Each backward is checked against the derivative written out in NumPy, for a random upstream
gradient, so ``ReLU.backward`` returning ``grad * 0`` fails whether or not PyTorch is there.
"""

import math

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F
from tests.helpers import softmax

pytestmark = pytest.mark.module02
needs_autograd = pytest.mark.module05

erf = np.vectorize(math.erf)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def gelu_tanh(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


# name -> (tinytorch call, NumPy forward, NumPy backward: (x, upstream) -> gradient)
ACTIVATIONS = {
    "relu": (F.relu, lambda x: np.maximum(x, 0), lambda x, g: g * (x > 0)),
    "leaky_relu": (
        lambda x: F.leaky_relu(x, 0.2),
        lambda x: np.where(x > 0, x, 0.2 * x),
        lambda x, g: np.where(x > 0, g, 0.2 * g),
    ),
    "sigmoid": (F.sigmoid, sigmoid, lambda x, g: g * sigmoid(x) * (1 - sigmoid(x))),
    "tanh": (F.tanh, np.tanh, lambda x, g: g * (1 - np.tanh(x) ** 2)),
    "silu": (
        F.silu,
        lambda x: x * sigmoid(x),
        lambda x, g: g * (sigmoid(x) + x * sigmoid(x) * (1 - sigmoid(x))),
    ),
    "gelu": (
        F.gelu,
        lambda x: 0.5 * x * (1 + erf(x / math.sqrt(2))),
        lambda x, g: (
            g
            * (0.5 * (1 + erf(x / math.sqrt(2))) + x * np.exp(-(x**2) / 2) / math.sqrt(2 * math.pi))
        ),
    ),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), gelu_tanh, None),
    "softmax": (
        lambda x: F.softmax(x, dim=-1),
        lambda x: softmax(x, -1),
        lambda x, g: softmax(x, -1) * (g - (g * softmax(x, -1)).sum(-1, keepdims=True)),
    ),
    "log_softmax": (
        lambda x: F.log_softmax(x, dim=0),
        lambda x: np.log(softmax(x, 0)),
        lambda x, g: g - softmax(x, 0) * g.sum(0, keepdims=True),
    ),
}
WITH_BACKWARD = [name for name, (_, _, backward) in ACTIVATIONS.items() if backward]


def random_input() -> np.ndarray:
    return (np.random.standard_normal((3, 5)) * 3).astype(np.float32)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_forward_matches_numpy(name: str) -> None:
    ours, forward, _ = ACTIVATIONS[name]
    x = random_input()
    out = ours(tinytorch.tensor(x))
    assert tuple(out.shape) == x.shape and out.dtype == tinytorch.float32
    np.testing.assert_allclose(out.numpy(), forward(x), rtol=1e-5, atol=1e-5)


@needs_autograd
@pytest.mark.parametrize("name", WITH_BACKWARD)
def test_backward_matches_the_numpy_derivative(name: str) -> None:
    ours, _, backward = ACTIVATIONS[name]
    x = random_input()
    upstream = np.random.standard_normal(x.shape).astype(np.float32)
    inputs = tinytorch.tensor(x, requires_grad=True)
    ours(inputs).backward(tinytorch.tensor(upstream))
    assert inputs.grad is not None, f"{name}: no gradient reached the input"
    np.testing.assert_allclose(inputs.grad.numpy(), backward(x, upstream), rtol=1e-4, atol=1e-5)


@needs_autograd
@pytest.mark.parametrize("name", ["ReLU", "Sigmoid", "Tanh"])
def test_activation_layers_backward_like_their_functions(name: str) -> None:
    _, _, backward = ACTIVATIONS[name.lower()]
    x = random_input()
    inputs = tinytorch.tensor(x, requires_grad=True)
    getattr(tinytorch.nn, name)()(inputs).sum().backward()
    np.testing.assert_allclose(
        inputs.grad.numpy(), backward(x, np.ones_like(x)), rtol=1e-4, atol=1e-5
    )
