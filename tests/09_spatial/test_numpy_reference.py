"""Module 09 against NumPy loops: convolution, pooling, padding, batch norm; no PyTorch needed.

The references below loop over every output position in plain NumPy, the textbook
definitions that the package computes with im2col and strided windows. Backward passes are
checked by float64 finite differences (``gradcheck``).
"""

import math

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tests.helpers import as_numpy, random_array
from tinytorch.autograd import gradcheck

pytestmark = pytest.mark.module09


def conv2d_loops(x, w, b, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    """out[n, o, i, j] = b[o] + sum_{c, p, q} w[o, c, p, q] x_pad[n, g C' + c, i s + p d, j s + q d]
    for x (N, C, H, W), w (O, C' = C / groups, kh, kw) and o in group g."""
    (sh, sw), (dh, dw) = stride, dilation
    x = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    n, _, h, width = x.shape
    outs, per_group, kh, kw = w.shape
    oh, ow = (h - dh * (kh - 1) - 1) // sh + 1, (width - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, outs, oh, ow), x.dtype)
    for o in range(outs):
        first = o // (outs // groups) * per_group  # first input channel of o's group
        for i in range(oh):
            for j in range(ow):
                rows = slice(i * sh, i * sh + dh * (kh - 1) + 1, dh)
                cols = slice(j * sw, j * sw + dw * (kw - 1) + 1, dw)
                window = x[:, first : first + per_group, rows, cols]  # (N, C', kh, kw)
                out[:, o, i, j] = (window * w[o]).sum(axis=(1, 2, 3)) + (0 if b is None else b[o])
    return out


def pool_loops(x, kernel, stride, padding, reduce, fill, dilation=1):
    """reduce over every kernel window (taps ``dilation`` apart) of x padded with ``fill``."""
    x = np.pad(x, ((0, 0), (0, 0), (padding,) * 2, (padding,) * 2), constant_values=fill)
    reach = dilation * (kernel - 1) + 1  # the pixels a window spans
    oh, ow = (x.shape[2] - reach) // stride + 1, (x.shape[3] - reach) // stride + 1
    out = np.zeros(x.shape[:2] + (oh, ow), x.dtype)
    for i in range(oh):
        for j in range(ow):
            rows = slice(i * stride, i * stride + reach, dilation)
            cols = slice(j * stride, j * stride + reach, dilation)
            out[:, :, i, j] = reduce(x[:, :, rows, cols])
    return out


CONVOLUTIONS = {
    "plain": {},
    "stride_padding": {"stride": (2, 1), "padding": (1, 2)},
    "dilation": {"dilation": (2, 1), "padding": (2, 0)},
    "groups": {"groups": 2, "stride": (1, 2)},
}


@pytest.mark.parametrize("case", CONVOLUTIONS)
def test_conv2d_is_the_sum_over_each_window(case: str) -> None:
    settings = CONVOLUTIONS[case]
    groups = settings.get("groups", 1)
    x, w, b = random_array((2, 4, 7, 6)), random_array((6, 4 // groups, 3, 2)), random_array((6,))
    out = F.conv2d(*(tinytorch.tensor(a) for a in (x, w, b)), **settings)
    np.testing.assert_allclose(out.numpy(), conv2d_loops(x, w, b, **settings), rtol=1e-4, atol=1e-5)


def test_conv2d_layer_uses_its_weights_and_default_initialisation() -> None:
    layer = nn.Conv2d(4, 6, kernel_size=(3, 2), stride=2, padding=1, groups=2, bias=True)
    weight, bias = as_numpy(layer.weight), as_numpy(layer.bias)
    assert weight.shape == (6, 2, 3, 2) and bias.shape == (6,)
    bound = 1 / math.sqrt(2 * 3 * 2)  # 1 / sqrt(fan_in), fan_in = C / groups * kh * kw
    assert 0.8 * bound < np.abs(weight).max() <= bound and np.abs(bias).max() <= bound
    x = random_array((2, 4, 7, 6))
    expected = conv2d_loops(x, weight, bias, (2, 2), (1, 1), groups=2)
    np.testing.assert_allclose(as_numpy(layer(tinytorch.tensor(x))), expected, rtol=1e-4, atol=1e-5)
    assert nn.Conv2d(3, 5, 3, bias=False).bias is None


@pytest.mark.parametrize(("kernel", "stride", "padding"), [(2, 2, 0), (3, 2, 1), (3, 1, 0)])
def test_max_and_avg_pooling_reduce_each_window(kernel, stride, padding) -> None:
    x = random_array((2, 3, 7, 6))
    pooled = F.max_pool2d(tinytorch.tensor(x), kernel, stride, padding)
    expected = pool_loops(x, kernel, stride, padding, lambda v: v.max(axis=(2, 3)), -np.inf)
    np.testing.assert_array_equal(pooled.numpy(), expected)
    averaged = F.avg_pool2d(tinytorch.tensor(x), kernel, stride, padding)
    expected = pool_loops(x, kernel, stride, padding, lambda v: v.mean(axis=(2, 3)), 0.0)
    np.testing.assert_allclose(averaged.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_dilated_max_pooling_takes_every_other_pixel() -> None:
    x = random_array((2, 3, 8, 7))
    pooled = F.max_pool2d(tinytorch.tensor(x), 3, stride=2, padding=1, dilation=2)
    expected = pool_loops(x, 3, 2, 1, lambda v: v.max(axis=(2, 3)), -np.inf, dilation=2)
    np.testing.assert_array_equal(pooled.numpy(), expected)


def test_avg_pooling_can_leave_the_padding_out_of_the_mean() -> None:
    x = random_array((1, 2, 5, 5))
    out = F.avg_pool2d(tinytorch.tensor(x), 3, 2, 1, count_include_pad=False)
    sums = pool_loops(x, 3, 2, 1, lambda v: v.sum(axis=(2, 3)), 0.0)
    counts = pool_loops(np.ones_like(x), 3, 2, 1, lambda v: v.sum(axis=(2, 3)), 0.0)
    np.testing.assert_allclose(out.numpy(), sums / counts, rtol=1e-5, atol=1e-6)


def test_max_pool_indices_point_at_each_maximum() -> None:
    x = random_array((2, 3, 6, 6))
    pooled, indices = F.max_pool2d(tinytorch.tensor(x), 2, return_indices=True)
    flat = x.reshape(2, 3, 36)
    picked = np.take_along_axis(flat, indices.numpy().reshape(2, 3, 9), axis=2)
    np.testing.assert_array_equal(picked.reshape(2, 3, 3, 3), pooled.numpy())


@pytest.mark.parametrize("size", [(1, 1), (3, 2), (5, 7)], ids=str)
def test_adaptive_avg_pool_averages_floor_to_ceil_windows(size: tuple) -> None:
    x = random_array((2, 3, 7, 5))
    expected = np.zeros((2, 3, *size), np.float32)
    for i in range(size[0]):
        for j in range(size[1]):
            rows = slice(i * 7 // size[0], math.ceil((i + 1) * 7 / size[0]))
            cols = slice(j * 5 // size[1], math.ceil((j + 1) * 5 / size[1]))
            expected[:, :, i, j] = x[:, :, rows, cols].mean(axis=(2, 3))
    out = F.adaptive_avg_pool2d(tinytorch.tensor(x), size)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("mode", "numpy_mode"),
    [("constant", "constant"), ("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")],
)
def test_pad_modes_match_numpys(mode: str, numpy_mode: str) -> None:
    x = random_array((2, 3, 4, 5))
    out = F.pad(tinytorch.tensor(x), (2, 1, 1, 3), mode=mode)
    expected = np.pad(x, ((0, 0), (0, 0), (1, 3), (2, 1)), mode=numpy_mode)
    np.testing.assert_array_equal(out.numpy(), expected)


def test_constant_pad_with_a_value_and_negative_widths_crops() -> None:
    x = random_array((3, 6))
    out = F.pad(tinytorch.tensor(x), (-1, 2, 1, -2), value=7.0)
    expected = np.pad(x, ((1, 0), (0, 2)), constant_values=7.0)[:-2, 1:]
    np.testing.assert_array_equal(out.numpy(), expected)


def batch_norm_reference(x, weight, bias, mean, var, eps=1e-5):
    shape = (1, -1) + (1,) * (x.ndim - 2)  # broadcast per channel (dim 1)
    normalised = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    return normalised * weight.reshape(shape) + bias.reshape(shape)


def test_batch_norm_trains_on_batch_statistics_and_evaluates_on_running_ones() -> None:
    layer = nn.BatchNorm2d(3, momentum=0.2)
    assert np.array_equal(as_numpy(layer.weight), np.ones(3)) and not as_numpy(layer.bias).any()
    weight, bias = random_array((3,)), random_array((3,))
    layer.weight.data, layer.bias.data = tinytorch.tensor(weight), tinytorch.tensor(bias)
    x = random_array((4, 3, 5, 2)) * 2 + 1
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    out = layer(tinytorch.tensor(x))
    expected = batch_norm_reference(x, weight, bias, mean, var)
    np.testing.assert_allclose(as_numpy(out), expected, rtol=1e-4, atol=1e-5)
    running_mean, running_var = 0.2 * mean, 0.8 + 0.2 * var * 40 / 39  # unbiased variance
    np.testing.assert_allclose(layer.running_mean.numpy(), running_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.running_var.numpy(), running_var, rtol=1e-5)
    assert int(layer.num_batches_tracked.numpy()) == 1
    layer.eval()
    out = layer(tinytorch.tensor(x))
    expected = batch_norm_reference(x, weight, bias, running_mean, running_var)
    np.testing.assert_allclose(as_numpy(out), expected, rtol=1e-4, atol=1e-5)


def float64(*shape: int) -> tinytorch.Tensor:
    return tinytorch.tensor(np.random.standard_normal(shape), requires_grad=True)


# id -> (function of the float64 inputs, their shapes)
GRADCHECKS = {
    "conv2d": (
        lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=2),
        [(2, 4, 5, 6), (4, 2, 2, 3), (4,)],
    ),
    "max_pool2d": (lambda x: F.max_pool2d(x, 3, 2, 1), [(2, 2, 5, 5)]),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), [(2, 2, 5, 5)]),
    "adaptive_avg_pool2d": (lambda x: F.adaptive_avg_pool2d(x, (2, 3)), [(1, 2, 5, 7)]),
    "pad_constant": (lambda x: F.pad(x, (1, -1, 2, 0), value=3.0), [(2, 3, 4)]),
    "pad_reflect": (lambda x: F.pad(x, (2, 1, 1, 2), mode="reflect"), [(1, 2, 4, 4)]),
    "pad_replicate": (lambda x: F.pad(x, (2, 1, 1, 2), mode="replicate"), [(1, 2, 3, 3)]),
    "batch_norm_training": (
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        [(4, 3, 2, 2), (3,), (3,)],
    ),
}


@pytest.mark.parametrize("case", GRADCHECKS)
def test_backward_matches_finite_differences(case: str) -> None:
    function, shapes = GRADCHECKS[case]
    assert gradcheck(function, [float64(*shape) for shape in shapes])
