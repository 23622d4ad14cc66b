# %% [markdown]
# # Module 04: Losses
#
# A loss turns "how wrong is the model" into one number that training can push down. In
# this module you write the losses for regression (MSE, L1), classification (cross-entropy,
# negative log-likelihood) and binary targets (BCE, BCE with logits), each fused into one
# numerically stable operation.
#
# ## Learning objectives
#
# - State MSE, L1, cross-entropy, NLL and binary cross-entropy, and the reductions
#   `'mean'`, `'sum'`, `'none'`.
# - Compute cross-entropy from logits without ever forming probabilities, with class weights,
#   `ignore_index` and label smoothing.
# - Explain why a fused loss saves memory and avoids `log(0)`.
#
# **Textbook:** *Machine Learning Systems* ([mlsysbook.ai](https://mlsysbook.ai)), chapter
# "Deep Learning Primer" (loss functions and what training minimises).
#
# **Prerequisites:** modules 01-03; `log_softmax_array` and `stable_sigmoid` from module 02.

# %%
# Set-up: test the tinytorch of this workspace (the folder above modules/), not an installed
# copy. Under Jupyter, your edits to the package are reloaded before every cell.
from tito.course.lesson_setup import use_workspace

use_workspace()

# %%
import time

import numpy as np

import tinytorch
import tinytorch.nn.functional as F
from tinytorch.ops import loss as ops


def check(name: str, got, expected, atol: float = 1e-5) -> None:
    """Compare a tensor (or array) with the NumPy answer; print ✓ or stop with the reason."""
    got = np.asarray(got.detach().numpy() if hasattr(got, "numpy") else got)
    expected = np.asarray(expected)
    assert got.shape == expected.shape, f"✗ {name}: shape {got.shape}, expected {expected.shape}"
    assert np.allclose(got, expected, atol=atol, rtol=1e-5), (
        f"✗ {name}: got\n{got}\nexpected\n{expected}"
    )
    print(f"✓ {name}")


rng = np.random.default_rng(0)


def np_log_softmax(a: np.ndarray) -> np.ndarray:
    shifted = a - a.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


# %% [markdown]
# ## The idea
#
# For predictions $x$ and targets $y$ (per element, then reduced by mean or sum):
#
# - MSE: $(x - y)^2$; L1: $|x - y|$.
# - Cross-entropy for $C$ classes with logits $x_i \in \mathbb{R}^C$ and class $t_i$:
#   $\ell_i = -\log \mathrm{softmax}(x_i)_{t_i} = -x_{i t_i} + \log\sum_c e^{x_{ic}}$.
#   In general, with a target distribution $q_i$:
#   $\ell_i = -\sum_c q_{ic} \log \mathrm{softmax}(x_i)_c$. Class weights $w$ scale row $i$ by
#   $w_{t_i}$ and `'mean'` then divides by $\sum_i w_{t_i}$; label smoothing $\varepsilon$ uses
#   $q = (1 - \varepsilon)\,\text{one-hot} + \varepsilon / C$.
# - NLL: the same with log-probabilities as input: $\ell_i = -w_{t_i} x_{i t_i}$.
# - BCE: $-[y \log p + (1 - y) \log(1 - p)]$ with each log clamped at $-100$. From logits
#   $x$ (with $p = \sigma(x)$) it simplifies to $(1 - y) x + \log(1 + e^{-x})$, where
#   $\log(1 + e^{-x})$ is computed stably as `np.logaddexp(0, -x)`.
#
# Worked example: two samples, three classes.

# %%
logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
targets = np.array([0, 2])
probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
per_sample = -np.log(probs[np.arange(2), targets])
print("probabilities:", np.round(probs, 3).tolist())
print("per-sample loss:", np.round(per_sample, 4).tolist(), " mean:", round(per_sample.mean(), 4))

# %% [markdown]
# ## Exercise 1: reductions and class weights
#
# **Write** in `tinytorch/ops/loss.py`: `reduce_loss`, `row_weights`
#
# - `reduce_loss(loss, reduction)`: the array itself for `'none'`, else its sum or mean as a
#   0-d array (`np.asarray`).
# - `row_weights(target, weight, ignore_index, dtype)`: for class indices `target` (M,)
#   return `(safe_target, weights, counted)`: `counted` is `target != ignore_index`;
#   `safe_target` replaces ignored targets by 0 (so it can still index); `weights` is
#   `weight[safe_target]` times `counted` (or `counted` as `dtype` without class weights).

# %%
per_element = np.array([[1.0, 2.0], [3.0, 6.0]], dtype=np.float32)
check("reduce_loss mean", ops.reduce_loss(per_element, "mean"), 3.0)
check("reduce_loss sum", ops.reduce_loss(per_element, "sum"), 12.0)
check("reduce_loss none", ops.reduce_loss(per_element, "none"), per_element)
safe, weights, counted = ops.row_weights(
    np.array([2, -100, 0]), np.array([0.5, 1.0, 2.0], np.float32), -100, np.float32
)
check("row_weights: safe targets", safe, [2, 0, 0])
check("row_weights: weights (ignored row 0)", weights, [2.0, 0.0, 0.5])
check("row_weights: counted", counted, [True, False, True])

