"""Module 07 against NumPy: schedules in closed form, gradient clipping, one training step.

No PyTorch needed. With base rate b and epoch e:
StepLR b g^floor(e / s); MultiStepLR b g^(milestones <= e); ExponentialLR b g^e;
CosineAnnealingLR m + (b - m)(1 + cos(pi e / T)) / 2; LinearLR b (f0 + (f1 - f0) min(e, n) / n);
LambdaLR b f(e); OneCycleLR cosine-anneals between the rates at the ends of its phases.
"""

import math

import numpy as np
import pytest

import tinytorch
from tests.helpers import random_array
from tinytorch import nn, optim
from tinytorch.nn.utils import clip_grad_norm_, clip_grad_value_
from tinytorch.optim import lr_scheduler
from tinytorch.training import Trainer

pytestmark = pytest.mark.module07

BASES = (0.1, 0.05)
EPOCHS = 20


def one_cycle(step, max_lr, total, pct=0.3, div=25.0, final_div=1e4, three_phase=False):
    """OneCycleLR's rate at ``step``: cosine from each phase's start rate to its end rate."""
    initial = max_lr / div
    low = initial / final_div
    if three_phase:
        ends, rates = (
            [pct * total - 1, 2 * pct * total - 2, total - 1],
            [initial, max_lr, initial, low],
        )
    else:
        ends, rates = [pct * total - 1, total - 1], [initial, max_lr, low]
    start = 0.0
    for phase, end in enumerate(ends):
        if step <= end or phase == len(ends) - 1:
            fraction = (step - start) / (end - start)
            high, after = rates[phase], rates[phase + 1]
            return after + (high - after) / 2 * (1 + math.cos(math.pi * fraction))
        start = end
    raise AssertionError("unreachable")


# id -> (scheduler for the optimizer, the rate of a group with base rate b at epoch e)
SCHEDULES = {
    "StepLR": (
        lambda opt: lr_scheduler.StepLR(opt, step_size=3, gamma=0.5),
        lambda b, e: b * 0.5 ** (e // 3),
    ),
    "MultiStepLR": (
        lambda opt: lr_scheduler.MultiStepLR(opt, milestones=[2, 5, 5, 11], gamma=0.3),
        lambda b, e: b * 0.3 ** sum(m <= e for m in [2, 5, 5, 11]),
    ),
    "ExponentialLR": (
        lambda opt: lr_scheduler.ExponentialLR(opt, gamma=0.9),
        lambda b, e: b * 0.9**e,
    ),
    "CosineAnnealingLR": (
        lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=7, eta_min=0.001),
        lambda b, e: 0.001 + (b - 0.001) * (1 + math.cos(math.pi * e / 7)) / 2,
    ),
    "LinearLR": (
        lambda opt: lr_scheduler.LinearLR(opt, start_factor=0.25, end_factor=0.5, total_iters=8),
        lambda b, e: b * (0.25 + 0.25 * min(e, 8) / 8),
    ),
    "LambdaLR": (
        lambda opt: lr_scheduler.LambdaLR(opt, lr_lambda=lambda e: 1 / (e + 1)),
        lambda b, e: b / (e + 1),
    ),
    "OneCycleLR": (
        lambda opt: lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=EPOCHS + 1),
        lambda b, e: one_cycle(e, 0.5, EPOCHS + 1),
    ),
    "OneCycleLR-three-phase": (
        lambda opt: lr_scheduler.OneCycleLR(
            opt, max_lr=0.3, total_steps=EPOCHS + 1, pct_start=0.2, three_phase=True
        ),
        lambda b, e: one_cycle(e, 0.3, EPOCHS + 1, pct=0.2, three_phase=True),
    ),
}


