"""Conv1d and Conv2d against PyTorch, forward and backward, plus their errors (module 09)."""

import math

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
from tests.helpers import assert_both_raise, check_op, random_array
from tinytorch.autograd import gradcheck
from tinytorch.ops import conv as conv_ops

pytestmark = [pytest.mark.module09, pytest.mark.module05]

# (input shape, weight shape, stride, padding, dilation, groups)
CONV2D_CASES = [
    ((2, 3, 7, 7), (4, 3, 3, 3), 1, 0, 1, 1),
    ((2, 3, 8, 6), (4, 3, 3, 2), 2, 1, 1, 1),
    ((1, 2, 9, 8), (3, 2, 2, 3), (2, 1), (1, 2), (2, 1), 1),
    ((2, 4, 6, 6), (6, 2, 3, 3), 1, "same", 1, 2),
    ((2, 4, 6, 7), (4, 4, 2, 4), 1, "same", (2, 1), 1),
    ((2, 4, 5, 5), (4, 1, 3, 3), 1, 1, 1, 4),  # depthwise
    ((2, 4, 5, 5), (8, 1, 3, 3), 2, 1, 1, 4),  # depthwise, channel multiplier 2
    ((1, 3, 5, 5), (2, 3, 5, 5), 1, "valid", 1, 1),  # kernel = input
    ((3, 2, 4, 5), (5, 2, 1, 1), 1, 0, 1, 1),  # 1 x 1 convolution
    ((2, 3, 6, 6), (2, 3, 3, 3), 3, 2, 2, 1),
]


@pytest.mark.parametrize("case", CONV2D_CASES, ids=str)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batch_last_below", [0, 10**9], ids=["image-by-image", "batch-last"])
def test_conv2d_matches_pytorch(
    case: tuple, bias: bool, batch_last_below: int, monkeypatch
) -> None:
    """Both layouts of the products (see ``tinytorch.ops.conv``) on every case."""
    monkeypatch.setattr(conv_ops, "BATCH_LAST_BELOW", batch_last_below)
    x_shape, w_shape, stride, padding, dilation, groups = case
    arrays = [random_array(x_shape), random_array(w_shape)]
    arrays += [random_array(w_shape[:1])] if bias else []
    check_op(
        lambda lib, x, w, *b: lib.nn.functional.conv2d(
            x, w, b[0] if b else None, stride, padding, dilation, groups
        ),
        *arrays,
        atol=1e-4,
    )


def test_conv2d_unbatched_input_matches_pytorch() -> None:
    check_op(
        lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=1),
        random_array((3, 5, 5)),
        random_array((2, 3, 3, 3)),
        atol=1e-4,
    )


def test_conv2d_non_contiguous_input_matches_pytorch() -> None:
    check_op(
        lambda lib, x, w: lib.nn.functional.conv2d(x.transpose(2, 3), w, stride=2),
        random_array((2, 3, 6, 7)),
        random_array((4, 3, 3, 3)),
        atol=1e-4,
    )