# %% [markdown]
# ## Exercise 2: regression losses
#
# **Write** in `tinytorch/ops/loss.py`: `MSE.forward`, `L1.forward`
#
# Compute `diff = input - target` once, save it (backward needs only `diff`), store
# `ctx.reduction`, and return `reduce_loss` of `diff * diff` or `np.abs(diff)`.

# %%
pred_np = rng.standard_normal((4, 3)).astype(np.float32)
true_np = rng.standard_normal((4, 3)).astype(np.float32)
pred, true = tinytorch.tensor(pred_np), tinytorch.tensor(true_np)
check("mse_loss mean", F.mse_loss(pred, true), ((pred_np - true_np) ** 2).mean())
check("mse_loss sum", F.mse_loss(pred, true, reduction="sum"), ((pred_np - true_np) ** 2).sum())
check("l1_loss none", F.l1_loss(pred, true, reduction="none"), np.abs(pred_np - true_np))

# %% [markdown]
# ## Exercise 3: cross-entropy and NLL
#
# **Write** in `tinytorch/ops/loss.py`: `target_distribution`, `CrossEntropy.forward`,
# `NLL.forward`
#
# - `target_distribution(target, C, weight, ignore_index, label_smoothing, dtype)` builds the
#   weighted target distribution `q` (M, C) and the divisor of `'mean'` (formulas in its
#   docstring). Class indices: a row of zeros plus `(1 - e) * w_t` at the target (use the
#   weights from `row_weights`), plus `e / C * w_c` on counted rows when smoothing; divisor
#   $\sum_i w_{t_i}$. Probability targets (float dtype): `((1 - e) p + e / C) * w`, divisor M.
# - `CrossEntropy.forward`: view the input as rows with `classes_last`, take
#   `log_softmax_array(rows, axis=1)`, clamp it at the most negative finite float (so that
#   `0 * log p` stays 0 for `-inf` logits), build `q`, and return
#   $-\sum_c q \log p$ per row, reduced. Save `log_probs`, `q` and `weight`, and store
#   `ctx.input_shape`, `ctx.label_smoothing`, `ctx.reduction` and `ctx.divisor`.
# - `NLL.forward`: pick `-weights * log_probs[rows, safe_target]`; `'mean'` divides by the
#   sum of the weights. Save `safe_target` and `weights`, and store `ctx.input_shape`,
#   `ctx.reduction` and `ctx.divisor` (the sum of the weights).

# %%
x_np = rng.standard_normal((6, 4)).astype(np.float32) * 3
t_np = np.array([0, 3, 1, 1, 2, 0])
x, t = tinytorch.tensor(x_np), tinytorch.tensor(t_np)
log_p = np_log_softmax(x_np.astype(np.float64))
picked = -log_p[np.arange(6), t_np]
check("cross_entropy", F.cross_entropy(x, t), picked.mean())
class_w = np.array([1.0, 2.0, 0.5, 1.5], np.float32)
w_rows = class_w[t_np]
check(
    "cross_entropy with class weights",
    F.cross_entropy(x, t, weight=tinytorch.tensor(class_w)),
    (w_rows * picked).sum() / w_rows.sum(),
)
t_ignore = np.array([0, 3, -100, 1, -100, 0])
kept = t_ignore != -100
check(
    "cross_entropy ignore_index",
    F.cross_entropy(x, tinytorch.tensor(t_ignore)),
    (-log_p[np.arange(6)[kept], t_ignore[kept]]).mean(),
)
smooth_q = 0.9 * np.eye(4)[t_np] + 0.1 / 4
check(
    "cross_entropy label_smoothing=0.1",
    F.cross_entropy(x, t, label_smoothing=0.1),
    (-(smooth_q * log_p).sum(axis=1)).mean(),
)
soft = rng.dirichlet(np.ones(4), size=6).astype(np.float32)
check(
    "cross_entropy with probability targets",
    F.cross_entropy(x, tinytorch.tensor(soft)),
    (-(soft * log_p).sum(axis=1)).mean(),
)
check("nll_loss of log_softmax", F.nll_loss(F.log_softmax(x, dim=1), t), picked.mean())
huge = tinytorch.tensor([[1000.0, -1000.0, 0.0]])
check("cross_entropy stays finite for ±1000", F.cross_entropy(huge, tinytorch.tensor([1])), 2000.0)

# %% [markdown]
# ## Exercise 4: binary cross-entropy
#
# **Write** in `tinytorch/ops/loss.py`: `BinaryCrossEntropy.forward`,
# `BinaryCrossEntropyWithLogits.forward`
#
# - `BinaryCrossEntropy.forward`: clamp `log(x)` and `log1p(-x)` at `LOG_FLOOR` (-100), under
#   `np.errstate(divide="ignore")` since `log(0)` warns; multiply by `weight` if given.
# - `BinaryCrossEntropyWithLogits.forward`: `softplus = np.logaddexp(0, -x)`; with
#   `pos_weight`, the positive term is scaled by $l = 1 + (\text{pos\_weight} - 1) y$:
#   loss $= (1 - y) x + l \cdot \text{softplus}$, times `weight` if given.

