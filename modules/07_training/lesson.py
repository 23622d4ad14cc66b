# %% [markdown]
# # Module 07: Training
#
# You have gradients (module 05) and update rules (module 06). Training is the loop that
# joins them, plus three tools every real run needs: a learning-rate **schedule**, gradient
# **clipping** against the occasional exploding batch, and **checkpoints** to resume after an
# interruption. In this module you write the schedules, the two clipping functions and the
# training step of `Trainer`.
#
# ## Learning objectives
#
# - Compute step, multi-step, exponential, cosine, linear warm-up and one-cycle schedules as
#   closed-form functions of the epoch.
# - Clip gradients by their joint norm (keeping the direction) or by value.
# - Write the training step: forward, loss, zero the gradients, backward, clip, step.
# - Save and restore everything a run needs to resume exactly: model, optimizer, scheduler.
# - Measure a checkpoint's size on disk and what clipping costs per step.
#
# **Textbook:** *Machine Learning Systems* ([mlsysbook.ai](https://mlsysbook.ai)), chapter
# "AI Training" (the training loop, learning-rate schedules, checkpointing).
#
# **Prerequisites:** modules 05 (autograd) and 06 (optimizers), and the layers and losses
# of modules 03-04.

# %%
# Set-up: test the tinytorch of this workspace (the folder above modules/), not an installed
# copy. Under Jupyter, your edits to the package are reloaded before every cell.
from tito.course.lesson_setup import use_workspace

use_workspace()

# %%
import math
import os
import tempfile
import time

import numpy as np

import tinytorch
import tinytorch.nn as nn
from tinytorch.nn.utils import clip_grad_norm_, clip_grad_value_
from tinytorch.optim import SGD, Adam
from tinytorch.optim import lr_scheduler as sched
from tinytorch.training import Trainer

rng = np.random.default_rng(0)


def check(name: str, got, expected, atol: float = 1e-6) -> None:
    """Compare numbers or arrays; print ✓ name or stop with ✗ and the difference."""
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    assert got.shape == expected.shape, f"✗ {name}: shape {got.shape} vs {expected.shape}"
    assert np.allclose(got, expected, atol=atol, rtol=1e-6), f"✗ {name}:\n{got}\n{expected}"
    print(f"✓ {name}")


def lrs_of(make_scheduler, epochs: int, lr: float = 0.1) -> list[float]:
    """The learning rate at epochs 0..epochs-1 of a scheduler over a one-parameter SGD."""
    optimizer = SGD([nn.Parameter(tinytorch.zeros(1))], lr=lr, momentum=0.9)
    scheduler = make_scheduler(optimizer)
    rates = []
    for _ in range(epochs):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


# %% [markdown]
# ## The idea
#
# **Schedules.** A large learning rate makes fast progress early; a small one settles into a
# minimum late. A schedule is a function of the epoch $e$ (or the batch) times the base rate
# $\eta_0$:
#
# - step: $\eta_0 \gamma^{\lfloor e / s \rfloor}$; multi-step: $\eta_0 \gamma^{k(e)}$, $k(e)$
#   the number of milestones $\le e$; exponential: $\eta_0 \gamma^e$;
# - cosine: $\eta_{min} + (\eta_0 - \eta_{min}) (1 + \cos(\pi e / T)) / 2$;
# - linear warm-up: $\eta_0 (f_0 + (f_1 - f_0) \min(e, T) / T)$, which keeps the first steps
#   small while Adam's statistics and the network's activations settle;
# - one-cycle: warm up from $\eta_{max} / 25$ to $\eta_{max}$ over the first 30% of the steps,
#   then anneal far below the start.
#
# **Clipping.** Treat all gradients as one vector $g$. If $\|g\|_2 > c$, scale every gradient
# by $c / \|g\|_2$: the step keeps its direction but its length is bounded. Clipping by value
# clamps each element into $[-c, c]$ instead, which changes the direction.
#
# **Checkpoints.** Resuming needs more than the weights: momentum buffers or Adam's moments,
# the scheduler's epoch, and the history. Worked example: with $\eta_0 = 0.1$,
# `StepLR(step_size=2, gamma=0.5)` gives 0.1, 0.1, 0.05, 0.05, 0.025 at epochs 0-4; a gradient
# $(3, 4)$ has norm 5, so clipping to 1 gives $(0.6, 0.8)$.