@pytest.mark.parametrize(
    "stride, padding, dilation, groups",
    [(1, 0, 1, 1), (2, 1, 1, 1), (1, "same", 2, 2), (3, 2, 1, 4), (1, "same", 1, 1)],
)
def test_conv1d_matches_pytorch(stride, padding, dilation, groups) -> None:
    check_op(
        lambda lib, x, w, b: lib.nn.functional.conv1d(x, w, b, stride, padding, dilation, groups),
        random_array((2, 4, 11)),
        random_array((4, 4 // groups, 3)),
        random_array((4,)),
        atol=1e-4,
    )


def test_conv2d_gradcheck_float64() -> None:
    x = tinytorch.randn(2, 4, 5, 4, dtype=tinytorch.float64, requires_grad=True)
    w = tinytorch.randn(4, 2, 3, 2, dtype=tinytorch.float64, requires_grad=True)
    b = tinytorch.randn(4, dtype=tinytorch.float64, requires_grad=True)
    conv = tinytorch.nn.functional.conv2d
    assert gradcheck(lambda x, w, b: conv(x, w, b, (2, 1), (1, 2), (1, 2), 2), (x, w, b))


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
def test_conv2d_module_matches_pytorch_with_copied_weights(padding_mode: str) -> None:
    torch = pytest.importorskip("torch")
    settings = dict(stride=(1, 2), padding=(1, 2), groups=1, padding_mode=padding_mode)
    ours, theirs = nn.Conv2d(3, 4, (3, 2), **settings), torch.nn.Conv2d(3, 4, (3, 2), **settings)
    theirs.load_state_dict(
        {k: torch.tensor(v.detach().numpy()) for k, v in ours.state_dict().items()}
    )
    check_op(lambda lib, x: (ours if lib is tinytorch else theirs)(x), random_array((2, 3, 5, 6)))
    assert repr(ours) == repr(theirs)


def test_conv_module_repr_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    for args, kwargs in [
        ((3, 4, 3), {}),
        ((4, 8, (3, 5)), dict(stride=2, padding=1, dilation=2, groups=2, bias=False)),
        ((3, 4, 3), dict(padding="same", padding_mode="reflect")),
    ]:
        assert repr(nn.Conv2d(*args, **kwargs)) == repr(torch.nn.Conv2d(*args, **kwargs))
        assert repr(nn.Conv1d(*args[:2], 3)) == repr(torch.nn.Conv1d(*args[:2], 3))


def test_conv2d_default_initialisation() -> None:
    layer = nn.Conv2d(6, 16, 5)
    assert layer.weight.shape == (16, 6, 5, 5) and layer.bias.shape == (16,)
    bound = 1 / math.sqrt(6 * 5 * 5)  # kaiming_uniform_(a=sqrt(5)) on fan_in = 150
    for param in (layer.weight, layer.bias):
        values = param.detach().numpy()
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.9 * bound
    assert nn.Conv2d(2, 4, 3, groups=2, bias=False).weight.shape == (4, 1, 3, 3)


# ---------------------------------------------------------------------- errors
def conv(lib, x, w, **kwargs):
    return lib.nn.functional.conv2d(x, w, **kwargs)


@pytest.mark.parametrize(
    "x_shape, w_shape, kwargs",
    [
        ((2, 3, 8, 8), (4, 2, 3, 3), {}),  # wrong channel count
        ((2, 3, 8, 8), (4, 1, 3, 3), dict(groups=3)),  # groups do not divide out_channels
        ((2, 3, 4, 4), (4, 3, 5, 5), {}),  # kernel larger than input
        ((2, 3, 4, 4), (4, 3, 3, 3), dict(dilation=2)),  # dilated kernel larger than input
        ((2, 3, 8, 8), (4, 3, 3, 3), dict(stride=2, padding="same")),
        ((2, 3, 8, 8), (4, 3, 3, 3), dict(padding="full")),
        ((2, 3, 8, 8), (4, 3, 3, 3), dict(stride=0)),
        ((2, 3, 8, 8), (4, 3, 3, 3), dict(padding=-1)),
        ((8, 8), (4, 3, 3, 3), {}),  # no channel dim
    ],
    ids=str,
)
def test_conv2d_errors_match_pytorch(x_shape, w_shape, kwargs) -> None:
    assert_both_raise(
        lambda lib, x, w: conv(lib, x, w, **kwargs), random_array(x_shape), random_array(w_shape)
    )


def test_conv2d_error_names_the_shapes_and_the_fix() -> None:
    x, w = tinytorch.zeros(2, 3, 8, 8), tinytorch.zeros(4, 2, 3, 3)
    with pytest.raises(RuntimeError, match=r"conv2d: input of shape \(2, 3, 8, 8\) has 3"):
        tinytorch.nn.functional.conv2d(x, w)


def test_conv2d_bias_and_dtype_errors_match_pytorch() -> None:
    assert_both_raise(
        lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b),
        random_array((1, 3, 5, 5)),
        random_array((4, 3, 3, 3)),
        random_array((3,)),
    )
    assert_both_raise(
        lambda lib, x, w: lib.nn.functional.conv2d(x, w),
        random_array((1, 3, 5, 5), np.float64),
        random_array((4, 3, 3, 3)),
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(groups=2),  # in_channels 3 not divisible
        dict(padding="full"),
        dict(stride=2, padding="same"),
        dict(padding_mode="mirror"),
    ],
    ids=str,
)
def test_conv2d_module_errors_match_pytorch(kwargs) -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):
        torch.nn.Conv2d(3, 4, 3, **kwargs)
    with pytest.raises(ValueError):
        nn.Conv2d(3, 4, 3, **kwargs)
