# %% [markdown]
# # Module 02: Activations
#
# A stack of linear maps is still one linear map. Putting a non-linear function between them,
# an **activation**, is what lets a network bend its decision boundary. In this module you
# write the activations of modern networks, numerically stable.
#
# ## Learning objectives
#
# - State ReLU, leaky ReLU, sigmoid, tanh, GELU, SiLU and softmax, and where each is used.
# - Compute sigmoid, softmax and log-softmax without overflow for any input.
# - Measure what each activation keeps in memory for the backward pass and what it costs.
#
# **Textbook:** *Machine Learning Systems* ([mlsysbook.ai](https://mlsysbook.ai)), chapter
# "Deep Learning Primer" (neurons, activation functions).
#
# **Prerequisites:** module 01 (tensors, `Function.forward`, `ctx.save_for_backward`).

# %%
# Set-up: test the tinytorch of this workspace (the folder above modules/), not an installed
# copy. Under Jupyter, your edits to the package are reloaded before every cell.
from tito.course.lesson_setup import use_workspace

use_workspace()

# %%
import math
import time
import warnings

import numpy as np

import tinytorch
import tinytorch.nn.functional as F
from tinytorch.autograd.function import Context
from tinytorch.ops import activation as ops


def check(name: str, got, expected, atol: float = 1e-6) -> None:
    """Compare a tensor (or array) with the NumPy answer; print ✓ or stop with the reason."""
    got = np.asarray(got.detach().numpy() if hasattr(got, "numpy") else got)
    expected = np.asarray(expected)
    assert got.shape == expected.shape, f"✗ {name}: shape {got.shape}, expected {expected.shape}"
    assert np.allclose(got, expected, atol=atol, rtol=1e-5), (
        f"✗ {name}: got\n{got}\nexpected\n{expected}"
    )
    print(f"✓ {name}")


rng = np.random.default_rng(0)

# %% [markdown]
# ## The idea
#
# | name | formula | range |
# |---|---|---|
# | ReLU | $\max(x, 0)$ | $[0, \infty)$ |
# | leaky ReLU | $x$ if $x > 0$ else $\alpha x$ | $\mathbb{R}$ |
# | sigmoid | $\sigma(x) = 1 / (1 + e^{-x})$ | $(0, 1)$ |
# | tanh | $(e^x - e^{-x}) / (e^x + e^{-x})$ | $(-1, 1)$ |
# | GELU | $x \Phi(x)$, $\Phi$ the standard normal CDF | $\approx[-0.17, \infty)$ |
# | SiLU | $x \sigma(x)$ | $\approx[-0.28, \infty)$ |
# | softmax | $e^{x_i} / \sum_j e^{x_j}$ along one axis | $(0, 1)$, sums to 1 |
#
# **Stability.** In float32, $e^{x}$ overflows to `inf` for $x > 88.7$. Two rewrites avoid it:
#
# - sigmoid: for $x \ge 0$ use $1/(1 + e^{-x})$; for $x < 0$ use $e^{x}/(1 + e^{x})$. Both only
#   ever compute $e^{-|x|} \le 1$.
# - softmax: $\mathrm{softmax}(x) = \mathrm{softmax}(x - m)$ for any constant $m$; with
#   $m = \max_j x_j$ every exponent is $\le 0$. Log-softmax is then
#   $x_i - m - \log\sum_j e^{x_j - m}$: never the log of a probability that rounded to 0.
#
# Worked example: softmax of $[1, 2, 3]$ by hand, and what the naive formula does with
# $[1000, 1001, 1002]$ (the same probabilities, shifted by 999):

# %%
x = np.array([1.0, 2.0, 3.0], dtype=np.float32)
exps = np.exp(x - x.max())  # e^-2, e^-1, e^0
print("softmax([1, 2, 3]) =", np.round(exps / exps.sum(), 4))
with np.errstate(over="ignore", invalid="ignore"):
    big = x + 999
    print("naive softmax of [1000, 1001, 1002] =", np.exp(big) / np.exp(big).sum())
shifted = np.exp(big - big.max())
print("shifted softmax of [1000, 1001, 1002] =", np.round(shifted / shifted.sum(), 4))

