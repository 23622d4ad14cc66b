"""Optimizers against PyTorch: 20 steps of SGD, Adam, AdamW and RMSprop (module 06).

Each test trains the same two-layer network, built from raw tensors, in tinytorch and in
PyTorch from the same starting weights and data, and compares the parameters after 20 steps.
"""

import numpy as np
import pytest

import tinytorch
from tests.helpers import assert_close, torch_or_skip
from tinytorch import optim

pytestmark = pytest.mark.module06

STEPS = 20


def initial_arrays() -> dict[str, np.ndarray]:
    """Weights and data of a 4-8-3 network, float32 like PyTorch's default."""
    rng = np.random.default_rng(42)
    shapes = {"w1": (4, 8), "b1": (8,), "w2": (8, 3), "b2": (3,), "x": (16, 4), "y": (16, 3)}
    return {name: rng.standard_normal(shape).astype(np.float32) for name, shape in shapes.items()}


def make_params(lib, arrays):
    return [lib.tensor(arrays[name], requires_grad=True) for name in ("w1", "b1", "w2", "b2")]


def compute_loss(lib, params, arrays):
    w1, b1, w2, b2 = params
    x, y = lib.tensor(arrays["x"]), lib.tensor(arrays["y"])
    prediction = (x @ w1 + b1).relu() @ w2 + b2
    return ((prediction - y) ** 2).mean()


def train(lib, make_optimizer, steps=STEPS):
    """Run ``steps`` optimizer steps in ``lib`` (tinytorch or torch); return the parameters."""
    arrays = initial_arrays()
    params = make_params(lib, arrays)
    optimizer = make_optimizer(lib, params)
    for _ in range(steps):
        optimizer.zero_grad()
        compute_loss(lib, params, arrays).backward()
        optimizer.step()
    return params


def assert_same_training(make_optimizer) -> None:
    torch = torch_or_skip()
    ours = train(tinytorch, make_optimizer)
    theirs = train(torch, make_optimizer)
    for mine, reference in zip(ours, theirs, strict=True):
        assert_close(mine, reference, atol=1e-5, rtol=1e-5)


CONFIGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.5}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
    ("SGD", {"lr": 0.01, "momentum": 0.5, "nesterov": True, "maximize": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "betas": (0.5, 0.9), "eps": 1e-6}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True, "maximize": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.5, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "maximize": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "centered": True}),
    ("RMSprop", {"lr": 0.005, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.005, "momentum": 0.9, "centered": True, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.005, "maximize": True}),
]


@pytest.mark.parametrize(
    ("name", "options"), CONFIGS, ids=[f"{name}-{options}" for name, options in CONFIGS]
)
def test_twenty_steps_match_pytorch(name, options) -> None:
    assert_same_training(lambda lib, params: getattr(lib.optim, name)(params, **options))


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_per_group_options_match_pytorch(name) -> None:
    def make_optimizer(lib, params):
        groups = [
            {"params": params[:2], "lr": 0.02, "weight_decay": 0.2},
            {"params": params[2:]},
        ]
        extra = {"momentum": 0.9} if name in ("SGD", "RMSprop") else {}
        return getattr(lib.optim, name)(groups, lr=0.01, **extra)

    assert_same_training(make_optimizer)


def test_defaults_match_pytorch() -> None:
    torch = torch_or_skip()
    for name in ("SGD", "Adam", "AdamW", "RMSprop"):
        ours = getattr(optim, name)([tinytorch.zeros(1, requires_grad=True)]).defaults
        theirs = getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)]).defaults
        assert ours == {key: theirs[key] for key in ours}, name


def test_update_is_in_place() -> None:
    params = make_params(tinytorch, initial_arrays())
    arrays_before = [param._data for param in params]
    values_before = [array.copy() for array in arrays_before]
    optimizer = optim.Adam(params, lr=0.1)
    compute_loss(tinytorch, params, initial_arrays()).backward()
    optimizer.step()
    for param, array, values in zip(params, arrays_before, values_before, strict=True):
        assert param._data is array
        assert not np.array_equal(array, values)


def test_parameters_without_gradient_are_left_alone() -> None:
    used, unused = tinytorch.ones(2, requires_grad=True), tinytorch.ones(2, requires_grad=True)
    optimizer = optim.SGD([used, unused], lr=0.5, momentum=0.9, weight_decay=0.1)
    (used * 3).sum().backward()
    optimizer.step()
    assert used.tolist() == pytest.approx([1 - 0.5 * 3.1] * 2)
    assert unused.tolist() == [1.0, 1.0]
    assert unused not in optimizer.state


