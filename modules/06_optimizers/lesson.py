# %% [markdown]
# # Module 06: Optimizers
#
# Autograd gives every parameter its gradient; an optimizer decides what to do with it. In
# this module you write the update rules of SGD (with momentum and Nesterov momentum),
# RMSprop and Adam (with AdamW's decoupled weight decay), and measure what each one costs in
# memory and time.
#
# ## Learning objectives
#
# - State the update rules of SGD, momentum, RMSprop and Adam, and take one step of each by
#   hand.
# - Explain weight decay as an extra gradient term (L2) and as a direct shrink (AdamW).
# - Update parameters in place, with NumPy's `out=` and `*=`, so a step allocates little.
# - Measure the optimizer state each algorithm keeps per parameter, and its step time.
#
# **Textbook:** *Machine Learning Systems* ([mlsysbook.ai](https://mlsysbook.ai)), chapter
# "AI Training" (optimization algorithms and their memory footprint).
#
# **Prerequisites:** module 05 (autograd fills `param.grad`); modules 01-04 for the model
# and loss used in the checks.

# %%
# Set-up: test the tinytorch of this workspace (the folder above modules/), not an installed
# copy. Under Jupyter, your edits to the package are reloaded before every cell.
from tito.course.lesson_setup import use_workspace

use_workspace()

# %%
import time

import numpy as np

import tinytorch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.optim import SGD, Adam, AdamW, RMSprop

rng = np.random.default_rng(0)


def check(name: str, got, expected, atol: float = 1e-6) -> None:
    """Compare arrays; print ✓ name or stop with ✗ and the difference."""
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape, f"✗ {name}: shape {got.shape} vs {expected.shape}"
    assert np.allclose(got, expected, atol=atol, rtol=1e-5), f"✗ {name}:\n{got}\n{expected}"
    print(f"✓ {name}")


def run_steps(make_optimizer, start: np.ndarray, grads: list[np.ndarray]) -> np.ndarray:
    """Apply ``make_optimizer([param])`` for each given gradient; return the final values."""
    param = nn.Parameter(tinytorch.tensor(start.copy()))
    optimizer = make_optimizer([param])
    for grad in grads:
        param.grad = tinytorch.tensor(grad)
        optimizer.step()
    return param.detach().numpy()


# %% [markdown]
# ## The idea
#
# Write $g_t$ for the gradient at step $t$ and $\eta$ for the learning rate.
#
# - **SGD:** $\theta \leftarrow \theta - \eta g_t$.
# - **Momentum** (heavy ball): $b_t = \mu b_{t-1} + g_t$ (with $b_1 = g_1$),
#   $\theta \leftarrow \theta - \eta b_t$. Gradients that agree from step to step add up;
#   gradients that flip sign cancel. Nesterov steps with $g_t + \mu b_t$ instead, a look ahead.
# - **RMSprop:** $v_t = \alpha v_{t-1} + (1 - \alpha) g_t^2$,
#   $\theta \leftarrow \theta - \eta\, g_t / (\sqrt{v_t} + \epsilon)$: each coordinate is scaled
#   by the size of its own recent gradients.
# - **Adam:** both: $m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t$,
#   $v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2$; since $m_0 = v_0 = 0$ pulls both toward 0,
#   divide by $1 - \beta^t$ (bias correction):
#   $\theta \leftarrow \theta - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)$.
# - **Weight decay** $\lambda$: as L2, add $\lambda \theta$ to the gradient; AdamW instead
#   shrinks $\theta \leftarrow \theta (1 - \eta \lambda)$ before Adam's step.
#
# One step by hand: $\theta = 1$, $g = 0.5$, $\eta = 0.1$. SGD gives $0.95$. Adam's first
# step: $m = 0.05$, $v = 0.00025$, $\hat m = 0.5$, $\hat v = 0.25$, so
# $\theta = 1 - 0.1 \cdot 0.5 / 0.5 = 0.9$: the first Adam step has size $\eta$ whatever the
# gradient's scale. Two momentum steps with the same $g$: $b_1 = 0.5$, $b_2 = 0.9 \cdot 0.5 +
# 0.5 = 0.95$, so $\theta = 1 - 0.05 - 0.095 = 0.855$.