# %%
z_np = rng.standard_normal((5, 2)).astype(np.float32) * 4
y_np = (rng.random((5, 2)) > 0.5).astype(np.float32)
p_np = 1 / (1 + np.exp(-z_np.astype(np.float64)))
bce = -(y_np * np.log(p_np) + (1 - y_np) * np.log1p(-p_np))
check(
    "binary_cross_entropy",
    F.binary_cross_entropy(tinytorch.tensor(p_np.astype(np.float32)), tinytorch.tensor(y_np)),
    bce.mean(),
)
edge = F.binary_cross_entropy(
    tinytorch.tensor([0.0, 1.0]), tinytorch.tensor([1.0, 1.0]), reduction="none"
)
check("binary_cross_entropy clamps log(0) at -100", edge, [100.0, 0.0])
z, y = tinytorch.tensor(z_np), tinytorch.tensor(y_np)
check("binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits(z, y), bce.mean())
pos_w = np.array([3.0, 0.5], np.float32)
weighted = -(pos_w * y_np * np.log(p_np) + (1 - y_np) * np.log1p(-p_np))
check(
    "binary_cross_entropy_with_logits pos_weight",
    F.binary_cross_entropy_with_logits(z, y, pos_weight=tinytorch.tensor(pos_w)),
    weighted.mean(),
)
check(
    "with logits stays finite for ±1000",
    F.binary_cross_entropy_with_logits(
        tinytorch.tensor([1000.0, -1000.0]), tinytorch.tensor([0.0, 1.0]), reduction="none"
    ),
    [1000.0, 1000.0],
)

# %% [markdown]
# ## Systems analysis
#
# Cross-entropy could be written as four separate operations: softmax, log, pick the target,
# mean. Each would make a new (M, C) array and, during training, keep it for backward. The
# fused `CrossEntropy` computes log-softmax once and never forms probabilities. Below, for a
# language-model-sized output (M rows of C classes, float32), the measured bytes of the
# intermediate arrays each way, the loss computed each way (the naive one breaks on large
# logits), and the time of TinyTorch's fused loss against the fastest plain NumPy version.
# FLOPs per element are approximate: subtract the max, exp, sum, log and the product with q.


# %%
def best_time(fn, *args, repeats: int = 5) -> float:
    """The fastest of ``repeats`` calls ``fn(*args)``, in seconds (after one warm-up call)."""
    fn(*args)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def naive_cross_entropy(scores: np.ndarray, target: np.ndarray) -> tuple[float, int]:
    """softmax -> log -> pick -> mean, as separate steps; returns the loss and the bytes made."""
    exps = np.exp(scores)
    probs = exps / exps.sum(axis=1, keepdims=True)
    logs = np.log(probs)
    loss = -logs[np.arange(len(target)), target].mean()
    return float(loss), exps.nbytes + probs.nbytes + logs.nbytes


def numpy_fused(scores: np.ndarray, target: np.ndarray) -> float:
    return float(-np_log_softmax(scores)[np.arange(len(target)), target].mean())


print(f"{'M x C':>12}{'FLOPs':>12}{'naive bytes':>13}{'numpy us':>10}{'tinytorch us':>14}")
for rows, classes in [(32, 10), (256, 1000), (64, 8192)]:
    scores = rng.standard_normal((rows, classes)).astype(np.float32)
    labels = rng.integers(0, classes, rows)
    _, naive_bytes = naive_cross_entropy(scores, labels)
    flops = 5 * rows * classes
    t_np = best_time(numpy_fused, scores, labels)
    scores_t, labels_t = tinytorch.tensor(scores), tinytorch.tensor(labels)
    t_tt = best_time(F.cross_entropy, scores_t, labels_t)
    print(
        f"{f'{rows}x{classes}':>12}{flops:>12,}{naive_bytes:>13,}"
        f"{t_np * 1e6:>10.0f}{t_tt * 1e6:>14.0f}"
    )

large = (scores * 100).astype(np.float32)  # confident logits, as after long training
with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
    naive_value, _ = naive_cross_entropy(large, labels)
fused_value = F.cross_entropy(tinytorch.tensor(large), tinytorch.tensor(labels)).item()
print(f"\nlogits x100: naive loss = {naive_value}, fused loss = {fused_value:.2f}")
assert np.isfinite(fused_value), "✗ the fused cross-entropy must stay finite"
print("✓ the fused cross-entropy stays finite where the naive one does not")

# %% [markdown]
# ## Reflection
#
# 1. The naive cross-entropy made three (M, C) arrays. Which of them would backward need, and
#    how much memory does fusing save for the largest case above?
# 2. Why does class-weighted `'mean'` divide by the sum of the weights rather than by M?
# 3. `binary_cross_entropy` clamps its logs at -100. What gradient problem does that cause for
#    a confident wrong prediction, and why does the logits version not need the clamp?
# 4. For which sizes is TinyTorch's loss slower than plain NumPy, and by how much in absolute
#    time? Where does that time go?
