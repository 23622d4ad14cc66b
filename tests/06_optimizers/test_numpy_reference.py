"""Module 06's optimizers against their update rules written in NumPy: no PyTorch needed.

Each optimizer takes three steps with given gradients g_t; a NumPy function applies the same
rule (the formulas of PyTorch's documentation) and both parameters must agree after each step.
"""

import numpy as np
import pytest

import tinytorch
import tinytorch.optim as optim
from tests.helpers import random_array

pytestmark = pytest.mark.module06

STEPS = 3


def sgd(p, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    """p <- p - lr * d, where d is g (+ weight_decay p), or its momentum buffer b."""
    buffer = None
    for g in grads:
        g = g + weight_decay * p
        if momentum:
            buffer = g if buffer is None else momentum * buffer + (1 - dampening) * g
            g = g + momentum * buffer if nesterov else buffer
        p = p - lr * g
        yield p


def adam(
    p, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False
):
    """m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  p -= lr m^ / (sqrt(v^) + eps)."""
    (beta1, beta2), m, v, v_max = betas, 0.0, 0.0, 0.0
    for t, g in enumerate(grads, start=1):
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        v_max = np.maximum(v_max, v)
        v_used = v_max if amsgrad else v
        m_hat, v_hat = m / (1 - beta1**t), v_used / (1 - beta2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        yield p


def rmsprop(p, grads, lr, alpha=0.99, eps=1e-8, momentum=0.0, centered=False):
    """s = a s + (1 - a) g^2;  p -= lr g / (sqrt(s - mean(g)^2 if centered) + eps)."""
    square, mean, buffer = 0.0, 0.0, 0.0
    for g in grads:
        square = alpha * square + (1 - alpha) * g**2
        mean = alpha * mean + (1 - alpha) * g
        scale = np.sqrt(square - mean**2 if centered else square) + eps
        buffer = momentum * buffer + g / scale
        p = p - lr * (buffer if momentum else g / scale)
        yield p


# id -> (optimizer for the parameter list, the NumPy rule for (p, grads))
CASES = {
    "sgd": (lambda ps: optim.SGD(ps, lr=0.1), lambda p, gs: sgd(p, gs, 0.1)),
    "sgd_weight_decay": (
        lambda ps: optim.SGD(ps, lr=0.1, weight_decay=0.05),
        lambda p, gs: sgd(p, gs, 0.1, weight_decay=0.05),
    ),
    "sgd_momentum_dampening": (
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.3),
        lambda p, gs: sgd(p, gs, 0.1, momentum=0.9, dampening=0.3),
    ),
    "sgd_nesterov": (
        lambda ps: optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01),
        lambda p, gs: sgd(p, gs, 0.05, momentum=0.8, weight_decay=0.01, nesterov=True),
    ),
    "adam": (lambda ps: optim.Adam(ps, lr=0.01), lambda p, gs: adam(p, gs, 0.01)),
    "adam_weight_decay_amsgrad": (
        lambda ps: optim.Adam(ps, lr=0.01, betas=(0.8, 0.9), weight_decay=0.1, amsgrad=True),
        lambda p, gs: adam(p, gs, 0.01, (0.8, 0.9), weight_decay=0.1, amsgrad=True),
    ),
    "adamw": (
        lambda ps: optim.AdamW(ps, lr=0.01, weight_decay=0.1),
        lambda p, gs: adam(p, gs, 0.01, weight_decay=0.1, decoupled=True),
    ),
    "rmsprop": (lambda ps: optim.RMSprop(ps, lr=0.01), lambda p, gs: rmsprop(p, gs, 0.01)),
    "rmsprop_centered_momentum": (
        lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
        lambda p, gs: rmsprop(p, gs, 0.01, momentum=0.5, centered=True),
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_steps_follow_the_numpy_update_rule(case: str) -> None:
    build, rule = CASES[case]
    start = random_array((3, 4)).astype(np.float64)
    grads = [random_array((3, 4)).astype(np.float64) for _ in range(STEPS)]
    param = tinytorch.nn.Parameter(tinytorch.tensor(start))
    optimizer = build([param])
    for step, expected in enumerate(rule(start, grads)):
        param.grad = tinytorch.tensor(grads[step])
        optimizer.step()
        np.testing.assert_allclose(param.detach().numpy(), expected, rtol=1e-10, atol=1e-12)


def test_maximize_climbs_the_gradient() -> None:
    start, grad = random_array((5,)).astype(np.float64), random_array((5,)).astype(np.float64)
    param = tinytorch.nn.Parameter(tinytorch.tensor(start))
    param.grad = tinytorch.tensor(grad)
    optim.SGD([param], lr=0.1, maximize=True).step()
    np.testing.assert_allclose(param.detach().numpy(), start + 0.1 * grad, rtol=1e-12)
