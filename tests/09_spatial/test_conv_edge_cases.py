"""Convolution edge cases that PyTorch handles: layers with zero channels, an empty batch."""

import warnings

import numpy as np
import pytest

import tinytorch
from tests.helpers import check_op, random_array, torch_or_skip

pytestmark = pytest.mark.module09


@pytest.mark.parametrize(
    "make",
    [
        lambda nn: nn.Conv2d(0, 3, 3),
        lambda nn: nn.Conv2d(3, 0, 3),
        lambda nn: nn.Conv1d(0, 2, 3),
        lambda nn: nn.Linear(0, 3),
        lambda nn: nn.Linear(3, 0),
    ],
)
def test_layers_with_zero_channels_are_made_with_pytorch_warning(make):
    torch = torch_or_skip()
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        reference = make(torch.nn)
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        layer = make(tinytorch.nn)
    assert layer.weight.shape == tuple(reference.weight.shape)
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]


@pytest.mark.parametrize(
    ("shape", "fn"),
    [
        ((0, 3, 5, 5), lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b, padding=1)),
        ((0, 3, 5, 5), lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b, stride=2)),
        ((0, 3, 7), lambda lib, x, w, b: lib.nn.functional.conv1d(x, w[..., 0], b)),
    ],
)
def test_empty_batch_gives_an_empty_output_and_zero_gradients(shape, fn):
    check_op(fn, np.zeros(shape, np.float32), random_array((4, 3, 3, 3)), random_array((4,)))


def test_empty_batch_through_a_layer():
    layer = tinytorch.nn.Conv2d(3, 4, 3)
    x = tinytorch.ones(0, 3, 5, 5, requires_grad=True)
    out = layer(x)
    out.sum().backward()
    assert out.shape == (0, 4, 3, 3) and x.grad.shape == (0, 3, 5, 5)
    assert not layer.weight.grad.numpy().any() and not layer.bias.grad.numpy().any()
