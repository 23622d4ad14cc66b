"""The unfused compositions equal the fused Functions, in values and gradients, and keep more."""

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F
from tinytorch.acceleration import count_nodes, saved_bytes, unfused

pytestmark = pytest.mark.module18


def leaf(array):
    return tinytorch.tensor(array, requires_grad=True)


def compare(fused_fn, unfused_fn, arrays, keeps_more=True):
    fused_inputs = [leaf(a) for a in arrays]
    unfused_inputs = [leaf(a) for a in arrays]
    fused = fused_fn(*fused_inputs)
    composed = unfused_fn(*unfused_inputs)
    np.testing.assert_allclose(composed.detach().numpy(), fused.detach().numpy(), rtol=1e-10)
    assert count_nodes(composed) > count_nodes(fused)
    assert (saved_bytes(composed) > saved_bytes(fused)) == keeps_more
    upstream = np.random.default_rng(3).standard_normal(fused.shape)
    fused.backward(tinytorch.tensor(upstream))
    composed.backward(tinytorch.tensor(upstream))
    for a, b in zip(fused_inputs, unfused_inputs, strict=True):
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_gelu():
    x = np.random.default_rng(0).standard_normal((4, 6))
    compare(lambda t: F.gelu(t, approximate="tanh"), unfused.gelu_tanh, [x])


def test_layer_norm():
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((4, 6)), rng.standard_normal(6), rng.standard_normal(6)
    compare(lambda t, w, b: F.layer_norm(t, (6,), w, b), unfused.layer_norm, [x, w, b])


def test_cross_entropy():
    logits = np.random.default_rng(2).standard_normal((5, 7)) * 3
    target = tinytorch.tensor([0, 6, 3, 3, 1])
    compare(
        lambda t: F.cross_entropy(t, target),
        lambda t: unfused.cross_entropy(t, target),
        [logits],
        keeps_more=False,  # the fused loss keeps log-probabilities and a dense target (M, C)
    )