# %%
print("StepLR by hand:", [0.1 * 0.5 ** (e // 2) for e in range(5)])
g = np.array([3.0, 4.0])
print("clip (3, 4) to norm 1:", g * min(1.0, 1.0 / np.linalg.norm(g)))

# %% [markdown]
# ## Exercise 1: closed-form schedules
#
# **Write** in `tinytorch/optim/lr_scheduler.py`: `LambdaLR.get_lr`, `StepLR.get_lr`,
# `MultiStepLR.get_lr`, `ExponentialLR.get_lr`, `CosineAnnealingLR.get_lr`,
# `LinearLR.get_lr`
#
# Each returns one learning rate per parameter group, computed from `self.base_lrs` and
# `self.last_epoch` only (never from the current `lr`), with the formula in the class
# docstring. Hints: `LambdaLR` has one function per group in `self.lr_lambdas`;
# `MultiStepLR` counts milestones with `bisect.bisect_right(self.milestones, epoch)`.

# %%
check(
    "StepLR",
    lrs_of(lambda o: sched.StepLR(o, step_size=2, gamma=0.5), 5),
    [0.1, 0.1, 0.05, 0.05, 0.025],
)
check(
    "MultiStepLR",
    lrs_of(lambda o: sched.MultiStepLR(o, milestones=[1, 3], gamma=0.1), 4),
    [0.1, 0.01, 0.01, 0.001],
)
check("ExponentialLR", lrs_of(lambda o: sched.ExponentialLR(o, gamma=0.9), 3), [0.1, 0.09, 0.081])
check(
    "LambdaLR", lrs_of(lambda o: sched.LambdaLR(o, lambda e: 1 / (e + 1)), 3), [0.1, 0.05, 0.1 / 3]
)
cosine = [0.01 + 0.09 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(5)]
check(
    "CosineAnnealingLR",
    lrs_of(lambda o: sched.CosineAnnealingLR(o, T_max=4, eta_min=0.01), 5),
    cosine,
)
check(
    "LinearLR warm-up",
    lrs_of(lambda o: sched.LinearLR(o, start_factor=0.25, total_iters=3), 5),
    [0.025, 0.05, 0.075, 0.1, 0.1],
)

# %% [markdown]
# ## Exercise 2: the one-cycle policy
#
# **Write** in `tinytorch/optim/lr_scheduler.py`: `OneCycleLR.get_lr`,
# `OneCycleLR._current_phase`, `OneCycleLR._anneal`
#
# - `_anneal(start, end, pct)`: cosine `end + (start - end) * (1 + cos(pi * pct)) / 2`, or
#   linear `start + (end - start) * pct` (`self.anneal_strategy`).
# - `_current_phase()`: walk `self.phases` (dicts with `end_step` and the group keys to anneal
#   between); return the first phase whose `end_step` is at or after `last_epoch` (the last
#   phase otherwise) and how far into it the step is, from the previous `end_step` (or 0).
# - `get_lr()`: raise `ValueError` past `total_steps`; for each group anneal
#   `group[phase["start_lr"]]` to `group[phase["end_lr"]]`, and with `cycle_momentum` set the
#   momentum (or Adam's `beta1`) from the phase's momentum keys, the opposite way.

# %%
one_cycle = lrs_of(lambda o: sched.OneCycleLR(o, max_lr=1.0, total_steps=10), 10)
print("OneCycleLR over 10 steps:", [round(r, 4) for r in one_cycle])
check("one-cycle starts at max_lr / 25", one_cycle[0], 1.0 / 25)
check("one-cycle peaks at max_lr at step 2 (30% of 10, counted from 0)", one_cycle[2], 1.0)
check("one-cycle ends at max_lr / 25 / 1e4", one_cycle[-1], 1.0 / 25 / 1e4)
linear = lrs_of(
    lambda o: sched.OneCycleLR(
        o, max_lr=1.0, total_steps=5, pct_start=0.5, anneal_strategy="linear", cycle_momentum=False
    ),
    5,
)
check("linear one-cycle", linear[:2], [0.04, 0.04 + (1 - 0.04) / 1.5])

# %% [markdown]
# ## Exercise 3: gradient clipping
#
# **Write** in `tinytorch/nn/utils/clip_grad.py`: `clip_grad_norm_`, `clip_grad_value_`
#
# - `clip_grad_norm_`: the norm of each gradient, then the norm of those norms (the joint
#   norm; `norm_type` may be `inf`); raise `RuntimeError` if it is not finite and
#   `error_if_nonfinite`; multiply every gradient in place by
#   `min(1, max_norm / (total + 1e-6))`; return the total norm before clipping as a Tensor.
# - `clip_grad_value_`: `np.clip(grad, -c, c, out=grad)` for each gradient.

# %%
p1, p2 = nn.Parameter(tinytorch.zeros(2)), nn.Parameter(tinytorch.zeros(1))
p1.grad, p2.grad = tinytorch.tensor([3.0, 0.0]), tinytorch.tensor([4.0])
total = clip_grad_norm_([p1, p2], max_norm=1.0)
check("clip_grad_norm_ returns the norm before clipping", total.item(), 5.0)
check(
    "clip_grad_norm_ scales all gradients together",
    [*p1.grad.numpy(), *p2.grad.numpy()],
    [0.6, 0.0, 0.8],
    atol=1e-5,
)
p1.grad = tinytorch.tensor([0.3, -0.4])
clip_grad_norm_([p1], max_norm=1.0)
check("a small gradient is left alone", p1.grad.numpy(), [0.3, -0.4], atol=1e-5)
p1.grad = tinytorch.tensor([2.0, -0.1])
clip_grad_value_([p1], clip_value=0.5)
check("clip_grad_value_ clamps each element", p1.grad.numpy(), [0.5, -0.1])

# %% [markdown]
# ## Exercise 4: the training step
#
# **Write** in `tinytorch/training.py`: `Trainer._train_step`
#
# Forward the inputs through `self.model`, compute `self.loss_fn(outputs, targets)`, zero the
# gradients, backward, clip with `clip_grad_norm_` when `self.max_grad_norm` is set, and step
# the optimizer. Return `(loss, outputs)`. `Trainer.fit` runs it for every batch, evaluates,
# steps the scheduler and records the history; `save_checkpoint` and `load_checkpoint` store
# and restore all of it.

# %%
x_np = rng.standard_normal((256, 2)).astype(np.float32)
y_np = (x_np[:, 0] * x_np[:, 1] > 0).astype(np.int64)  # XOR-like quadrants
inputs, targets = tinytorch.tensor(x_np), tinytorch.tensor(y_np)
batches = [(inputs[i : i + 32], targets[i : i + 32]) for i in range(0, 256, 32)]


def make_trainer(seed: int = 0) -> Trainer:
    tinytorch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    optimizer = Adam(model.parameters(), lr=0.05)
    scheduler = sched.StepLR(optimizer, step_size=10, gamma=0.5)
    return Trainer(
        model, optimizer, nn.CrossEntropyLoss(), scheduler, max_grad_norm=1.0, progress=False
    )


trainer = make_trainer()
history = trainer.fit(batches, epochs=20)
losses = history["train_loss"]
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}; accuracy {history['train_accuracy'][-1]:.2f}")
print("learning rate by epoch:", history["lr"][::5])
check("training lowers the loss", losses[-1] < 0.5 * losses[0], True)

with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "run.tt")
    straight = make_trainer()
    straight.fit(batches, epochs=6)
    first = make_trainer()
    first.fit(batches, epochs=3)
    first.save_checkpoint(path)
    resumed = make_trainer(seed=1)  # different initial weights: the checkpoint must win
    resumed.load_checkpoint(path)
    resumed.fit(batches, epochs=6)
check(
    "resuming from a checkpoint continues the same run",
    resumed.model[0].weight.detach().numpy(),
    straight.model[0].weight.detach().numpy(),
    atol=1e-5,
)

# %% [markdown]
# ## Systems analysis
#
# Two costs measured live. First, a checkpoint's size on disk against the bytes of the
# parameters, with SGD (no state), momentum and Adam, and how long saving and loading take.
# Second, what one call of `clip_grad_norm_` adds to a training step, against the backward
# pass and the optimizer step.

# %%
tinytorch.manual_seed(0)
big = nn.Sequential(nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 256))
param_bytes = sum(p.detach().numpy().nbytes for p in big.parameters())
x_big, y_big = tinytorch.randn(64, 256), tinytorch.randn(64, 256)
print(f"parameters: {param_bytes / 1e6:.2f} MB")
print(f"{'optimizer':<14}{'file MB':>9}{'file / params':>15}{'save ms':>9}{'load ms':>9}")
sizes = {}
with tempfile.TemporaryDirectory() as folder:
    for name, optimizer in [
        ("SGD", SGD(big.parameters(), lr=0.01)),
        ("SGD momentum", SGD(big.parameters(), lr=0.01, momentum=0.9)),
        ("Adam", Adam(big.parameters(), lr=1e-3)),
    ]:
        run = Trainer(big, optimizer, nn.MSELoss(), progress=False)
        run.fit([(x_big, y_big)], epochs=1)  # one step creates the optimizer state
        path = os.path.join(folder, f"{name}.tt")
        start = time.perf_counter()
        run.save_checkpoint(path)
        saved = time.perf_counter() - start
        start = time.perf_counter()
        run.load_checkpoint(path)
        loaded = time.perf_counter() - start
        sizes[name] = os.path.getsize(path)
        print(
            f"{name:<14}{sizes[name] / 1e6:>9.2f}{sizes[name] / param_bytes:>15.2f}"
            f"{saved * 1e3:>9.1f}{loaded * 1e3:>9.1f}"
        )