def test_zero_grad_sets_none_or_zeros() -> None:
    param = tinytorch.ones(3, requires_grad=True)
    optimizer = optim.SGD([param], lr=0.1)
    (param * 2).sum().backward()
    optimizer.zero_grad(set_to_none=False)
    assert param.grad.tolist() == [0.0, 0.0, 0.0]
    optimizer.zero_grad()
    assert param.grad is None


def test_step_with_closure_returns_the_loss() -> None:
    param = tinytorch.tensor([2.0], requires_grad=True)
    optimizer = optim.SGD([param], lr=0.25)

    def closure():
        optimizer.zero_grad()
        loss = (param**2).sum()
        loss.backward()
        return loss

    with tinytorch.no_grad():
        loss = optimizer.step(closure)
    assert loss.item() == 4.0
    assert param.item() == 1.0  # 2 - 0.25 * (2 * 2)
    assert optimizer.step() is None


def test_add_param_group_fills_in_defaults() -> None:
    first, second = tinytorch.ones(1, requires_grad=True), tinytorch.ones(1, requires_grad=True)
    optimizer = optim.SGD([first], lr=0.1, momentum=0.9)
    optimizer.add_param_group({"params": second, "lr": 0.01})
    group = optimizer.param_groups[1]
    assert group["params"] == [second] or group["params"][0] is second
    assert (group["lr"], group["momentum"], group["nesterov"]) == (0.01, 0.9, False)


def test_repr_lists_the_groups() -> None:
    optimizer = optim.SGD([tinytorch.ones(1, requires_grad=True)], lr=0.1)
    text = repr(optimizer)
    assert text.startswith("SGD (\nParameter Group 0\n")
    assert "    lr: 0.1\n" in text


@pytest.mark.parametrize(
    ("make_optimizer", "message"),
    [
        (lambda p: optim.SGD(p, lr=-0.1), "Invalid learning rate: -0.1"),
        (lambda p: optim.SGD(p, momentum=-1), "Invalid momentum value: -1"),
        (lambda p: optim.SGD(p, weight_decay=-1), "Invalid weight_decay value: -1"),
        (lambda p: optim.SGD(p, nesterov=True), "Nesterov momentum requires a momentum"),
        (
            lambda p: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True),
            "zero dampening",
        ),
        (lambda p: optim.Adam(p, lr=-1e-3), "Invalid learning rate"),
        (lambda p: optim.Adam(p, eps=-1.0), "Invalid epsilon value: -1.0"),
        (lambda p: optim.Adam(p, betas=(1.0, 0.999)), "Invalid beta parameter at index 0"),
        (lambda p: optim.Adam(p, betas=(0.9, -0.1)), "Invalid beta parameter at index 1"),
        (lambda p: optim.AdamW(p, weight_decay=-0.01), "Invalid weight_decay value"),
        (lambda p: optim.RMSprop(p, alpha=-0.5), "Invalid alpha value: -0.5"),
        (lambda p: optim.RMSprop(p, eps=-1.0), "Invalid epsilon value"),
        (lambda p: optim.RMSprop(p, momentum=-0.5), "Invalid momentum value"),
        (lambda p: optim.SGD([{"params": p, "lr": -1.0}], lr=0.1), "Invalid learning rate"),
        (lambda p: optim.SGD([], lr=0.1), "empty parameter list"),
        (lambda p: optim.SGD([{"params": p}, {"params": p}]), "more than one parameter group"),
        (lambda p: optim.SGD([p[0] * 2]), "can't optimize a non-leaf Tensor"),
    ],
)
def test_bad_arguments_raise_value_error(make_optimizer, message) -> None:
    params = [tinytorch.ones(2, requires_grad=True)]
    with pytest.raises(ValueError, match=message):
        make_optimizer(params)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (tinytorch.ones(2, requires_grad=True), "iterable of Tensors or dicts"),
        ([{"params": {tinytorch.ones(2, requires_grad=True)}}], "ordered collections"),
        ([np.ones(2)], "can only optimize Tensors"),
        ([{"lr": 0.1}], "'params' entry"),
    ],
)
def test_bad_parameter_containers_raise_type_error(params, message) -> None:
    with pytest.raises(TypeError, match=message):
        optim.SGD(params, lr=0.1)


def test_duplicate_parameters_warn_like_pytorch() -> None:
    param = tinytorch.ones(2, requires_grad=True)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([param, param], lr=0.1)