@pytest.mark.parametrize("name", SCHEDULES)
def test_learning_rates_follow_the_closed_form(name: str) -> None:
    build, rate = SCHEDULES[name]
    groups = [{"params": [tinytorch.ones(2, requires_grad=True)], "lr": lr} for lr in BASES]
    optimizer = optim.SGD(groups, lr=0.1, momentum=0.9)
    scheduler = build(optimizer)
    for epoch in range(EPOCHS + 1):
        if epoch:
            optimizer.step()
            scheduler.step()
        expected = [rate(base, epoch) for base in BASES]
        actual = [group["lr"] for group in optimizer.param_groups]
        np.testing.assert_allclose(actual, expected, rtol=1e-6, err_msg=f"epoch {epoch}")
        assert scheduler.get_last_lr() == actual


def parameters_with_gradients(*grads: np.ndarray) -> list[tinytorch.Tensor]:
    params = [tinytorch.zeros(*grad.shape, requires_grad=True) for grad in grads]
    for param, grad in zip(params, grads, strict=True):
        param.grad = tinytorch.tensor(grad)
    return params


@pytest.mark.parametrize(
    ("norm_type", "max_norm"), [(2.0, 1.0), (1.0, 2.5), (math.inf, 0.3), (2.0, 50.0)]
)
def test_clip_grad_norm_scales_by_max_norm_over_the_joint_norm(norm_type, max_norm) -> None:
    grads = [random_array((3, 4)), random_array((5,))]
    joint = np.concatenate([grad.ravel() for grad in grads]).astype(np.float64)
    total = (
        np.abs(joint).max()
        if norm_type == math.inf
        else (np.abs(joint) ** norm_type).sum() ** (1 / norm_type)
    )
    scale = min(1.0, max_norm / (total + 1e-6))
    params = parameters_with_gradients(*grads)
    returned = clip_grad_norm_(params, max_norm, norm_type=norm_type)
    np.testing.assert_allclose(returned.numpy(), total, rtol=1e-5)
    for param, grad in zip(params, grads, strict=True):
        np.testing.assert_allclose(param.grad.numpy(), grad * scale, rtol=1e-5, atol=1e-7)


def test_clip_grad_value_clamps_every_element() -> None:
    grads = [random_array((3, 4)), random_array((5,))]
    params = parameters_with_gradients(*grads)
    clip_grad_value_(params, 0.5)
    for param, grad in zip(params, grads, strict=True):
        np.testing.assert_array_equal(param.grad.numpy(), np.clip(grad, -0.5, 0.5))


@pytest.mark.parametrize("max_grad_norm", [None, 0.1])
def test_one_training_step_is_one_gradient_step_on_the_batch(max_grad_norm) -> None:
    """y = x W^T + b with MSE: dL/dy = 2 (y - t) / size, dW = dy^T x, db = sum of dy."""
    x, t = random_array((8, 3)), random_array((8, 2))
    model = nn.Linear(3, 2)
    weight, bias = model.weight.detach().numpy().copy(), model.bias.detach().numpy().copy()
    d_y = 2 * (x @ weight.T + bias - t) / t.size
    d_weight, d_bias = d_y.T @ x, d_y.sum(axis=0)
    if max_grad_norm is not None:
        norm = np.sqrt((d_weight**2).sum() + (d_bias**2).sum())
        d_weight, d_bias = (g * min(1, max_grad_norm / (norm + 1e-6)) for g in (d_weight, d_bias))
    optimizer = optim.SGD(model.parameters(), lr=0.5)
    trainer = Trainer(model, optimizer, nn.MSELoss(), progress=False, max_grad_norm=max_grad_norm)
    trainer.fit([(tinytorch.tensor(x), tinytorch.tensor(t))], epochs=1)
    np.testing.assert_allclose(
        model.weight.detach().numpy(), weight - 0.5 * d_weight, rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        model.bias.detach().numpy(), bias - 0.5 * d_bias, rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        trainer.history["train_loss"][0], ((x @ weight.T + bias - t) ** 2).mean(), rtol=1e-5
    )
