"""The speed-minded paths of convolution and pooling, against PyTorch (module 09).

Max pooling keeps a running maximum over the kernel taps (ties go to the first tap, NaN
wins); both poolings send gradients back tap by tap; convolution's input gradient is one
matrix product per kernel tap. These cases pin the behaviour those loops must keep:
windows that tile the input exactly, overlap, or leave pixels out; stride 1 and stride 2;
kernels with more than 256 taps; NaN inputs and infinite gradients.
"""

import numpy as np
import pytest

import tinytorch
from tests.helpers import assert_close, check_op, random_array

pytestmark = [pytest.mark.module09, pytest.mark.module05]

# (input shape, kernel_size, stride, padding)
TILINGS = [
    ((4, 6, 28, 28), 2, 2, 0),  # LeNet-5: windows tile the input exactly
    ((2, 3, 5, 5), 2, 2, 0),  # the last row and column belong to no window
    ((2, 3, 9, 9), 3, 3, 0),  # 3x3 tiles
    ((2, 3, 8, 8), 3, 2, 1),  # overlapping windows and padding
    ((2, 3, 8, 8), 2, 3, 0),  # gaps between windows
]


@pytest.mark.parametrize("case", TILINGS, ids=str)
def test_max_and_avg_pool2d_tilings_match_pytorch(case: tuple) -> None:
    shape, kernel, stride, padding = case
    x = random_array(shape)
    check_op(lambda lib, x: lib.nn.functional.max_pool2d(x, kernel, stride, padding), x)
    check_op(lambda lib, x: lib.nn.functional.avg_pool2d(x, kernel, stride, padding), x)


def test_max_pool2d_after_relu_ties_match_pytorch() -> None:
    # ReLU before pooling makes all-zero windows common: the gradient goes to the first zero
    x = np.maximum(random_array((2, 4, 8, 8)), 0)
    check_op(lambda lib, x: lib.nn.functional.max_pool2d(x, 2), x)


def test_max_pool2d_nan_wins_like_pytorch() -> None:
    torch = pytest.importorskip("torch")
    x = random_array((1, 1, 4, 6))
    x[0, 0, 0, 1] = np.nan  # NaN after a number
    x[0, 0, 1, 2] = x[0, 0, 0, 3] = np.nan  # two NaNs in one window
    x[0, 0, 2, 0] = np.nan
    x[0, 0, 2, 1] = 100.0  # a large number after a NaN
    ours = tinytorch.nn.functional.max_pool2d(
        tinytorch.tensor(x, requires_grad=True), 2, return_indices=True
    )
    theirs = torch.nn.functional.max_pool2d(
        torch.tensor(x, requires_grad=True), 2, return_indices=True
    )
    np.testing.assert_array_equal(
        ours[0].detach().numpy(), theirs[0].detach().numpy()
    )  # NaN == NaN
    assert_close(ours[1], theirs[1])


def test_max_pool2d_infinite_gradient_reaches_only_the_winners() -> None:
    torch = pytest.importorskip("torch")
    x = random_array((2, 3, 6, 6))
    upstream = random_array((2, 3, 3, 3))
    upstream[0, 0, 0, 0], upstream[1, 2, 1, 2] = np.inf, -np.inf
    ours = tinytorch.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    tinytorch.nn.functional.max_pool2d(ours, 2).backward(tinytorch.tensor(upstream))
    torch.nn.functional.max_pool2d(theirs, 2).backward(torch.tensor(upstream))
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_max_pool2d_kernel_with_more_than_256_taps_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    x = random_array((1, 2, 20, 19))
    ours = tinytorch.nn.functional.max_pool2d(tinytorch.tensor(x), 17, 1, return_indices=True)
    theirs = torch.nn.functional.max_pool2d(torch.tensor(x), 17, 1, return_indices=True)
    assert_close(ours[0], theirs[0])
    assert_close(ours[1], theirs[1])
    check_op(lambda lib, x: lib.nn.functional.max_pool2d(x, 17, 1), x)


# (input shape, weight shape, stride, padding, dilation, groups)
CONV_BACKWARD_CASES = [
    ((4, 1, 28, 28), (6, 1, 5, 5), 1, 2, 1, 1),  # LeNet-5's first convolution
    ((4, 6, 14, 14), (16, 6, 5, 5), 1, 0, 1, 1),  # LeNet-5's second convolution
    ((4, 6, 14, 14), (16, 6, 5, 5), 2, 0, 1, 1),  # stride 2: taps read every other pixel
    ((2, 4, 11, 10), (6, 2, 3, 3), 2, 1, 2, 2),  # stride, dilation and groups at once
    ((2, 4, 26, 24), (6, 2, 3, 3), 1, 1, 2, 2),  # the same, with image-by-image products
]


@pytest.mark.parametrize("case", CONV_BACKWARD_CASES, ids=str)
def test_conv2d_input_gradient_tap_by_tap_matches_pytorch(case: tuple) -> None:
    x_shape, w_shape, stride, padding, dilation, groups = case
    check_op(
        lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b, stride, padding, dilation, groups),
        random_array(x_shape),
        random_array(w_shape),
        random_array(w_shape[:1]),
        atol=1e-4,
    )
