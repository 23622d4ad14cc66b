"""Learning-rate schedulers against PyTorch, state round trips and errors (module 07)."""

import numpy as np
import pytest

import tinytorch
from tests.helpers import torch_or_skip
from tinytorch import optim
from tinytorch.optim import lr_scheduler

pytestmark = pytest.mark.module07

STEPS = 20


def make_optimizer(lib, name="SGD", **options):
    """An optimizer over two groups with learning rates 0.1 and 0.05."""
    groups = [
        {"params": [lib.ones(2, requires_grad=True)]},
        {"params": [lib.ones(3, requires_grad=True)], "lr": 0.05},
    ]
    return getattr(lib.optim, name)(groups, lr=0.1, **options)


def trace(lib, make_scheduler, name="SGD", **options):
    """Each step's learning rates and first-group momentum (or beta1), for 20 steps."""
    optimizer = make_optimizer(lib, name, **options)
    scheduler = make_scheduler(lib.optim.lr_scheduler, optimizer)
    lrs, momenta = [], []
    for _ in range(STEPS):
        optimizer.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr())
        group = optimizer.param_groups[0]
        momenta.append(group["betas"][0] if "betas" in group else group["momentum"])
    return lrs, momenta


SCHEDULERS = {
    "StepLR": lambda s, opt: s.StepLR(opt, step_size=3, gamma=0.5),
    "MultiStepLR": lambda s, opt: s.MultiStepLR(opt, milestones=[2, 5, 5, 11], gamma=0.3),
    "ExponentialLR": lambda s, opt: s.ExponentialLR(opt, gamma=0.9),
    "CosineAnnealingLR": lambda s, opt: s.CosineAnnealingLR(opt, T_max=7, eta_min=0.001),
    "LambdaLR": lambda s, opt: s.LambdaLR(opt, lr_lambda=lambda epoch: 1 / (epoch + 1)),
    "LambdaLR-per-group": lambda s, opt: s.LambdaLR(
        opt, lr_lambda=[lambda epoch: 0.9**epoch, lambda epoch: epoch % 3 + 1]
    ),
    "LinearLR": lambda s, opt: s.LinearLR(opt, start_factor=0.25, total_iters=8),
    "LinearLR-decay": lambda s, opt: s.LinearLR(opt, 1.0, end_factor=0.1, total_iters=30),
    "OneCycleLR": lambda s, opt: s.OneCycleLR(opt, max_lr=0.5, total_steps=STEPS),
    "OneCycleLR-linear": lambda s, opt: s.OneCycleLR(
        opt, max_lr=[0.5, 0.2], epochs=4, steps_per_epoch=5, anneal_strategy="linear"
    ),
    "OneCycleLR-three-phase": lambda s, opt: s.OneCycleLR(
        opt, max_lr=0.3, total_steps=25, pct_start=0.2, three_phase=True, div_factor=10.0
    ),
}


@pytest.mark.parametrize("name", SCHEDULERS)
def test_learning_rates_match_pytorch(name) -> None:
    torch = torch_or_skip()
    options = {"momentum": 0.9} if name.startswith("OneCycle") else {}
    ours = trace(tinytorch, SCHEDULERS[name], **options)
    theirs = trace(torch, SCHEDULERS[name], **options)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)


def test_one_cycle_cycles_adams_beta1_like_pytorch() -> None:
    torch = torch_or_skip()
    make = SCHEDULERS["OneCycleLR"]
    ours, theirs = trace(tinytorch, make, "Adam"), trace(torch, make, "Adam")
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)


def test_first_learning_rate_is_applied_at_construction() -> None:
    optimizer = make_optimizer(tinytorch)
    scheduler = lr_scheduler.LinearLR(optimizer, start_factor=0.5, total_iters=4)
    assert scheduler.get_last_lr() == [0.05, 0.025]
    assert [group["lr"] for group in optimizer.param_groups] == [0.05, 0.025]
    assert [group["initial_lr"] for group in optimizer.param_groups] == [0.1, 0.05]
    assert scheduler.last_epoch == 0