# %%
theta, g, lr = 1.0, 0.5, 0.1
m, v = 0.1 * g, 0.001 * g**2
adam_by_hand = theta - lr * (m / 0.1) / (np.sqrt(v / 0.001) + 1e-8)
print(f"SGD: {theta - lr * g:.4f}   Adam: {adam_by_hand:.4f}   momentum x2: {1 - 0.05 - 0.095:.4f}")
one = np.array([theta])
grad_one = np.array([g])
check("SGD, one step by hand", run_steps(lambda p: SGD(p, lr=0.1), one, [grad_one]), [0.95])
check("Adam, one step by hand", run_steps(lambda p: Adam(p, lr=0.1), one, [grad_one]), [0.9])
check(
    "momentum, two steps by hand",
    run_steps(lambda p: SGD(p, lr=0.1, momentum=0.9), one, [grad_one] * 2),
    [0.855],
)

# %% [markdown]
# ## Exercise 1: the gradient to follow
#
# **Write** in `tinytorch/optim/optimizer.py`: `Optimizer._gradient`
#
# `_gradient(param, maximize, weight_decay)` returns $\pm g + \lambda\theta$ as a NumPy array
# (`-g` when maximizing). Without weight decay return `param.grad`'s own array (negated if
# maximizing): every optimizer only reads it, so no copy is needed. With weight decay build
# one new array (`np.multiply(param._data, weight_decay)`) and add or subtract the gradient
# into it with `out=`.

# %%
param = nn.Parameter(tinytorch.tensor([1.0, -2.0]))
param.grad = tinytorch.tensor([0.5, 0.5])
check("plain gradient", SGD._gradient(param, False, 0.0), [0.5, 0.5])
check("maximize flips the sign", SGD._gradient(param, True, 0.0), [-0.5, -0.5])
check("weight decay adds lambda * theta", SGD._gradient(param, False, 0.1), [0.6, 0.3])
check("no copy without weight decay", SGD._gradient(param, False, 0.0) is param.grad.numpy(), True)

# %% [markdown]
# ## Exercise 2: SGD with momentum
#
# **Write** in `tinytorch/optim/sgd.py`: `SGD._update`
#
# Get `g` from `_gradient`. With `momentum != 0` keep the buffer in
# `state["momentum_buffer"]` (a Tensor): a copy of `g` on the first step, then
# `b = momentum * b + (1 - dampening) * g` in place. Step with `b`, or with `g + momentum * b`
# when `nesterov`. Finally `param._data -= lr * step`, in place: the Tensor object the model
# holds must stay the same.


# %%
def sgd_reference(start, grads, lr, momentum=0.0, dampening=0.0, wd=0.0, nesterov=False):
    theta, buffer = start.copy(), None
    for grad in grads:
        step = grad + wd * theta
        if momentum:
            buffer = step.copy() if buffer is None else momentum * buffer + (1 - dampening) * step
            step = step + momentum * buffer if nesterov else buffer
        theta = theta - lr * step
    return theta


start = rng.standard_normal(5)
grads = [rng.standard_normal(5) for _ in range(4)]
for options in (
    {},
    {"momentum": 0.9},
    {"momentum": 0.9, "dampening": 0.5},
    {"momentum": 0.9, "nesterov": True},
):
    check(
        f"SGD {options or 'plain'} over 4 steps",
        run_steps(lambda p, o=options: SGD(p, lr=0.1, **o), start, grads),
        sgd_reference(start, grads, 0.1, **options),
    )
