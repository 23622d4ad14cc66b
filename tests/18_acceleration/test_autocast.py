"""``tinytorch.autocast`` against ``torch.autocast`` on the CPU with float16: which operations
compute in float16, which in float32, gradients, nesting, the decorator and bad arguments."""

import warnings

import numpy as np
import pytest

import tinytorch
from tests.helpers import as_numpy, torch_or_skip

pytestmark = pytest.mark.module18


def output_dtypes(lib):
    """The dtype of each operation's result inside an autocast region, by name."""
    F = lib.nn.functional  # noqa: N806 - PyTorch's usual name
    rng = np.random.default_rng(0)

    def tensor(*shape):
        return lib.tensor(rng.standard_normal(shape).astype(np.float32))

    x, w, image, kernel = tensor(2, 3), tensor(4, 3), tensor(1, 1, 5, 5), tensor(2, 1, 3, 3)
    q, k, v = tensor(1, 2, 4, 3), tensor(1, 2, 4, 3), tensor(1, 2, 4, 3)
    labels = lib.tensor([0, 3])
    out = {}
    with lib.autocast("cpu", dtype=lib.float16):
        hidden = F.linear(x, w)
        ops = {
            "linear": lambda: hidden,
            "matmul": lambda: x @ w.T,
            "mm": lambda: lib.mm(x, w.T),
            "bmm": lambda: lib.bmm(x[None], w.T[None]),
            "conv1d": lambda: F.conv1d(image[:, :, 0], kernel[:, :, 0]),
            "conv2d": lambda: F.conv2d(image, kernel),
            "conv_transpose2d": lambda: F.conv_transpose2d(image, kernel.transpose(0, 1)),
            "attention": lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True),
            "float64 linear": lambda: F.linear(x.double(), w.double()),
            "relu of linear": lambda: F.relu(hidden),
            "softmax of linear": lambda: F.softmax(hidden, dim=-1),
            "linear + float32": lambda: hidden + tensor(4),
            "cross_entropy": lambda: F.cross_entropy(hidden, labels),
            "mse_loss": lambda: F.mse_loss(hidden, hidden.detach()),
            "l1_loss": lambda: F.l1_loss(hidden, hidden.detach()),
            "float32 add": lambda: x + x,
        }
        for name, op in ops.items():
            out[name] = str(op().dtype).split(".")[-1]
        out["enabled inside"] = lib.is_autocast_enabled("cpu")
        with lib.autocast("cpu", enabled=False):
            out["disabled linear"] = str(F.linear(x, w).dtype).split(".")[-1]
    out["enabled after"] = lib.is_autocast_enabled("cpu")
    return out


def test_lowered_and_float32_operations_match_pytorch() -> None:
    torch = torch_or_skip()
    ours = output_dtypes(tinytorch)
    assert ours == output_dtypes(torch)
    assert ours["linear"] == ours["conv2d"] == ours["attention"] == "float16"
    assert ours["cross_entropy"] == ours["disabled linear"] == "float32"


def train_step(lib):
    """One linear layer's loss and gradients computed under autocast (float32 parameters)."""
    layer = lib.nn.Linear(8, 4)
    with lib.no_grad():
        layer.weight.copy_(lib.tensor(np.linspace(-1, 1, 32, dtype=np.float32).reshape(4, 8)))
        layer.bias.fill_(0.25)
    x = lib.tensor(np.linspace(-2, 2, 48, dtype=np.float32).reshape(6, 8), requires_grad=True)

    @lib.autocast("cpu", dtype=lib.float16)  # the decorator form
    def loss_of(inputs):
        return lib.nn.functional.cross_entropy(layer(inputs), lib.tensor([0, 1, 2, 3, 0, 1]))

    loss = loss_of(x)
    loss.backward()
    grads = (x.grad, layer.weight.grad, layer.bias.grad)
    return loss, grads, [str(t.dtype) for t in (loss, *grads, layer.weight)]


def test_gradients_reach_float32_parameters_as_in_pytorch() -> None:
    torch = torch_or_skip()
    loss, grads, dtypes = train_step(tinytorch)
    their_loss, their_grads, their_dtypes = train_step(torch)
    assert [d.split(".")[-1] for d in dtypes] == [d.split(".")[-1] for d in their_dtypes]
    assert all(d.endswith("float32") for d in dtypes)
    # both computed the product in float16: equal up to float16 rounding
    np.testing.assert_allclose(as_numpy(loss), as_numpy(their_loss), rtol=2e-3)
    for ours, theirs in zip(grads, their_grads, strict=True):
        np.testing.assert_allclose(as_numpy(ours), as_numpy(theirs), rtol=1e-2, atol=1e-3)


def test_linear_in_float16_equals_the_cast_computation() -> None:
    x, w = tinytorch.randn(5, 7), tinytorch.randn(3, 7)
    with tinytorch.autocast("cpu", dtype=tinytorch.float16):
        y = tinytorch.nn.functional.linear(x, w)
    expected = x.numpy().astype(np.float16) @ w.numpy().astype(np.float16).T
    np.testing.assert_array_equal(y.numpy(), expected)


def test_unsupported_arguments_warn_or_raise_as_pytorch() -> None:
    with pytest.warns(UserWarning, match="only supports a dtype of tinytorch.float16"):
        region = tinytorch.autocast("cpu", dtype=tinytorch.float64)
    with region:
        assert not tinytorch.is_autocast_enabled("cpu")
    with pytest.warns(UserWarning, match="CPU only"):
        gpu = tinytorch.autocast("cuda", dtype=tinytorch.float16)
    with tinytorch.autocast("cpu"), gpu:  # a disabled CUDA region leaves the CPU one alone
        assert tinytorch.get_autocast_dtype("cpu") == tinytorch.float16
        assert tinytorch.is_autocast_enabled("cpu")
    with pytest.raises(RuntimeError, match="device_type must be one of"):
        tinytorch.autocast("gpu0")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with tinytorch.autocast("cuda", enabled=False):  # no warning when not enabled
            pass
