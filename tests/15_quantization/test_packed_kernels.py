"""The prepacked int8 kernels that quantized modules run give the integers of the plain
kernels (``qF.linear``, ``qF.conv2d``) to within one step, fused ReLU included, and repack
when the weights change (module 15). One step, not bit for bit: the packed kernels fold the
requantization into one multiplier and one offset per channel (``qF.Requantization``), whose
float32 roundings differ from the four steps of ``qF.requantize``, so an output within a
rounding error of a half-integer may round the other way."""

import numpy as np
import pytest

import tinytorch
from tinytorch import nn
from tinytorch.ao.nn import quantized as nnq
from tinytorch.ao.nn.quantized import functional as qF
from tinytorch.ao.quantization import (
    DeQuantStub,
    QuantStub,
    convert,
    fuse_modules,
    get_default_qconfig,
    prepare,
)

pytestmark = pytest.mark.module15


def quantized_input(rng, shape, zero_point=60, dtype=tinytorch.quint8):
    x = tinytorch.tensor(rng.standard_normal(shape).astype(np.float32))
    return tinytorch.quantize_per_tensor(x, 0.05, zero_point, dtype)


def weight(rng, shape, per_channel=True, zero_point=0):
    w = tinytorch.tensor(rng.standard_normal(shape).astype(np.float32) * 0.2)
    if not per_channel:
        return tinytorch.quantize_per_tensor(w, 0.004, zero_point, tinytorch.qint8)
    scales = tinytorch.tensor(np.abs(w.numpy()).reshape(shape[0], -1).max(1) / 127.5)
    zero_points = tinytorch.full((shape[0],), zero_point).long()
    return tinytorch.quantize_per_channel(w, scales, zero_points, 0, tinytorch.qint8)


def assert_same(packed, plain):
    """Same dtype, qparams and shape, and integers at most one step apart."""
    assert packed.dtype == plain.dtype and packed.q_scale() == plain.q_scale()
    assert packed.q_zero_point() == plain.q_zero_point()
    ours, theirs = packed.int_repr().numpy(), plain.int_repr().numpy()
    assert ours.shape == theirs.shape
    assert np.abs(ours.astype(np.int64) - theirs.astype(np.int64)).max(initial=0) <= 1


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize(
    "shape, zero_point, per_channel, weight_zero_point, dtype",
    [
        ((5, 12), 60, True, 0, tinytorch.quint8),
        ((2, 3, 7), 0, False, 3, tinytorch.quint8),  # (*, I) inputs, an affine weight
        ((4, 9), -5, True, 0, tinytorch.qint8),
        ((3, 600), 255, True, 0, tinytorch.quint8),  # K |x| |w| > 2^24: chunked int_matmul
    ],
)
def test_linear_packed_is_within_one_step_of_linear(
    shape, zero_point, per_channel, weight_zero_point, dtype, relu
):
    rng = np.random.default_rng(0)
    x = quantized_input(rng, shape, zero_point, dtype)
    w = weight(rng, (4, shape[-1]), per_channel, weight_zero_point)
    bias = rng.standard_normal(4).astype(np.float32)
    plain = qF.linear(x, w, bias, 0.03, 64)
    if relu:
        plain = plain.relu()
    assert_same(qF.linear_packed(x, qF.pack_layer(w, bias, 0.03, 64), relu), plain)


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize(
    "shape, kernel, stride, padding, dilation",
    [
        ((2, 3, 7, 6), (3, 2), (1, 1), (0, 0), (1, 1)),
        ((1, 3, 8, 8), (3, 3), (1, 1), (1, 1), (1, 1)),
        ((2, 2, 9, 7), (3, 3), (2, 1), (1, 2), (2, 1)),
        ((1, 80, 5, 5), (3, 3), (1, 1), (1, 1), (1, 1)),  # K = 720: chunked int_matmul
    ],
)
def test_conv2d_packed_is_within_one_step_of_conv2d(shape, kernel, stride, padding, dilation, relu):
    rng = np.random.default_rng(1)
    x = quantized_input(rng, shape, zero_point=200)
    w = weight(rng, (5, shape[1], *kernel))
    bias = rng.standard_normal(5).astype(np.float32)
    plain = qF.conv2d(x, w, bias, stride, padding, dilation, 0.05, 70)
    if relu:
        plain = plain.relu()
    index = qF.indirection(shape[1:], kernel, stride, padding, dilation)
    packed = qF.conv2d_packed(x, qF.pack_layer(w, bias, 0.05, 70), index, plain.shape[2:], relu)
    assert_same(packed, plain)


