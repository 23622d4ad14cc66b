"""Module 03's layers against NumPy: these tests need no PyTorch.

``Linear`` is ``y = x W^T + b`` with W of shape (out_features, in_features); a ``Sequential``
applies its layers in order; dropout keeps each element with probability 1 - p and scales
the kept ones by 1 / (1 - p).
"""

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tests.helpers import as_numpy, random_array

pytestmark = pytest.mark.module03


@pytest.mark.parametrize("batch", [(), (4,), (2, 3)], ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_linear_function_is_x_times_w_transposed_plus_b(batch: tuple, bias: bool) -> None:
    x, w, b = random_array((*batch, 5)), random_array((3, 5)), random_array((3,))
    out = F.linear(tinytorch.tensor(x), tinytorch.tensor(w), tinytorch.tensor(b) if bias else None)
    expected = x @ w.T + (b if bias else 0)
    assert tuple(out.shape) == (*batch, 3)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_linear_layer_uses_its_own_weight_and_bias() -> None:
    layer = nn.Linear(5, 3)
    x = random_array((4, 5))
    weight, bias = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert weight.shape == (3, 5) and bias.shape == (3,)
    np.testing.assert_allclose(as_numpy(layer(tinytorch.tensor(x))), x @ weight.T + bias, rtol=1e-5)


def test_sequential_mlp_applies_its_layers_in_order() -> None:
    model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
    w1, b1, w2, b2 = (p.detach().numpy() for p in model.parameters())
    x = random_array((3, 4))
    expected = np.maximum(x @ w1.T + b1, 0) @ w2.T + b2
    np.testing.assert_allclose(as_numpy(model(tinytorch.tensor(x))), expected, rtol=1e-5, atol=1e-5)


def test_state_dict_round_trip_reproduces_the_outputs() -> None:
    source, target = nn.Linear(4, 3), nn.Linear(4, 3)
    state = source.state_dict()
    assert list(state) == ["weight", "bias"]
    target.load_state_dict(state)
    x = tinytorch.tensor(random_array((2, 4)))
    np.testing.assert_array_equal(as_numpy(target(x)), as_numpy(source(x)))


def test_dropout_zeroes_or_scales_each_element() -> None:
    x = random_array((50, 40)) + 3  # no element is 0 before dropout
    out = F.dropout(tinytorch.tensor(x), p=0.25, training=True).numpy()
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / 0.75, rtol=1e-6)
    assert 0.2 < 1 - kept.mean() < 0.3, f"dropped {1 - kept.mean():.2f} of the elements, not 0.25"


@pytest.mark.parametrize(
    ("initialise", "low", "high"),
    [
        (lambda w: nn.init.uniform_(w, -0.5, 2.0), -0.5, 2.0),
        (lambda w: nn.init.xavier_uniform_(w), -np.sqrt(6 / 300), np.sqrt(6 / 300)),
        (lambda w: nn.init.kaiming_uniform_(w), -np.sqrt(6 / 100), np.sqrt(6 / 100)),
    ],
    ids=["uniform", "xavier_uniform", "kaiming_uniform"],
)
def test_uniform_initialisers_fill_their_whole_range(initialise, low: float, high: float) -> None:
    weight = tinytorch.empty(200, 100)
    values = initialise(weight).numpy()
    assert values.min() >= low and values.max() <= high
    span = high - low  # 20,000 draws reach within 1% of both bounds
    assert values.min() < low + 0.01 * span and values.max() > high - 0.01 * span
    np.testing.assert_allclose(values.mean(), (low + high) / 2, atol=0.01 * span)


def test_linear_default_weights_are_kaiming_uniform_with_a_sqrt5() -> None:
    layer = nn.Linear(100, 200)
    bound = 1 / np.sqrt(100)  # gain sqrt(2 / (1 + 5)) * sqrt(3 / fan_in)
    weight, bias = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.98 * bound
    assert np.abs(bias).max() <= bound and np.abs(bias).max() > 0.9 * bound
