"""Quantized tensors: quantize_per_tensor / quantize_per_channel, bit for bit as PyTorch."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinytorch
from tests.helpers import torch_or_skip
from tinytorch.qtensor import dtype_range

pytestmark = pytest.mark.module15

DTYPES = [("qint8", -128, 127), ("quint8", 0, 255)]


def hard_values(scale: float, count: int = 20000) -> np.ndarray:
    """Random reals of many sizes, plus exact and near half-way points and the edges."""
    rng = np.random.default_rng(0)
    sizes = rng.choice([1e-3, 1.0, 10.0, 100.0], count)
    values = rng.standard_normal(count) * sizes
    halves = (np.arange(-300, 300) + 0.5) * scale
    edges = np.array([0.0, -0.0, 1e30, -1e30, np.inf, -np.inf])
    return np.concatenate([values, halves, np.nextafter(halves, 0), edges]).astype(np.float32)


def torch_quantized(torch, name: str):
    warnings.filterwarnings("ignore", message=".*deprecated.*")
    return getattr(torch, name)


SCALES = [0.1, 1 / 3, 0.0123456789, 3.7e-5, 0.3, 2.0**-7, 1000.0, 0.517]


@pytest.mark.parametrize("name, qmin, qmax", DTYPES)
@pytest.mark.parametrize("scale", SCALES)
def test_quantize_per_tensor_matches_pytorch_bit_for_bit(name, qmin, qmax, scale) -> None:
    torch = torch_or_skip()
    values = hard_values(scale)
    for zero_point in (qmin, 0 if qmin < 0 else 128, 3, qmax):
        ours = tinytorch.quantize_per_tensor(
            tinytorch.tensor(values), scale, zero_point, getattr(tinytorch, name)
        )
        theirs = torch.quantize_per_tensor(
            torch.from_numpy(values), scale, zero_point, torch_quantized(torch, name)
        )
        np.testing.assert_array_equal(ours.int_repr().numpy(), theirs.int_repr().numpy())
        assert ours.int_repr().numpy().dtype == theirs.int_repr().numpy().dtype
        np.testing.assert_array_equal(ours.dequantize().numpy(), theirs.dequantize().numpy())
        assert ours.q_scale() == theirs.q_scale()
        assert ours.q_zero_point() == theirs.q_zero_point()


@pytest.mark.parametrize("name, qmin, qmax", DTYPES)
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_quantize_per_channel_matches_pytorch_bit_for_bit(name, qmin, qmax, axis) -> None:
    torch = torch_or_skip()
    rng = np.random.default_rng(1)
    channels = 7
    scales = rng.uniform(1e-3, 0.5, channels)
    zero_points = rng.integers(qmin, qmax + 1, channels)
    values = (rng.standard_normal((channels, 3, 1001)) * 30).astype(np.float32)
    values[:, 0, :600] = ((np.arange(-300, 300) + 0.5) * scales[:, None]).astype(np.float32)
    values = np.moveaxis(values, 0, axis).copy()
    ours = tinytorch.quantize_per_channel(
        tinytorch.tensor(values),
        tinytorch.tensor(scales),
        tinytorch.tensor(zero_points),
        axis,
        getattr(tinytorch, name),
    )
    theirs = torch.quantize_per_channel(
        torch.from_numpy(values),
        torch.from_numpy(scales),
        torch.from_numpy(zero_points),
        axis,
        torch_quantized(torch, name),
    )
    np.testing.assert_array_equal(ours.int_repr().numpy(), theirs.int_repr().numpy())
    np.testing.assert_array_equal(ours.dequantize().numpy(), theirs.dequantize().numpy())
    np.testing.assert_array_equal(
        ours.q_per_channel_scales().numpy(), theirs.q_per_channel_scales().numpy()
    )
    np.testing.assert_array_equal(
        ours.q_per_channel_zero_points().numpy(), theirs.q_per_channel_zero_points().numpy()
    )
    assert ours.q_per_channel_axis() == theirs.q_per_channel_axis()
    assert ours.qscheme() is tinytorch.per_channel_affine


def test_rounding_is_half_to_even_and_clamped_at_the_edges() -> None:
    x = tinytorch.tensor([0.5, 1.5, 2.5, -0.5, -2.5, 300.0, -300.0])
    q = tinytorch.quantize_per_tensor(x, 1.0, 0, tinytorch.qint8)
    assert q.int_repr().tolist() == [0, 2, 2, 0, -2, 127, -128]
    q = tinytorch.quantize_per_tensor(x, 1.0, 10, tinytorch.quint8)
    assert q.int_repr().tolist() == [10, 12, 12, 10, 8, 255, 0]
    assert q.int_repr().dtype == tinytorch.uint8


def test_quantized_tensor_stores_one_byte_per_value() -> None:
    q = tinytorch.quantize_per_tensor(tinytorch.randn(100, 10), 0.05, 0, tinytorch.qint8)
    assert q._integers.dtype == np.int8 and q._integers.nbytes == 1000
    assert q.is_quantized and q.dtype is tinytorch.qint8 and q.shape == (100, 10)
    assert q.qscheme() is tinytorch.per_tensor_affine


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(st.floats(-1e3, 1e3, width=32), min_size=1, max_size=50),
    scale=st.floats(1e-3, 10.0),
    dtype_index=st.integers(0, 1),
    zero_fraction=st.floats(0, 1),
)
def test_round_trip_error_is_at_most_half_a_step_inside_the_range(
    data, scale, dtype_index, zero_fraction
) -> None:
    name, qmin, qmax = DTYPES[dtype_index]
    zero_point = int(round(qmin + zero_fraction * (qmax - qmin)))
    x = np.array(data, np.float32)
    q = tinytorch.quantize_per_tensor(
        tinytorch.tensor(x), scale, zero_point, getattr(tinytorch, name)
    )
    back = q.dequantize().numpy().astype(np.float64)
    low, high = (qmin - zero_point) * scale, (qmax - zero_point) * scale
    inside = (x >= low) & (x <= high)
    # half a step, plus float32 rounding of the scaled value and of the result
    tolerance = scale / 2 + 1e-6 * (np.abs(x) + scale * 256)
    assert np.all(np.abs(back - x)[inside] <= tolerance[inside])
    assert np.all(back[x > high] == np.float32((qmax - zero_point) * np.float32(scale)))
    assert np.all(q.int_repr().numpy()[x < low] == qmin)


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(st.floats(-100, 100, width=32), min_size=4, max_size=40),
    scales=st.lists(st.floats(1e-2, 5.0), min_size=2, max_size=2),
)
def test_per_channel_round_trip_is_within_each_channels_half_step(data, scales) -> None:
    x = np.array(data[: len(data) // 2 * 2], np.float32).reshape(2, -1)
    q = tinytorch.quantize_per_channel(
        tinytorch.tensor(x), tinytorch.tensor(scales), tinytorch.tensor([0, 0]), 0, tinytorch.qint8
    )
    back = q.dequantize().numpy()
    for row, scale in enumerate(scales):
        inside = np.abs(x[row]) <= 127 * scale
        error = np.abs(back[row] - x[row])[inside]
        assert np.all(error <= scale / 2 + 1e-5 * (np.abs(x[row][inside]) + scale))


def test_dtype_ranges() -> None:
    assert dtype_range(tinytorch.qint8) == (-128, 127)
    assert dtype_range(tinytorch.quint8) == (0, 255)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda t: t.quantize_per_tensor(t.arange(3), 0.1, 0, t.qint8), TypeError, "float32"),
        (
            lambda t: t.quantize_per_tensor(t.ones(3, dtype=t.float64), 0.1, 0, t.qint8),
            TypeError,
            "x.float()",
        ),
        (lambda t: t.quantize_per_tensor(t.ones(3), 0.0, 0, t.qint8), ValueError, "positive"),
        (lambda t: t.quantize_per_tensor(t.ones(3), -1.0, 0, t.qint8), ValueError, "positive"),
        (lambda t: t.quantize_per_tensor(t.ones(3), 0.1, 300, t.qint8), ValueError, "[-128, 127]"),
        (lambda t: t.quantize_per_tensor(t.ones(3), 0.1, -1, t.quint8), ValueError, "[0, 255]"),
        (lambda t: t.quantize_per_tensor(t.ones(3), 0.1, 0, t.int8), TypeError, "qint8"),
        (
            lambda t: t.quantize_per_channel(
                t.ones(3, 2), t.tensor([0.1, 0.2]), t.tensor([0, 0]), 0, t.qint8
            ),
            ValueError,
            "3 channels",
        ),
        (
            lambda t: t.quantize_per_channel(
                t.ones(2, 2), t.tensor([0.1, 0.2]), t.tensor([0, 0]), -1, t.qint8
            ),
            IndexError,
            "0 <= axis < 2",
        ),
        (
            lambda t: t.quantize_per_channel(
                t.ones(2, 2), t.tensor([0.1, 0.0]), t.tensor([0, 0]), 0, t.qint8
            ),
            ValueError,
            "positive",
        ),
    ],
)
def test_bad_input_raises_a_clear_error(call, error, words) -> None:
    with pytest.raises(error) as raised:
        call(tinytorch)
    assert words in str(raised.value)
    assert "quantize_per" in str(raised.value)


def test_per_tensor_and_per_channel_accessors_refuse_the_other_scheme() -> None:
    q = tinytorch.quantize_per_tensor(tinytorch.ones(2), 0.1, 0, tinytorch.qint8)
    with pytest.raises(RuntimeError, match="q_scale"):
        q.q_per_channel_scales()
    qc = tinytorch.quantize_per_channel(
        tinytorch.ones(2, 2),
        tinytorch.tensor([0.1, 0.2]),
        tinytorch.tensor([0, 0]),
        0,
        tinytorch.qint8,
    )
    with pytest.raises(RuntimeError, match="per channel"):
        qc.q_scale()


def test_relu_and_flatten_work_on_the_integers() -> None:
    x = tinytorch.tensor([[-1.0, 0.5], [2.0, -0.2]])
    q = tinytorch.quantize_per_tensor(x, 0.1, 5, tinytorch.quint8)
    np.testing.assert_array_equal(
        q.relu().dequantize().numpy(), np.maximum(q.dequantize().numpy(), 0)
    )
    assert q.flatten().shape == (4,) and q.flatten(1).shape == (2, 2)
