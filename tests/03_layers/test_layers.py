"""Linear, Identity, Flatten, Dropout, containers and weight initialisation (module 03).

Tests that run backward need module 05 (autograd) as well and carry its marker.
"""

import math
from collections import OrderedDict

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tests.helpers import assert_close, check_op
from tinytorch.autograd import gradcheck

pytestmark = pytest.mark.module03
needs_autograd = pytest.mark.module05


def copy_into_torch(ours: nn.Module, theirs) -> None:
    """Give a PyTorch module the exact parameter values of ours (same state_dict keys)."""
    torch = pytest.importorskip("torch")
    state = {key: torch.tensor(value.detach().numpy()) for key, value in ours.state_dict().items()}
    theirs.load_state_dict(state)


def mlp(lib):
    nn_ = lib.nn
    return nn_.Sequential(
        nn_.Linear(4, 8), nn_.GELU(), nn_.Linear(8, 8), nn_.Tanh(), nn_.Linear(8, 3)
    )


# ---------------------------------------------------------------------- Linear
@pytest.mark.parametrize("shape", [(4,), (1, 4), (5, 4), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_linear_forward_matches_pytorch(shape: tuple, bias: bool) -> None:
    x = np.random.standard_normal(shape).astype(np.float32)
    weight = np.random.standard_normal((3, 4)).astype(np.float32)
    b = np.random.standard_normal(3).astype(np.float32) if bias else None
    check_op(
        lambda lib, x, w: lib.nn.functional.linear(x, w, None if b is None else lib.tensor(b)),
        x,
        weight,
        grad=False,
    )


def test_linear_module_matches_pytorch_with_copied_weights() -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Linear(4, 3), torch.nn.Linear(4, 3)
    copy_into_torch(ours, theirs)
    check_op(
        lambda lib, x: (ours if lib is tinytorch else theirs)(x),
        np.ones((2, 4), np.float32),
        grad=False,
    )
    assert repr(ours) == repr(theirs)


def test_linear_shapes_dtype_and_default_initialisation() -> None:
    layer = nn.Linear(100, 50)
    assert layer.weight.shape == (50, 100) and layer.bias.shape == (50,)
    assert layer.weight.dtype == tinytorch.float32 and layer.weight.requires_grad
    bound = 1 / math.sqrt(100)
    for param in (layer.weight, layer.bias):
        values = param.detach().numpy()
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.9 * bound
    assert nn.Linear(2, 2, dtype=tinytorch.float64).weight.dtype == tinytorch.float64


def test_linear_without_bias() -> None:
    layer = nn.Linear(3, 2, bias=False)
    assert layer.bias is None
    assert [name for name, _ in layer.named_parameters()] == ["weight"]
    assert repr(layer) == "Linear(in_features=3, out_features=2, bias=False)"


def test_initialisation_is_reproducible_with_manual_seed() -> None:
    tinytorch.manual_seed(7)
    first = nn.Linear(3, 3).weight.detach().numpy().copy()
    tinytorch.manual_seed(7)
    np.testing.assert_array_equal(nn.Linear(3, 3).weight.detach().numpy(), first)


def test_linear_rejects_wrong_in_features() -> None:
    with pytest.raises(
        RuntimeError, match=r"linear: input of shape \(2, 5\) does not fit weight of shape \(3, 4\)"
    ):
        nn.Linear(4, 3)(tinytorch.ones(2, 5))


def test_linear_rejects_mixed_dtypes() -> None:
    with pytest.raises(
        RuntimeError, match="linear: input is tinytorch.float64 but weight is tinytorch.float32"
    ):
        nn.Linear(4, 3)(tinytorch.ones(2, 4, dtype=tinytorch.float64))


def test_linear_rejects_wrong_bias_shape() -> None:
    with pytest.raises(RuntimeError, match=r"bias of shape \(4,\) .* must have shape \(3,\)"):
        F.linear(tinytorch.ones(2, 4), tinytorch.ones(3, 4), tinytorch.ones(4))


def test_identity_and_flatten() -> None:
    x = tinytorch.randn(2, 3, 4, 5)
    assert nn.Identity(54, unused=True)(x) is x
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


# ---------------------------------------------------------------------- Dropout
def test_dropout_zeroes_about_p_and_scales_the_rest() -> None:
    x = tinytorch.ones(200, 100)
    out = nn.Dropout(0.3)(x).detach().numpy()
    assert np.unique(out).tolist() == pytest.approx([0.0, 1 / 0.7])
    assert abs((out == 0).mean() - 0.3) < 0.02
    assert out.dtype == np.float32


def test_dropout_is_identity_in_eval_mode_and_for_p_zero() -> None:
    x = tinytorch.randn(4, 4)
    assert nn.Dropout(0.5).eval()(x) is x
    assert F.dropout(x, 0.0) is x
    assert F.dropout(x, 1.0).detach().numpy().sum() == 0


def test_dropout_mask_is_reproducible_with_manual_seed() -> None:
    x = tinytorch.ones(10, 10)
    tinytorch.manual_seed(3)
    first = F.dropout(x, 0.5).detach().numpy()
    tinytorch.manual_seed(3)
    np.testing.assert_array_equal(F.dropout(x, 0.5).detach().numpy(), first)


def test_dropout_rejects_bad_probability() -> None:
    with pytest.raises(
        ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"
    ):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="but got -0.1"):
        F.dropout(tinytorch.ones(2), -0.1)


# ---------------------------------------------------------------------- containers
def test_sequential_indexing_slicing_len_iteration_and_append() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(model) == 3 and isinstance(model[-1], nn.Linear)
    head = model[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is model[0]
    assert [type(m).__name__ for m in model] == ["Linear", "ReLU", "Linear"]
    assert model.append(nn.Sigmoid()) is model and len(model) == 4
    assert model(tinytorch.randn(5, 2)).shape == (5, 1)
    model[1] = nn.Tanh()
    assert isinstance(model[1], nn.Tanh)
    del model[3]
    assert len(model) == 3


def test_sequential_from_ordered_dict_names_its_layers() -> None:
    model = nn.Sequential(OrderedDict([("hidden", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert model.hidden is model[0]
    assert [name for name, _ in model.named_parameters()] == ["hidden.weight", "hidden.bias"]


def test_sequential_index_out_of_range() -> None:
    with pytest.raises(IndexError, match="Sequential: index 2 is out of range for 2 modules"):
        nn.Sequential(nn.ReLU(), nn.ReLU())[2]


def test_module_list_registers_its_modules() -> None:
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.append(nn.Linear(2, 2)).extend([nn.ReLU()])
    assert len(layers) == 5 and isinstance(layers[-1], nn.ReLU)
    assert isinstance(layers[1:3], nn.ModuleList) and len(layers[1:3]) == 2
    layers[0] = nn.Tanh()
    assert [name for name, _ in layers.named_parameters()][0] == "1.weight"
    with pytest.raises(IndexError, match="ModuleList: index 9 is out of range"):
        layers[9]


def test_module_dict_registers_its_modules_by_name() -> None:
    heads = nn.ModuleDict({"cls": nn.Linear(4, 3), "box": nn.Linear(4, 2)})
    heads["act"] = nn.ReLU()
    assert list(heads) == ["cls", "box", "act"] and "box" in heads and len(heads) == 3
    assert [name for name, _ in heads.named_parameters()][:2] == ["cls.weight", "cls.bias"]
    assert list(heads.keys()) == ["cls", "box", "act"]
    assert [type(m).__name__ for m in heads.values()] == ["Linear", "Linear", "ReLU"]
    del heads["act"]
    assert [key for key, _ in heads.items()] == ["cls", "box"]


def test_mlp_forward_matches_pytorch_with_copied_weights() -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = mlp(tinytorch), mlp(torch)
    copy_into_torch(ours, theirs)
    x = np.random.standard_normal((6, 4)).astype(np.float32)
    check_op(lambda lib, x: (ours if lib is tinytorch else theirs)(x), x, grad=False)


# ---------------------------------------------------------------------- init
def test_calculate_gain_matches_pytorch() -> None:
    torch = pytest.importorskip("torch")
    for name in ["linear", "conv2d", "sigmoid", "tanh", "relu", "selu"]:
        assert nn.init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", 0.2)
    )


@pytest.mark.parametrize(
    ("initialise", "expected_std"),
    [
        (lambda w: nn.init.xavier_uniform_(w), math.sqrt(2 / (200 + 100))),
        (lambda w: nn.init.xavier_normal_(w, gain=2.0), 2 * math.sqrt(2 / (200 + 100))),
        (lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"), math.sqrt(2 / 100)),
        (lambda w: nn.init.kaiming_normal_(w, mode="fan_out"), math.sqrt(2 / (1 + 1e-4) / 200)),
        (lambda w: nn.init.normal_(w, 1.0, 0.5), 0.5),
        (lambda w: nn.init.uniform_(w, -1.0, 1.0), 1 / math.sqrt(3)),
    ],
)
def test_initialisers_draw_with_the_documented_spread(initialise, expected_std: float) -> None:
    weight = nn.Parameter(tinytorch.empty(200, 100))
    assert initialise(weight) is weight
    assert weight.detach().numpy().std() == pytest.approx(expected_std, rel=0.03)
    assert weight.dtype == tinytorch.float32 and weight.grad_fn is None


def test_trunc_normal_stays_inside_its_bounds() -> None:
    weight = nn.init.trunc_normal_(tinytorch.empty(1000), std=1.0, a=-0.5, b=1.5)
    values = weight.detach().numpy()
    assert values.min() >= -0.5 and values.max() <= 1.5 and values.std() > 0.3


def test_constant_zeros_ones() -> None:
    weight = nn.Parameter(tinytorch.empty(2, 3))
    assert nn.init.constant_(weight, 0.5).detach().numpy().tolist() == [[0.5] * 3] * 2
    assert nn.init.zeros_(weight).detach().numpy().sum() == 0
    assert nn.init.ones_(weight).detach().numpy().sum() == 6


def test_initialisers_use_a_given_generator() -> None:
    first = nn.init.normal_(tinytorch.empty(5), generator=tinytorch.Generator().manual_seed(1))
    second = nn.init.normal_(tinytorch.empty(5), generator=tinytorch.Generator().manual_seed(1))
    np.testing.assert_array_equal(first.detach().numpy(), second.detach().numpy())


def test_fan_needs_two_dimensions() -> None:
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(tinytorch.empty(5))


def test_unknown_nonlinearity_and_mode() -> None:
    with pytest.raises(ValueError, match="Unsupported nonlinearity 'swish'"):
        nn.init.calculate_gain("swish")
    with pytest.raises(ValueError, match="Mode 'fan_avg' not supported"):
        nn.init.kaiming_uniform_(tinytorch.empty(2, 2), mode="fan_avg")


# ---------------------------------------------------------------------- Parameter
def test_parameter_shares_the_tensors_memory_and_requires_grad() -> None:
    data = tinytorch.zeros(3)
    param = nn.Parameter(data)
    assert param.requires_grad and param.is_leaf and isinstance(param, tinytorch.Tensor)
    data.detach().numpy()[0] = 5
    assert param.detach().numpy()[0] == 5
    assert not nn.Parameter(data, requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    assert repr(param).startswith("Parameter containing:\ntensor(")


def test_results_of_operations_on_parameters_are_plain_tensors() -> None:
    param = nn.Parameter(tinytorch.ones(2))
    assert type(param * 2) is tinytorch.Tensor


# ---------------------------------------------------------------------- backward (module 05)
@needs_autograd
@pytest.mark.parametrize("shape", [(4,), (1, 4), (5, 4), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_linear_backward_matches_pytorch(shape: tuple, bias: bool) -> None:
    arrays = [np.random.standard_normal(s).astype(np.float32) for s in (shape, (3, 4), (3,))]
    if bias:
        check_op(lambda lib, x, w, b: lib.nn.functional.linear(x, w, b), *arrays)
    else:
        check_op(lambda lib, x, w: lib.nn.functional.linear(x, w), *arrays[:2])


@needs_autograd
def test_linear_gradient_matches_finite_differences_in_float64() -> None:
    def make(*shape):
        return tinytorch.randn(*shape, dtype=tinytorch.float64, requires_grad=True)

    assert gradcheck(F.linear, (make(2, 3, 4), make(5, 4), make(5)))


@needs_autograd
def test_linear_gradient_only_for_inputs_that_need_it() -> None:
    layer = nn.Linear(4, 3)
    x = tinytorch.randn(2, 4)
    layer(x).sum().backward()
    assert x.grad is None and layer.weight.grad.shape == (3, 4)
    assert_close(layer.bias.grad, tinytorch.full((3,), 2.0))


@needs_autograd
def test_mlp_parameter_gradients_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = mlp(tinytorch), mlp(torch)
    copy_into_torch(ours, theirs)
    x = np.random.standard_normal((6, 4)).astype(np.float32)
    ours(tinytorch.tensor(x)).square().mean().backward()
    theirs(torch.tensor(x)).square().mean().backward()
    for mine, reference in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert_close(mine.grad, reference.grad, atol=1e-6, rtol=1e-4)


@needs_autograd
def test_tied_weight_accumulates_both_gradients() -> None:
    model = nn.Sequential(nn.Linear(3, 3, bias=False), nn.Linear(3, 3, bias=False))
    model[1].weight = model[0].weight
    x = tinytorch.randn(2, 3)
    model(x).sum().backward()
    weight = model[0].weight.detach().requires_grad_()
    F.linear(F.linear(x, weight), weight).sum().backward()
    assert_close(model[0].weight.grad, weight.grad)


@needs_autograd
def test_dropout_gradient_is_the_mask() -> None:
    x = tinytorch.ones(50, 50, requires_grad=True)
    out = F.dropout(x, 0.4)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), out.detach().numpy())