# %% [markdown]
# ## Exercise 1: the stable helpers
#
# **Write** in `tinytorch/ops/activation.py`: `stable_sigmoid`, `log_softmax_array`
#
# - `stable_sigmoid(a)`: compute `small = np.exp(-np.abs(a))` once, then choose per element
#   with `np.where(a >= 0, 1 / (1 + small), small / (1 + small))`.
# - `log_softmax_array(a, axis)`: subtract the max along `axis` (`keepdims=True`), then
#   subtract the log of the sum of the exponentials of the shifted values.
#
# Both return NumPy arrays; the activations below use them.

# %%
wide = np.array([-1000.0, -20.0, 0.0, 20.0, 1000.0], dtype=np.float32)
with warnings.catch_warnings():
    warnings.simplefilter("error")  # an overflow warning would fail the check
    check("stable_sigmoid for ±1000", ops.stable_sigmoid(wide), [0.0, 2.0611537e-09, 0.5, 1.0, 1.0])
    rows = np.array([[1000.0, 1001.0, 1002.0], [-5.0, 0.0, 5.0]], dtype=np.float32)
    expected = rows - rows.max(axis=1, keepdims=True)
    expected = expected - np.log(np.exp(expected).sum(axis=1, keepdims=True))
    check("log_softmax_array along axis 1", ops.log_softmax_array(rows, 1), expected)

# %% [markdown]
# ## Exercise 2: the element-wise activations
#
# **Write** in `tinytorch/ops/activation.py`: `ReLU.forward`, `LeakyReLU.forward`,
# `Sigmoid.forward`, `Tanh.forward`, `GELU.forward`, `SiLU.forward`
#
# Each receives a NumPy array. Save for backward what the derivative in the class docstring
# needs, and nothing more:
#
# - `ReLU`: `np.maximum(a, 0)`; save the output.
# - `LeakyReLU`: save the boolean mask `a > 0` and `ctx.negative_slope`.
# - `Sigmoid`, `Tanh`: save the output ($\sigma' = \sigma(1 - \sigma)$, $\tanh' = 1 - \tanh^2$).
# - `GELU`: $\Phi(x) = \frac12(1 + \mathrm{erf}(x/\sqrt2))$ with the module's `erf` helper;
#   with `approximate == "tanh"`, $\Phi(x) \approx \frac12(1 + \tanh u)$,
#   $u = \sqrt{2/\pi}\,(x + 0.044715 x^3)$. Save `a` and the CDF (and `tanh(u)` for the tanh
#   form), and set `ctx.approximate`.
# - `SiLU`: $x \sigma(x)$ with `stable_sigmoid`; save `a` and $\sigma(a)$.

# %%
z_np = rng.standard_normal((4, 5)).astype(np.float32) * 3
z = tinytorch.tensor(z_np)
phi = np.vectorize(lambda v: 0.5 * (1 + math.erf(v / math.sqrt(2))))(z_np.astype(np.float64))
u = math.sqrt(2 / math.pi) * (z_np + 0.044715 * z_np**3)
check("ReLU", F.relu(z), np.maximum(z_np, 0))
check("LeakyReLU slope 0.1", F.leaky_relu(z, 0.1), np.where(z_np > 0, z_np, 0.1 * z_np))
check("Sigmoid", F.sigmoid(z), 1 / (1 + np.exp(-z_np.astype(np.float64))))
check("Tanh", F.tanh(z), np.tanh(z_np))
check("GELU (erf)", F.gelu(z), z_np * phi, atol=1e-5)
check("GELU (tanh)", F.gelu(z, approximate="tanh"), z_np * 0.5 * (1 + np.tanh(u)), atol=1e-5)
check("SiLU", F.silu(z), z_np / (1 + np.exp(-z_np.astype(np.float64))), atol=1e-5)

# %% [markdown]
# ## Exercise 3: softmax and log-softmax
#
# **Write** in `tinytorch/ops/activation.py`: `Softmax.forward`, `LogSoftmax.forward`
#
# `axis` is already a valid NumPy axis (or `None` for a 0-d input). `Softmax`: exponentiate
# `a` minus its max along `axis` (keep dims), divide by the sum along `axis`, save the output
# and `ctx.axis`. `LogSoftmax`: call `log_softmax_array`, save the output and `ctx.axis`.