check("an Adam checkpoint is larger than a plain SGD one", sizes["Adam"] > sizes["SGD"], True)


def best_ms(fn, repeats: int = 7) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * min(times)


optimizer = SGD(big.parameters(), lr=1e-4)
loss_fn = nn.MSELoss()


def forward_backward() -> None:
    optimizer.zero_grad()
    loss_fn(big(x_big), y_big).backward()


forward_backward()
t_fb = best_ms(forward_backward)
t_clip = best_ms(lambda: clip_grad_norm_(big.parameters(), max_norm=1.0))
t_step = best_ms(optimizer.step)
print(
    f"\nforward + backward {t_fb:.2f} ms, clip_grad_norm_ {t_clip:.2f} ms, "
    f"SGD step {t_step:.2f} ms; clipping adds {100 * t_clip / (t_fb + t_step):.0f}% to a step"
)

# %% [markdown]
# Read the tables: a checkpoint stores the parameters plus one file-sized copy per state
# array of the optimizer, so the optimizer decides how big your checkpoints are. Clipping
# reads every gradient once (a norm) and writes it once (the scale), like one optimizer step;
# how that compares with forward + backward depends on the batch size. Try a larger batch.
#
# ## Reflection
#
# 1. Why do the schedules compute the rate from `base_lrs` and the epoch rather than by
#    multiplying the current `lr`? What does that buy you when resuming from a checkpoint?
# 2. Clipping by norm keeps the direction of the step; clipping by value does not. When would
#    you still prefer clipping by value?
# 3. Which parts of the state must a checkpoint hold so that a resumed run matches one that
#    never stopped? Which part is the random number generator, and is it saved here?
# 4. From your table, how large would an Adam checkpoint of a 1-billion-parameter float32
#    model be, and how often could you afford to write one?