def test_requantization_folds_the_steps_and_is_built_once_per_input_qparams():
    rng = np.random.default_rng(3)
    w = weight(rng, (4, 6))
    bias = rng.standard_normal(4).astype(np.float32)
    packed = qF.pack_layer(w, bias, 0.03, 64)
    x = quantized_input(rng, (2, 6))
    steps = qF.requantization(x, packed, relu=True)
    expected = np.float32(0.05) * w.q_per_channel_scales().numpy() / 0.03  # sx sw / sy
    np.testing.assert_allclose(steps.multiplier, expected, rtol=1e-6)
    np.testing.assert_allclose(steps.offset, bias / 0.03 + 64, rtol=1e-6)
    assert (steps.lower, steps.upper) == (64, 255)  # the fused ReLU clamps at zy
    assert qF.requantization(x, packed, relu=True) is steps  # looked up, not rebuilt
    qF.linear_packed(quantized_input(rng, (2, 6), zero_point=10), packed, relu=True)
    assert len(packed.requantizations) == 2  # a second input zero point: a second entry
    for rows in (3, 1, 3):  # the multiplier and offset re-expanded for each new shape
        x = quantized_input(rng, (rows, 6))
        assert_same(qF.linear_packed(x, packed, True), qF.linear(x, w, bias, 0.03, 64).relu())


def test_indirection_reads_the_im2col_columns_and_zero_for_padding():
    index = qF.indirection((1, 2, 2), (2, 2), (1, 1), (1, 1), (1, 1))  # (4 taps, 9 pixels)
    image = np.array([10.0, 20.0, 30.0, 40.0, 0.0])  # the 2x2 image, then the padding's 0
    assert index.shape == (4, 9)
    assert image[index][:, 4].tolist() == [10.0, 20.0, 30.0, 40.0]  # the centre window
    assert image[index][:, 0].tolist() == [0.0, 0.0, 0.0, 10.0]  # the top-left corner


@pytest.mark.parametrize(
    "kernel, stride",
    [((2, 2), (2, 2)), ((3, 2), (3, 2)), ((1, 1), (1, 1)), ((3, 2), (2, 1))],  # tiling, not
)
def test_max_pool2d_is_the_max_of_each_window(kernel, stride):
    x = quantized_input(np.random.default_rng(2), (2, 3, 7, 5))
    pooled = qF.max_pool2d(x, kernel, stride)
    expected = tinytorch.nn.functional.max_pool2d(x.dequantize(), kernel, stride)
    np.testing.assert_array_equal(pooled.dequantize().numpy(), expected.numpy())


def small_int8_lenet(calibration):
    layers = [nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten()]
    model = nn.Sequential(QuantStub(), *layers, nn.Linear(64, 10), DeQuantStub())
    model = fuse_modules(model.eval(), [["1", "2"]])
    model.qconfig = get_default_qconfig("x86")
    prepared = prepare(model)
    prepared(calibration)
    return convert(prepared)


def test_a_fused_quantized_model_computes_what_its_layers_compute_one_by_one():
    tinytorch.manual_seed(0)
    images = tinytorch.rand(8, 1, 8, 8)
    model = small_int8_lenet(images)
    conv, linear = model[1], model[5]
    assert isinstance(conv, nnq.ConvReLU2d) and isinstance(linear, nnq.Linear)
    x = model[0](images)
    plain = qF.conv2d(x, conv.weight(), conv._bias(), conv.stride, conv.padding,
                      conv.dilation, conv.scale, conv.zero_point).relu()  # fmt: skip
    assert_same(conv(x), plain)


def test_quantized_layers_repack_after_load_state_dict():
    tinytorch.manual_seed(0)
    images = tinytorch.rand(8, 1, 8, 8)
    model, other = small_int8_lenet(images), small_int8_lenet(images * 2)  # other weights
    before = model(images).numpy()  # packs every layer
    assert not np.array_equal(other(images).numpy(), before)
    model.load_state_dict(other.state_dict())  # copies into the buffers in place
    np.testing.assert_array_equal(model(images).numpy(), other(images).numpy())