check(
    "SGD weight_decay=0.01",
    run_steps(lambda p: SGD(p, lr=0.1, weight_decay=0.01), start, grads),
    sgd_reference(start, grads, 0.1, wd=0.01),
)

# %% [markdown]
# ## Exercise 3: RMSprop
#
# **Write** in `tinytorch/optim/rmsprop.py`: `RMSprop._update`
#
# On the first call create `state["step"]`, `state["square_avg"]` (zeros like the
# parameter), and `state["momentum_buffer"]` / `state["grad_avg"]` when `momentum > 0` /
# `centered`. Update $v$; the denominator is $\sqrt{v} + \epsilon$, or
# $\sqrt{v - a^2} + \epsilon$ when centered with $a$ the running mean gradient. With momentum,
# `b = momentum * b + g / denominator` and step with `lr * b`. Allocate at most one scratch
# array per step and reuse it with `out=`.


# %%
def rmsprop_reference(start, grads, lr, alpha=0.99, eps=1e-8, momentum=0.0, centered=False):
    theta, v, a, b = start.copy(), 0.0, 0.0, 0.0
    for grad in grads:
        v = alpha * v + (1 - alpha) * grad**2
        a = alpha * a + (1 - alpha) * grad
        denominator = np.sqrt(v - a**2 if centered else v) + eps
        b = momentum * b + grad / denominator
        theta = theta - lr * (b if momentum else grad / denominator)
    return theta


for options in ({}, {"momentum": 0.9}, {"centered": True}):
    check(
        f"RMSprop {options or 'plain'} over 4 steps",
        run_steps(lambda p, o=options: RMSprop(p, lr=0.01, **o), start, grads),
        rmsprop_reference(start, grads, 0.01, **options),
    )

# %% [markdown]
# ## Exercise 4: Adam and AdamW
#
# **Write** in `tinytorch/optim/adam.py`: `Adam._update`
#
# On the first call create `state["step"] = 0`, `state["exp_avg"]`, `state["exp_avg_sq"]`
# (and `state["max_exp_avg_sq"]` for `amsgrad`). Then: count the step; for
# `decoupled_weight_decay` (AdamW) shrink the parameter by `1 - lr * weight_decay` and use no
# L2 term; update $m$ and $v$ in place; with `amsgrad` use the running maximum of $v$; divide
# by the bias corrections and step. `AdamW` is `Adam` with `decoupled_weight_decay=True`, so
# this one method serves both.


