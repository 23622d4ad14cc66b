"""Transposed convolutions, interpolate and Dropout2d against PyTorch (module 09).

The layers are compared with the same weights loaded into both libraries, forward and
backward (input, weight and bias gradients); the new ``Function``s get float64 gradchecks.
"""

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tests.helpers import assert_both_raise, assert_close, check_op, torch_or_skip
from tinytorch.autograd import gradcheck

pytestmark = pytest.mark.module09

rng = np.random.default_rng(0)


def values(*shape: int, dtype: type = np.float32) -> np.ndarray:
    return np.asarray(rng.standard_normal(shape), dtype=dtype)


# id -> (input shape, weight shape, keyword arguments)
TRANSPOSE_2D = {
    "plain": ((2, 3, 5, 4), (3, 2, 3, 3), {}),
    "stride2": ((2, 3, 4, 4), (3, 4, 2, 2), {"stride": 2}),
    "stride_padding": ((1, 2, 5, 6), (2, 3, 3, 3), {"stride": 2, "padding": 1}),
    "output_padding": (
        (2, 2, 4, 3),
        (2, 2, 3, 3),
        {"stride": 2, "padding": 1, "output_padding": 1},
    ),  # noqa: E501
    "uneven": ((1, 2, 3, 5), (2, 1, 2, 3), {"stride": (3, 1), "padding": (0, 1)}),
    "groups": ((2, 4, 4, 4), (4, 3, 3, 3), {"groups": 2, "stride": 2}),
    "dilation": ((1, 2, 4, 4), (2, 2, 3, 2), {"dilation": 2, "stride": 1}),
    "dilation_output_padding": ((1, 2, 3, 3), (2, 2, 2, 2), {"dilation": 3, "output_padding": 2}),
    "unbatched": ((3, 4, 4), (3, 2, 3, 3), {"stride": 2}),
    "one_pixel": ((5, 3, 1, 1), (3, 6, 4, 4), {}),
}


@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("case", TRANSPOSE_2D)
def test_conv_transpose2d_against_pytorch(case: str, with_bias: bool) -> None:
    input_shape, weight_shape, options = TRANSPOSE_2D[case]
    out_channels = weight_shape[1] * options.get("groups", 1)
    arrays = [values(*input_shape), values(*weight_shape)]
    if with_bias:
        arrays.append(values(out_channels))
    check_op(lambda lib, *xs: lib.nn.functional.conv_transpose2d(*xs, **options), *arrays)


TRANSPOSE_1D = {
    "plain": ((2, 3, 6), (3, 2, 3), {}),
    "stride_padding": ((2, 2, 5), (2, 3, 4), {"stride": 3, "padding": 1, "output_padding": 2}),
    "groups_dilation": ((1, 4, 5), (4, 1, 3), {"groups": 2, "dilation": 2}),
    "unbatched": ((3, 7), (3, 2, 3), {"stride": 2}),
}


@pytest.mark.parametrize("case", TRANSPOSE_1D)
def test_conv_transpose1d_against_pytorch(case: str) -> None:
    input_shape, weight_shape, options = TRANSPOSE_1D[case]
    bias = values(weight_shape[1] * options.get("groups", 1))
    check_op(
        lambda lib, *xs: lib.nn.functional.conv_transpose1d(*xs, **options),
        values(*input_shape),
        values(*weight_shape),
        bias,
    )


def test_conv_transpose2d_gradcheck() -> None:
    x = tinytorch.tensor(values(2, 4, 3, 3, dtype=np.float64), requires_grad=True)
    w = tinytorch.tensor(values(4, 2, 3, 2, dtype=np.float64), requires_grad=True)
    b = tinytorch.tensor(values(4, dtype=np.float64), requires_grad=True)

    def run(x, w, b):
        return F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1, groups=2)

    assert gradcheck(run, [x, w, b])


