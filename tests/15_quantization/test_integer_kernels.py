"""The exact int8 GEMM on float32 BLAS, and the quantized layers built on it (module 15)."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinytorch
from tests.helpers import torch_or_skip
from tinytorch.ao.nn import quantized as nnq
from tinytorch.ao.nn.quantized import functional as qF
from tinytorch.ao.quantization.fake_quantize import FakeQuantizeFunction

pytestmark = pytest.mark.module15


def exact_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The textbook integer product, in int64 so that nothing can overflow."""
    return a.astype(np.int64) @ b.astype(np.int64)


@pytest.mark.parametrize(
    "low, high, shape",
    [
        (-128, 128, (256, 1024, 512)),  # int8 x int8: chunks of 1024 columns
        (-255, 256, (8, 5000, 3)),  # centred uint8 x int8: several chunks
        (-128, 128, (1, 1, 1)),
        (0, 1, (3, 7, 2)),  # all zeros
    ],
)
def test_int_matmul_is_exact_bit_for_bit(low, high, shape) -> None:
    rng = np.random.default_rng(0)
    m, k, n = shape
    a = rng.integers(low, high, (m, k)).astype(np.int16)
    b = rng.integers(-128, 128, (k, n)).astype(np.int8)
    result = qF.int_matmul(a, b)
    assert result.dtype == np.int32
    np.testing.assert_array_equal(result, exact_product(a, b))


def test_int_matmul_is_exact_where_one_float32_matmul_is_not() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(100, 128, (4, 10000)).astype(np.int16)  # sums reach 1.6e8 > 2^24
    b = rng.integers(100, 128, (10000, 3)).astype(np.int8)
    one_float32_matmul = (a.astype(np.float32) @ b.astype(np.float32)).astype(np.int64)
    assert np.any(one_float32_matmul != exact_product(a, b))  # rounding above 2^24
    np.testing.assert_array_equal(qF.int_matmul(a, b), exact_product(a, b))


@settings(max_examples=40, deadline=None)
@given(
    m=st.integers(1, 6),
    k=st.integers(1, 3000),
    n=st.integers(1, 5),
    seed=st.integers(0, 2**31),
)
def test_int_matmul_property(m, k, n, seed) -> None:
    rng = np.random.default_rng(seed)
    a = rng.integers(-255, 256, (m, k)).astype(np.int16)
    b = rng.integers(-128, 128, (k, n)).astype(np.int8)
    np.testing.assert_array_equal(qF.int_matmul(a, b), exact_product(a, b))


def quantized_input(shape, scale=0.05, zero_point=60):
    x = tinytorch.tensor(np.random.randn(*shape).astype(np.float32))
    return tinytorch.quantize_per_tensor(x, scale, zero_point, tinytorch.quint8)


def per_channel_weight(shape):
    w = tinytorch.tensor(np.random.randn(*shape).astype(np.float32) * 0.2)
    scales = tinytorch.tensor(np.abs(w.numpy()).reshape(shape[0], -1).max(1) / 127.5)
    return tinytorch.quantize_per_channel(
        w, scales, tinytorch.zeros(shape[0]).long(), 0, tinytorch.qint8
    )


def test_quantized_linear_equals_float_math_on_the_dequantized_values() -> None:
    x, w = quantized_input((5, 12)), per_channel_weight((4, 12))
    bias = np.random.randn(4).astype(np.float32)
    out = qF.linear(x, w, bias, 0.03, 64)
    reference = x.dequantize().numpy().astype(np.float64) @ w.dequantize().numpy().T + bias
    expected = np.clip(np.rint(reference / 0.03) + 64, 0, 255)
    assert np.abs(out.int_repr().numpy().astype(int) - expected).max() <= 1  # float rounding
    assert out.int_repr().numpy().dtype == np.uint8 and out.q_scale() == pytest.approx(0.03)