# %%
def adam_reference(start, grads, lr, betas=(0.9, 0.999), eps=1e-8, wd=0.0, decoupled=False):
    theta, m, v = start.copy(), 0.0, 0.0
    for t, grad in enumerate(grads, start=1):
        if decoupled:
            theta = theta * (1 - lr * wd)
        else:
            grad = grad + wd * theta
        m = betas[0] * m + (1 - betas[0]) * grad
        v = betas[1] * v + (1 - betas[1]) * grad**2
        m_hat, v_hat = m / (1 - betas[0] ** t), v / (1 - betas[1] ** t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta


check(
    "Adam over 4 steps",
    run_steps(lambda p: Adam(p, lr=0.01), start, grads),
    adam_reference(start, grads, 0.01),
)
check(
    "Adam with L2 weight decay",
    run_steps(lambda p: Adam(p, lr=0.01, weight_decay=0.1), start, grads),
    adam_reference(start, grads, 0.01, wd=0.1),
)
check(
    "AdamW (decoupled weight decay)",
    run_steps(lambda p: AdamW(p, lr=0.01, weight_decay=0.1), start, grads),
    adam_reference(start, grads, 0.01, wd=0.1, decoupled=True),
)

# A real use: fit y = 3x - 1 with a Linear layer, 200 Adam steps.
tinytorch.manual_seed(0)
line = nn.Linear(1, 1)
xs = tinytorch.tensor(rng.uniform(-1, 1, (64, 1)).astype(np.float32))
ys = 3 * xs - 1
optimizer = Adam(line.parameters(), lr=0.05)
for _ in range(200):
    loss = F.mse_loss(line(xs), ys)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
fitted = [line.weight.item(), line.bias.item()]
print(f"fitted weight {fitted[0]:.3f}, bias {fitted[1]:.3f}, final loss {loss.item():.2e}")
check("Adam fits y = 3x - 1", fitted, [3.0, -1.0], atol=1e-2)

# %% [markdown]
# ## Systems analysis
#
# An optimizer's state lives as long as training does, next to the parameters and their
# gradients. Below we build one model, run one step with each optimizer, then measure live:
# the bytes in `optimizer.state` (per parameter, and in total), the total of parameters +
# gradients + state, and the time of `optimizer.step()` alone.


# %%
def state_bytes(optimizer) -> int:
    """Bytes of every Tensor kept in the optimizer's per-parameter state."""
    return sum(
        value.detach().numpy().nbytes
        for values in optimizer.state.values()
        for value in values.values()
        if isinstance(value, tinytorch.Tensor)
    )


def step_time(optimizer, repeats: int = 10) -> float:
    optimizer.step()
    times = []
    for _ in range(repeats):
        start_time = time.perf_counter()
        optimizer.step()
        times.append(time.perf_counter() - start_time)
    return min(times)


tinytorch.manual_seed(0)
model = nn.Sequential(nn.Linear(512, 1024), nn.ReLU(), nn.Linear(1024, 512))
count = sum(p.numel() for p in model.parameters())
param_bytes = sum(p.detach().numpy().nbytes for p in model.parameters())
batch = tinytorch.randn(16, 512)
F.mse_loss(model(batch), tinytorch.zeros(16, 512)).backward()  # gradients for every parameter
grad_bytes = sum(p.grad.numpy().nbytes for p in model.parameters())
print(f"model: {count:,} float32 parameters = {param_bytes / 1e6:.1f} MB (gradients the same)")
print(
    f"{'optimizer':<22}{'state MB':>9}{'bytes/param':>12}{'params+grads+state MB':>23}"
    f"{'step ms':>9}"
)
choices = {
    "SGD": lambda p: SGD(p, lr=1e-3),
    "SGD momentum": lambda p: SGD(p, lr=1e-3, momentum=0.9),
    "RMSprop": lambda p: RMSprop(p, lr=1e-3),
    "Adam": lambda p: Adam(p, lr=1e-3),
    "Adam amsgrad": lambda p: Adam(p, lr=1e-3, amsgrad=True),
}
measured = {}
for name, make in choices.items():
    optimizer = make(model.parameters())
    seconds = step_time(optimizer)
    kept = state_bytes(optimizer)
    measured[name] = kept / count
    total = (param_bytes + grad_bytes + kept) / 1e6
    print(f"{name:<22}{kept / 1e6:>9.1f}{kept / count:>12.1f}{total:>23.1f}{seconds * 1e3:>9.2f}")
check("SGD keeps no state; Adam keeps two arrays", [measured["SGD"], measured["Adam"]], [0, 8])

# %% [markdown]
# Read the table: the state is a whole number of parameter-sized arrays (4 bytes each in
# float32), so choosing Adam over SGD adds twice the model's size to training memory, before
# any activation is counted. Step time grows with the number of array passes each rule makes.
#
# ## Reflection
#
# 1. From your table, how much memory would Adam's state take for a model of 7 billion
#    float32 parameters? What would parameters + gradients + state total?
# 2. Why does Adam's very first step have size about `lr` in every coordinate, whatever the
#    gradient's scale? When is that helpful, and when harmful?
# 3. `_gradient` returns `param.grad`'s own array without copying. What would break if an
#    optimizer then wrote into that array?
# 4. With L2 weight decay, Adam divides the decay term by $\sqrt{\hat v}$ too. Which
#    parameters get decayed less, and how does AdamW avoid that?
