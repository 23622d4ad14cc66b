"""Optimizer state_dict: PyTorch's layout, identical resumption, clear mismatch errors (06)."""

import numpy as np
import pytest

import tinytorch
from tinytorch import optim

pytestmark = pytest.mark.module06


def make_problem():
    """Parameters of a linear least-squares problem and a function that runs one step."""
    rng = np.random.default_rng(3)
    x = tinytorch.tensor(rng.standard_normal((8, 3)).astype(np.float32))
    y = tinytorch.tensor(rng.standard_normal((8, 2)).astype(np.float32))
    weight = tinytorch.tensor(rng.standard_normal((3, 2)).astype(np.float32), requires_grad=True)
    bias = tinytorch.zeros(2, requires_grad=True)

    def run_step(optimizer):
        optimizer.zero_grad()
        (((x @ weight + bias) - y) ** 2).mean().backward()
        optimizer.step()

    return [weight, bias], run_step


OPTIMIZERS = [
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    lambda p: optim.Adam(p, lr=0.05, amsgrad=True),
    lambda p: optim.AdamW(p, lr=0.05),
    lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
]


@pytest.mark.parametrize("make_optimizer", OPTIMIZERS, ids=["SGD", "Adam", "AdamW", "RMSprop"])
def test_loaded_state_resumes_identically(make_optimizer) -> None:
    params, run_step = make_problem()
    optimizer = make_optimizer(params)
    for _ in range(5):
        run_step(optimizer)
    resumed_params, resumed_step = make_problem()
    for param, resumed_param in zip(params, resumed_params, strict=True):
        resumed_param._data[...] = param._data
    resumed = make_optimizer(resumed_params)
    resumed.load_state_dict(optimizer.state_dict())  # copies: the two now step apart
    for _ in range(5):
        run_step(optimizer)
        resumed_step(resumed)
    for param, resumed_param in zip(params, resumed_params, strict=True):
        np.testing.assert_array_equal(param._data, resumed_param._data)


def test_state_dict_has_pytorchs_layout() -> None:
    params, run_step = make_problem()
    optimizer = optim.SGD(
        [{"params": params[:1]}, {"params": params[1:], "lr": 0.01}], lr=0.1, momentum=0.9
    )
    run_step(optimizer)
    state = optimizer.state_dict()
    assert set(state) == {"state", "param_groups"}
    assert set(state["state"]) == {0, 1}
    assert set(state["state"][0]) == {"momentum_buffer"}
    assert [group["params"] for group in state["param_groups"]] == [[0], [1]]
    assert state["param_groups"][1] == {
        "lr": 0.01,
        "momentum": 0.9,
        "dampening": 0,
        "weight_decay": 0,
        "nesterov": False,
        "maximize": False,
        "params": [1],
    }


@pytest.mark.parametrize(
    ("name", "options"),
    [("SGD", {}), ("SGD", {"momentum": 0.9}), ("Adam", {"amsgrad": True}), ("RMSprop", {})],
)
def test_state_dict_has_pytorchs_keys(name, options) -> None:
    torch = pytest.importorskip("torch")
    state_dicts = []
    for library in (tinytorch, torch):
        param = library.ones(2, requires_grad=True)
        optimizer = getattr(library.optim, name)([param], lr=0.1, **options)
        (param * 3).sum().backward()
        optimizer.step()
        state_dicts.append(optimizer.state_dict())
    ours, theirs = state_dicts
    assert ours["state"].keys() == theirs["state"].keys()
    for index, values in ours["state"].items():
        assert values.keys() == theirs["state"][index].keys()
    assert ours["param_groups"][0].keys() <= theirs["param_groups"][0].keys()


def test_loading_restores_hyperparameters_and_copies_state() -> None:
    params, run_step = make_problem()
    optimizer = optim.Adam(params, lr=0.05)
    run_step(optimizer)
    state = optimizer.state_dict()
    other = optim.Adam(make_problem()[0], lr=0.5)
    other.load_state_dict(state)
    assert other.param_groups[0]["lr"] == 0.05
    mine = optimizer.state[params[0]]["exp_avg"]
    loaded = other.state[other.param_groups[0]["params"][0]]["exp_avg"]
    np.testing.assert_array_equal(mine._data, loaded._data)
    assert loaded._data is not mine._data


def test_state_of_another_optimizer_is_refused() -> None:
    params, run_step = make_problem()
    sgd = optim.SGD(params, lr=0.1, momentum=0.9)
    run_step(sgd)
    with pytest.raises(ValueError, match=r"lacks the options \['amsgrad', 'betas'"):
        optim.Adam(make_problem()[0]).load_state_dict(sgd.state_dict())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda state: state.pop("state"), "'state' and 'param_groups'"),
        (lambda state: state["param_groups"].append({"params": []}), "2 parameter groups"),
        (lambda state: state["param_groups"][0]["params"].pop(), "doesn't match the size"),
        (lambda state: state["state"].update({7: {}}), "unknown parameter 7"),
        (
            lambda state: state["state"][0].update(exp_avg=tinytorch.zeros(5)),
            r"'exp_avg' of parameter 0 has shape \(5,\)",
        ),
    ],
)
def test_mismatched_state_dict_raises_before_changing_anything(change, message) -> None:
    params, run_step = make_problem()
    optimizer = optim.Adam(params, lr=0.05)
    run_step(optimizer)
    state = optimizer.state_dict()
    state["param_groups"] = [
        dict(group, params=list(group["params"])) for group in state["param_groups"]
    ]
    change(state)
    target = optim.Adam(make_problem()[0], lr=0.5)
    with pytest.raises(ValueError, match=message):
        target.load_state_dict(state)
    assert target.param_groups[0]["lr"] == 0.5
    assert not target.state