@pytest.mark.parametrize("stride, padding", [((1, 1), (0, 0)), ((2, 1), (1, 2))])
def test_quantized_conv2d_equals_float_conv_on_the_dequantized_values(stride, padding) -> None:
    x, w = quantized_input((2, 3, 7, 6)), per_channel_weight((5, 3, 3, 2))
    bias = np.random.randn(5).astype(np.float32)
    out = qF.conv2d(x, w, bias, stride, padding, (1, 1), 0.05, 70)
    reference = tinytorch.nn.functional.conv2d(
        x.dequantize().double(), w.dequantize().double(), tinytorch.tensor(bias).double(),
        stride, padding,
    ).numpy()  # fmt: skip
    expected = np.clip(np.rint(reference / 0.05) + 70, 0, 255)
    assert out.shape == expected.shape
    assert np.abs(out.int_repr().numpy().astype(int) - expected).max() <= 1


def test_quantized_linear_is_within_one_step_of_pytorchs() -> None:
    torch = torch_or_skip()
    warnings.filterwarnings("ignore", message=".*deprecated.*")
    x, w = quantized_input((6, 16), 0.04, 50), per_channel_weight((8, 16))
    bias = np.random.randn(8).astype(np.float32)
    ours = nnq.Linear(w, tinytorch.tensor(bias), 0.06, 70)(x)
    theirs_module = torch.ao.nn.quantized.Linear(16, 8)
    their_weight = torch.quantize_per_channel(
        torch.from_numpy(w.dequantize().numpy()),
        torch.from_numpy(w.q_per_channel_scales().numpy()),
        torch.zeros(8, dtype=torch.long),
        0,
        torch.qint8,
    )
    theirs_module.set_weight_bias(their_weight, torch.from_numpy(bias))
    theirs_module.scale, theirs_module.zero_point = 0.06, 70
    their_input = torch.quantize_per_tensor(
        torch.from_numpy(x.dequantize().numpy()), 0.04, 50, torch.quint8
    )
    theirs = theirs_module(their_input)
    np.testing.assert_array_equal(w.int_repr().numpy(), their_weight.int_repr().numpy())
    difference = ours.int_repr().numpy().astype(int) - theirs.int_repr().numpy().astype(int)
    assert np.abs(difference).max() <= 1


def test_quantized_relu_and_max_pool_commute_with_dequantize() -> None:
    x = quantized_input((2, 3, 4, 4))
    pooled = qF.max_pool2d(x, (2, 2), (2, 2))
    expected = tinytorch.nn.functional.max_pool2d(x.dequantize(), 2)
    np.testing.assert_array_equal(pooled.dequantize().numpy(), expected.numpy())
    np.testing.assert_array_equal(
        x.relu().dequantize().numpy(), np.maximum(x.dequantize().numpy(), 0)
    )


def test_fake_quantize_backward_is_the_straight_through_estimator() -> None:
    x = tinytorch.tensor([-3.0, -0.26, 0.0, 0.26, 3.0], requires_grad=True)
    scale, zero_point = np.float32(0.1), np.float32(0.0)
    y = FakeQuantizeFunction.apply(x, scale, zero_point, -10, 10)  # reals in [-1, 1]
    np.testing.assert_allclose(y.detach().numpy(), [-1.0, -0.3, 0.0, 0.3, 1.0], rtol=1e-6)
    y.backward(tinytorch.tensor([1.0, 2.0, 3.0, 4.0, 5.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 2.0, 3.0, 4.0, 0.0])  # clamped: 0


def test_fake_quantize_matches_pytorch_forward_and_backward() -> None:
    torch = torch_or_skip()
    values = np.random.randn(200).astype(np.float32) * 2
    x = tinytorch.tensor(values, requires_grad=True)
    y = FakeQuantizeFunction.apply(x, np.float32(0.02), np.float32(10.0), 0, 255)
    y.sum().backward()
    tx = torch.tensor(values, requires_grad=True)
    ty = torch.fake_quantize_per_tensor_affine(tx, 0.02, 10, 0, 255)
    ty.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), atol=1e-6)
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