@pytest.mark.parametrize("dims", [1, 2])
def test_conv_transpose_layers_load_pytorch_weights(dims: int) -> None:
    torch = torch_or_skip()
    options = {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2, "dilation": 1}
    ours = getattr(nn, f"ConvTranspose{dims}d")(4, 6, 3, **options).double()
    theirs = getattr(torch.nn, f"ConvTranspose{dims}d")(4, 6, 3, **options).double()
    assert ours.weight.shape == tuple(theirs.weight.shape)
    ours.load_state_dict({k: tinytorch.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = values(2, 4, *(5,) * dims, dtype=np.float64)
    our_x = tinytorch.tensor(x, requires_grad=True)
    their_x = torch.tensor(x, requires_grad=True)
    our_out, their_out = ours(our_x), theirs(their_x)
    assert_close(our_out, their_out, atol=1e-10)
    our_out.sum().backward()
    their_out.sum().backward()
    assert_close(our_x.grad, their_x.grad, atol=1e-10)
    assert_close(ours.weight.grad, theirs.weight.grad, atol=1e-10)
    assert_close(ours.bias.grad, theirs.bias.grad, atol=1e-10)
    size = (2, 6, *(10,) * dims)
    assert ours(our_x, output_size=size).shape == theirs(their_x, output_size=size).shape
    assert repr(ours) == repr(theirs)


def test_conv_transpose_initialisation_bounds() -> None:
    """PyTorch's default: uniform within 1/sqrt(fan_in), fan_in = out/groups * k * k."""
    layer = nn.ConvTranspose2d(3, 8, 3, groups=1)
    bound = 1 / np.sqrt(8 * 9)
    assert layer.weight.shape == (3, 8, 3, 3)
    assert np.abs(layer.weight.detach().numpy()).max() <= bound
    assert np.abs(layer.weight.detach().numpy()).max() > bound / 2


def test_conv_transpose_errors() -> None:
    torch_or_skip()
    x, w = values(1, 2, 3, 3), values(2, 1, 3, 3)
    assert_both_raise(
        lambda lib, a, b: lib.nn.functional.conv_transpose2d(a, b, stride=2, output_padding=2), x, w
    )  # noqa: E501
    assert_both_raise(
        lambda lib, a, b: lib.nn.functional.conv_transpose2d(a, b), values(1, 3, 3, 3), w
    )  # noqa: E501
    assert_both_raise(
        lambda lib, a, b: lib.nn.functional.conv_transpose2d(a, b), values(2, 3, 3), values(2, 1, 3)
    )  # noqa: E501
    with pytest.raises(ValueError, match="zeros"):
        nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="output size"):
        nn.ConvTranspose2d(1, 1, 3, stride=2)(tinytorch.zeros(1, 1, 4, 4), output_size=(20, 20))


# id -> (input shape, keyword arguments)
INTERPOLATE = {
    "nearest_up": ((2, 3, 4, 5), {"size": (7, 9)}),
    "nearest_down": ((1, 2, 7, 6), {"size": (3, 4)}),
    "nearest_scale": ((2, 2, 3, 5), {"scale_factor": 2}),
    "nearest_scale_frac": ((1, 2, 5, 7), {"scale_factor": (1.5, 0.6)}),
    "nearest_1d": ((2, 3, 5), {"size": 11}),
    "nearest_exact": ((1, 2, 5, 7), {"size": (9, 4), "mode": "nearest-exact"}),
    "bilinear_up": ((2, 3, 4, 5), {"size": (7, 9), "mode": "bilinear"}),
    "bilinear_down": ((1, 2, 9, 7), {"size": (4, 3), "mode": "bilinear"}),
    "bilinear_corners": ((2, 3, 4, 5), {"size": (7, 9), "mode": "bilinear", "align_corners": True}),  # noqa: E501
    "bilinear_corners_one": (
        (1, 1, 4, 5),
        {"size": (1, 3), "mode": "bilinear", "align_corners": True},
    ),  # noqa: E501
    "bilinear_scale": ((1, 2, 3, 4), {"scale_factor": 2.5, "mode": "bilinear"}),
    "bilinear_recompute": (
        (1, 2, 3, 4),
        {"scale_factor": 2.5, "mode": "bilinear", "recompute_scale_factor": True},
    ),  # noqa: E501
    "linear": ((2, 3, 6), {"size": 10, "mode": "linear"}),
    "linear_corners": ((2, 3, 6), {"scale_factor": 0.5, "mode": "linear", "align_corners": True}),
    "trilinear": ((1, 2, 3, 4, 2), {"size": (5, 3, 4), "mode": "trilinear"}),
}


@pytest.mark.parametrize("case", INTERPOLATE)
def test_interpolate_against_pytorch(case: str) -> None:
    shape, options = INTERPOLATE[case]
    check_op(lambda lib, x: lib.nn.functional.interpolate(x, **options), values(*shape))
    check_op(
        lambda lib, x: lib.nn.functional.interpolate(x, **options),
        values(*shape, dtype=np.float64),
        atol=1e-12,
    )


def test_interpolate_gradcheck() -> None:
    x = tinytorch.tensor(values(1, 2, 3, 4, dtype=np.float64), requires_grad=True)
    assert gradcheck(lambda t: F.interpolate(t, size=(5, 3), mode="bilinear"), [x])


def test_interpolate_errors() -> None:
    torch_or_skip()
    x = values(1, 1, 4)
    assert_both_raise(lambda lib, t: lib.nn.functional.interpolate(t, size=4, mode="bilinear"), x)
    assert_both_raise(lambda lib, t: lib.nn.functional.interpolate(t, size=4, scale_factor=2), x)
    assert_both_raise(lambda lib, t: lib.nn.functional.interpolate(t), x)
    assert_both_raise(
        lambda lib, t: lib.nn.functional.interpolate(t, size=8, align_corners=True), x
    )
    assert_both_raise(lambda lib, t: lib.nn.functional.interpolate(t, size=8, mode="foo"), x)


def test_dropout2d_zeroes_whole_channels() -> None:
    x = tinytorch.ones(8, 16, 5, 5)
    out = nn.Dropout2d(0.5)(x).numpy()
    per_channel = out.reshape(8, 16, -1)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert (per_channel.min(axis=2) == per_channel.max(axis=2)).all()  # one value per plane
    assert 0.2 < (per_channel[..., 0] == 0).mean() < 0.8
    layer = nn.Dropout2d(0.5).eval()
    assert layer(x) is x


def test_dropout2d_gradient_and_errors() -> None:
    x = tinytorch.randn(4, 3, 2, 2, requires_grad=True)
    out = F.dropout2d(x, 0.25)
    out.sum().backward()
    kept = out.detach().numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), kept / 0.75, rtol=1e-6)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        F.dropout2d(tinytorch.ones(3))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(1.5)
    with pytest.warns(UserWarning, match="3D input"):
        F.dropout2d(tinytorch.ones(2, 3, 4))