# %%
logits_np = rng.standard_normal((3, 4)).astype(np.float32) * 50
logits = tinytorch.tensor(logits_np)
e = np.exp(logits_np.astype(np.float64) - logits_np.max(axis=1, keepdims=True))
check("softmax dim=1", F.softmax(logits, dim=1), e / e.sum(axis=1, keepdims=True))
check("softmax rows sum to 1", F.softmax(logits, dim=1).sum(dim=1), np.ones(3, np.float32))
e0 = np.exp(logits_np.astype(np.float64) - logits_np.max(axis=0, keepdims=True))
check("softmax dim=0", F.softmax(logits, dim=0), e0 / e0.sum(axis=0, keepdims=True))
log_p = np.log(e / e.sum(axis=1, keepdims=True))
check("log_softmax dim=1 (finite for tiny p)", F.log_softmax(logits, dim=1), log_p, atol=1e-4)

# %% [markdown]
# ## Systems analysis
#
# An activation costs little arithmetic but it is applied to every element of every hidden
# layer, and during training whatever it saves for backward stays in memory until backward
# runs. The cell below calls each `forward` directly on a (256, 1024) float32 batch and
# reports, measured: bytes saved for backward, time through TinyTorch, time of the same
# formula in plain NumPy, and the approximate FLOPs per element read off the formula
# (a transcendental function such as `exp` or `tanh` counted as one operation; real hardware
# spends many cycles on it).


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


def numpy_sigmoid(a):
    return 1 / (1 + np.exp(-a))


def numpy_gelu_tanh(a):
    return 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a * a * a)))


def numpy_softmax(a):
    shifted = np.exp(a - a.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


batch = rng.standard_normal((256, 1024)).astype(np.float32)
tensor_batch = tinytorch.tensor(batch)
cases = [
    # name, Function and its extra args, functional form, NumPy formula, FLOPs per element
    ("relu", ops.ReLU, (), F.relu, lambda a: np.maximum(a, 0), 1),
    ("sigmoid", ops.Sigmoid, (), F.sigmoid, numpy_sigmoid, 4),
    ("tanh", ops.Tanh, (), F.tanh, np.tanh, 1),
    ("gelu-tanh", ops.GELU, ("tanh",), lambda t: F.gelu(t, approximate="tanh"), numpy_gelu_tanh, 9),
    ("silu", ops.SiLU, (), F.silu, lambda a: a * numpy_sigmoid(a), 5),
    ("softmax", ops.Softmax, (1,), lambda t: F.softmax(t, dim=1), numpy_softmax, 5),
]
print(f"batch {batch.shape} float32 = {batch.nbytes:,} bytes")
print(
    f"{'activation':<11}{'saved bytes':>13}{'x input':>9}{'FLOPs':>12}{'numpy us':>10}{'tt us':>9}"
)
for name, function, extra, functional, numpy_fn, flops_per_element in cases:
    ctx = Context()
    function.forward(ctx, batch, *extra)
    saved = sum(array.nbytes for array in ctx.saved_tensors)
    t_tt = best_time(functional, tensor_batch)
    t_np = best_time(numpy_fn, batch)
    flops = flops_per_element * batch.size
    print(
        f"{name:<11}{saved:>13,}{saved / batch.nbytes:>9.2f}{flops:>12,}"
        f"{t_np * 1e6:>10.0f}{t_tt * 1e6:>9.0f}"
    )

# %% [markdown]
# Read the table: the "x input" column is the memory kept for backward in units of the
# input's size. The NumPy column runs the plain (naive) formula; where TinyTorch is slower,
# the difference is the stable formulation (`abs`, `where`, a second branch) and the choice of
# NumPy calls, not Python overhead: at this size one call's fixed cost is microseconds.
#
# ## Reflection
#
# 1. ReLU saves its output, leaky ReLU a boolean mask. How many bytes per element does each
#    cost, and could ReLU save a mask instead?
# 2. Why is `log_softmax` computed directly rather than as `log(softmax(x))`? Give an input
#    where the second gives `-inf`.
# 3. Which activation is slowest relative to its NumPy formula? Find the line of its forward
#    that costs the most (time the pieces) and try an equivalent that is faster.
# 4. A network has 10 hidden layers of (256, 1024) activations. Using the table, how much memory
#    do GELU activations keep for backward compared with ReLU?