def test_state_dict_round_trip_resumes_the_schedule() -> None:
    optimizer = make_optimizer(tinytorch)
    scheduler = lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)
    for _ in range(4):
        scheduler.step()
    state = scheduler.state_dict()
    assert "optimizer" not in state
    assert state["last_epoch"] == 4

    resumed_optimizer = make_optimizer(tinytorch)
    resumed = lr_scheduler.CosineAnnealingLR(resumed_optimizer, T_max=10)
    resumed.load_state_dict(state)
    scheduler.step()
    resumed.step()
    assert resumed.get_last_lr() == scheduler.get_last_lr()


def test_lambda_lr_state_leaves_out_the_functions() -> None:
    scheduler = lr_scheduler.LambdaLR(make_optimizer(tinytorch), lambda epoch: 0.5)
    assert "lr_lambdas" not in scheduler.state_dict()


def test_resuming_with_last_epoch_needs_initial_lr() -> None:
    optimizer = make_optimizer(tinytorch)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(optimizer, step_size=2, last_epoch=5)
    for group in optimizer.param_groups:
        group["initial_lr"] = group["lr"]
    scheduler = lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.1, last_epoch=5)
    assert scheduler.last_epoch == 6
    assert scheduler.get_last_lr() == pytest.approx([0.1 * 0.1**3, 0.05 * 0.1**3])


@pytest.mark.parametrize(
    ("make_scheduler", "message"),
    [
        (lambda opt: lr_scheduler.LinearLR(opt, start_factor=0), "Starting multiplicative"),
        (lambda opt: lr_scheduler.LinearLR(opt, end_factor=1.5), "Ending multiplicative"),
        (lambda opt: lr_scheduler.OneCycleLR(opt, max_lr=1.0), "either total_steps OR"),
        (lambda opt: lr_scheduler.OneCycleLR(opt, 1.0, total_steps=0), "total_steps"),
        (lambda opt: lr_scheduler.OneCycleLR(opt, 1.0, epochs=-1, steps_per_epoch=2), "epochs"),
        (
            lambda opt: lr_scheduler.OneCycleLR(opt, 1.0, epochs=2, steps_per_epoch=0),
            "steps_per_epoch",
        ),
        (lambda opt: lr_scheduler.OneCycleLR(opt, 1.0, 10, pct_start=1.5), "pct_start"),
        (lambda opt: lr_scheduler.OneCycleLR(opt, 1.0, 10, anneal_strategy="exp"), "anneal"),
        (lambda opt: lr_scheduler.OneCycleLR(opt, [1.0, 2.0, 3.0], 10), "same length"),
    ],
)
def test_bad_scheduler_arguments_raise_value_error(make_scheduler, message) -> None:
    with pytest.raises(ValueError, match=message):
        make_scheduler(make_optimizer(tinytorch, momentum=0.9))


def test_one_cycle_needs_momentum_or_betas() -> None:
    optimizer = optim.Optimizer([tinytorch.ones(1, requires_grad=True)], {"lr": 0.1})
    with pytest.raises(ValueError, match="momentum or beta1"):
        lr_scheduler.OneCycleLR(optimizer, max_lr=1.0, total_steps=10)


def test_one_cycle_refuses_to_step_past_the_cycle() -> None:
    scheduler = lr_scheduler.OneCycleLR(make_optimizer(tinytorch), max_lr=1.0, total_steps=3)
    for _ in range(3):
        scheduler.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        scheduler.step()


def test_scheduler_needs_an_optimizer() -> None:
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        lr_scheduler.StepLR([], step_size=1)


def test_loading_another_schedulers_state_raises() -> None:
    step_state = lr_scheduler.StepLR(make_optimizer(tinytorch), step_size=2).state_dict()
    cosine = lr_scheduler.CosineAnnealingLR(make_optimizer(tinytorch), T_max=5)
    with pytest.raises(ValueError, match=r"unexpected keys \['gamma', 'step_size'\]"):
        cosine.load_state_dict(step_state)
