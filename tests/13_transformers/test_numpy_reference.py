"""Module 13 against NumPy: layer norm, encoder layers and the encoder stack.

No PyTorch needed. Layer norm is (x - mean) / sqrt(var + eps) * weight + bias over the last
dims (biased variance). A post-norm encoder layer computes
    x = norm1(x + attention(x)),  x = norm2(x + linear2(activation(linear1(x)))),
a pre-norm one (``norm_first``) x = x + attention(norm1(x)), x = x + ff(norm2(x)).
Backward passes are checked by float64 finite differences (``gradcheck``).
"""

import math

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tests.helpers import as_numpy, layer_norm, multihead_attention, random_array
from tinytorch.autograd import gradcheck

pytestmark = pytest.mark.module13

erf = np.vectorize(math.erf)


@pytest.mark.parametrize("normalized_shape", [(6,), (3, 6)], ids=str)
def test_layer_norm_normalises_the_last_dims(normalized_shape: tuple) -> None:
    x = random_array((2, 3, 6)) * 3 + 1
    weight, bias = random_array(normalized_shape), random_array(normalized_shape)
    out = F.layer_norm(
        tinytorch.tensor(x), normalized_shape, tinytorch.tensor(weight), tinytorch.tensor(bias)
    )
    expected = layer_norm(x, weight, bias, dims=len(normalized_shape))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-5)


def test_layer_norm_module_starts_as_plain_normalisation() -> None:
    norm = nn.LayerNorm((3, 4), eps=1e-3)
    assert norm.normalized_shape == (3, 4) and norm.eps == 1e-3
    np.testing.assert_array_equal(as_numpy(norm.weight), np.ones((3, 4)))
    np.testing.assert_array_equal(as_numpy(norm.bias), np.zeros((3, 4)))
    x = random_array((5, 3, 4))
    expected = layer_norm(x, dims=2, eps=1e-3)
    np.testing.assert_allclose(as_numpy(norm(tinytorch.tensor(x))), expected, rtol=1e-4, atol=1e-5)
    assert nn.LayerNorm(4, elementwise_affine=False).weight is None
    assert nn.LayerNorm(4, bias=False).bias is None


def test_layer_norm_backward_matches_finite_differences() -> None:
    x, w, b = (
        tinytorch.tensor(np.random.standard_normal(s), requires_grad=True)
        for s in [(3, 2, 5), (2, 5), (2, 5)]
    )
    assert gradcheck(lambda x, w, b: F.layer_norm(x, (2, 5), w, b), [x, w, b])


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1 + erf(x / math.sqrt(2)))


def encoder_layer_reference(layer, x: np.ndarray, keep=True, activation=relu) -> np.ndarray:
    """The NumPy forward of ``layer`` (batch first, no dropout) for x (N, S, E)."""

    def norm(module, values):
        return layer_norm(values, as_numpy(module.weight), as_numpy(module.bias), eps=module.eps)

    def linear(module, values):
        return values @ as_numpy(module.weight).T + as_numpy(module.bias)

    def attend(values):
        return multihead_attention(layer.self_attn, values, values, values, keep)[0]

    def feed_forward(values):
        return linear(layer.linear2, activation(linear(layer.linear1, values)))

    if layer.norm_first:
        x = x + attend(norm(layer.norm1, x))
        return x + feed_forward(norm(layer.norm2, x))
    x = norm(layer.norm1, x + attend(x))
    return norm(layer.norm2, x + feed_forward(x))


def randomise(module: nn.Module) -> None:
    """Give every parameter random values, so that zero biases and unit norms hide nothing."""
    for param in module.parameters():
        param.data = tinytorch.tensor(random_array(tuple(param.shape)) * 0.5)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_matches_its_formula(norm_first: bool, activation: str) -> None:
    layer = nn.TransformerEncoderLayer(
        8,
        2,
        dim_feedforward=16,
        dropout=0.0,
        activation=activation,
        batch_first=True,
        norm_first=norm_first,
    )
    assert layer.linear1.weight.shape == (16, 8) and layer.norm1.normalized_shape == (8,)
    randomise(layer)
    x = random_array((2, 5, 8))
    padding = np.zeros((2, 5), bool)
    padding[0, 3:] = True  # True: may not attend
    reference = relu if activation == "relu" else gelu
    expected = encoder_layer_reference(layer, x, ~padding[:, None, None, :], reference)
    out = layer(tinytorch.tensor(x), src_key_padding_mask=tinytorch.tensor(padding))
    np.testing.assert_allclose(as_numpy(out), expected, rtol=1e-4, atol=1e-4)


def test_encoder_stacks_independent_copies_then_its_norm() -> None:
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=12, dropout=0.0)
    encoder = nn.TransformerEncoder(layer, num_layers=3, norm=nn.LayerNorm(8))
    assert len(encoder.layers) == 3 and encoder.layers[0] is not layer
    randomise(encoder)
    x = random_array((2, 4, 8))  # (N, S, E); the layers are sequence first
    causal = np.triu(np.ones((4, 4), bool), k=1)  # True above the diagonal: may not attend
    expected = x
    for copy in encoder.layers:
        expected = encoder_layer_reference(copy, expected, ~causal)
    expected = layer_norm(expected, as_numpy(encoder.norm.weight), as_numpy(encoder.norm.bias))
    out = encoder(tinytorch.tensor(x.transpose(1, 0, 2).copy()), mask=tinytorch.tensor(causal))
    np.testing.assert_allclose(as_numpy(out), expected.transpose(1, 0, 2), rtol=1e-4, atol=1e-4)
