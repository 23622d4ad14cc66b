# %% [markdown]
# # Module 03: Layers
#
# A layer is a function with learnable state. `nn.Linear` computes $y = x W^\top + b$;
# `nn.Module` is the container that finds, names, saves and loads that state; initialisers
# choose its starting values. In this module you write all three, plus `Sequential` and
# dropout.
#
# ## Learning objectives
#
# - Compute a fully connected layer for a batch, with its shapes and FLOPs.
# - Explain how `Module` registers parameters and submodules by attribute assignment, and how
#   `parameters()`, `state_dict()` and `load_state_dict()` walk the module tree.
# - Derive the Xavier and Kaiming initialisation scales from keeping variance constant.
# - Count a model's parameters, bytes and activation memory.
#
# **Textbook:** *Machine Learning Systems* ([mlsysbook.ai](https://mlsysbook.ai)), chapter
# "Deep Learning Primer" (neurons, layers, weights and biases).
#
# **Prerequisites:** modules 01 (tensors) and 02 (activations); Python classes and
# `__setattr__`/`__getattr__`.

# %%
# Set-up: test the tinytorch of this workspace (the folder above modules/), not an installed
# copy. Under Jupyter, your edits to the package are reloaded before every cell.
from tito.course.lesson_setup import use_workspace

use_workspace()

# %%
import math
import time
from collections import OrderedDict

import numpy as np

import tinytorch
import tinytorch.nn.functional as F
from tinytorch import nn


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
tinytorch.manual_seed(0)

# %% [markdown]
# ## The idea
#
# **Linear layer.** With a batch $X$ of shape $(N, \text{in})$, weight $W$ of shape
# $(\text{out}, \text{in})$ and bias $b$ of shape $(\text{out},)$:
# $$Y = X W^\top + b, \qquad Y_{nj} = \sum_i X_{ni} W_{ji} + b_j .$$
# That is $N \cdot \text{out} \cdot \text{in}$ multiply-adds: $2 N \cdot \text{in} \cdot
# \text{out}$ FLOPs, plus $N \cdot \text{out}$ for the bias. The weight is stored as
# (out, in), as in PyTorch, so row $j$ holds the weights of output $j$.
#
# **Initialisation.** If the inputs have variance $v$ and the weights are independent with
# mean 0 and variance $\sigma^2$, each output has variance $\text{fan\_in} \cdot \sigma^2 v$.
# Keeping it equal to $v$ needs $\sigma^2 = 1/\text{fan\_in}$. ReLU zeroes half the signal,
# so He (Kaiming) init doubles it: $\sigma^2 = 2/\text{fan\_in}$ (gain $\sqrt2$). Glorot
# (Xavier) init balances forward and backward: $\sigma^2 = 2/(\text{fan\_in} +
# \text{fan\_out})$. A uniform law on $[-B, B]$ has variance $B^2/3$, so $B = \sqrt3\,\sigma$.
#
# **Dropout** (training only) zeroes each element with probability $p$ and scales the rest by
# $1/(1-p)$, so the expected value of every element is unchanged and evaluation is the
# identity.
#
# Worked example, by hand and with NumPy:

# %%
X = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 1.0]])  # (N=2, in=3)
W = np.array([[1.0, 0.0, -1.0], [0.5, 0.5, 0.5]])  # (out=2, in=3)
b = np.array([0.1, -0.1])
by_hand = [[sum(X[n, i] * W[j, i] for i in range(3)) + b[j] for j in range(2)] for n in range(2)]
print("by hand:", np.round(by_hand, 3).tolist(), " numpy:", np.round(X @ W.T + b, 3).tolist())
fan_in = 512
samples = rng.uniform(-1, 1, (4096, fan_in)) @ (rng.standard_normal((fan_in, 64)) / fan_in**0.5)
print(f"std of outputs with sigma^2 = 1/fan_in: {samples.std():.3f} (inputs: {1 / 3**0.5:.3f})")

# %% [markdown]
# ## Exercise 1: the linear operation
#
# **Write** in `tinytorch/ops/linear.py`: `Linear.forward`
#
# `forward(ctx, x, weight, bias)` gets arrays `x` (*, in), `weight` (out, in) and `bias`
# (out,) or `None`. Return `x @ weight.T (+ bias)`. For backward, save `x` as rows
# (`x.reshape(-1, in)`, shape (N, in)) and `weight`, and store `ctx.input_shape`.
# Hint: `np.matmul` handles any leading batch dimensions; add the bias in place (`out += bias`)
# to avoid a second (N, out) array.

# %%
x_np = rng.standard_normal((5, 3)).astype(np.float32)
w_np = rng.standard_normal((4, 3)).astype(np.float32)
b_np = rng.standard_normal(4).astype(np.float32)
x, w, b = (tinytorch.tensor(a) for a in (x_np, w_np, b_np))
check("F.linear (5, 3) -> (5, 4)", F.linear(x, w, b), x_np @ w_np.T + b_np)
check("F.linear without bias", F.linear(x, w), x_np @ w_np.T)
x3 = rng.standard_normal((2, 5, 3)).astype(np.float32)
check("F.linear batched (2, 5, 3)", F.linear(tinytorch.tensor(x3), w, b), x3 @ w_np.T + b_np)

# %% [markdown]
# ## Exercise 2: `Module`, the tree of layers
#
# **Write** in `tinytorch/nn/modules/module.py`: `Module.__init__`, `Module.__setattr__`,
# `Module.__getattr__`, `Module.named_modules`, `Module._named_members`, `Module.state_dict`,
# `Module.load_state_dict`
#
# - `__init__`: create `training = True` and the registries `_parameters`, `_buffers`,
#   `_modules` (dicts) and `_non_persistent_buffers` (a set) with `object.__setattr__` (your
#   own `__setattr__` needs them to exist first).
# - `__setattr__`: a `Parameter` goes to `_parameters` (via `register_parameter`), a `Module`
#   to `_modules`, a tensor assigned to an existing buffer name to `_buffers`; anything else
#   is a plain attribute. Assigning a `Parameter` or `Module` before `super().__init__()`
#   raises `AttributeError`; `_forget(name, keep=...)` removes an older entry of that name.
# - `__getattr__` runs only when normal lookup fails: search the three registries.
# - `named_modules`: yield `(prefix, self)`, then recurse into children with dotted names,
#   skipping modules already seen (`memo`, by `id`) when `remove_duplicate`.
# - `_named_members(registry, ...)`: the entries of `'_parameters'` or `'_buffers'` of every
#   module (or just this one without `recurse`), dotted names, each object once.
# - `state_dict`: every parameter and persistent buffer, by dotted name, detached.
# - `load_state_dict`: check every shape (and, with `strict`, missing/unexpected keys) and
#   raise one `RuntimeError` listing all problems **before** changing anything; then copy
#   under `no_grad()` with the helper `_load_entry`. Return `IncompatibleKeys`.


# %%
class TwoLayer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(3, 4)
        self.out = nn.Linear(4, 2)
        self.register_buffer("calls", tinytorch.zeros(1))
        self.note = "plain attribute"

    def forward(self, x):
        return self.out(self.hidden(x).relu())


model = TwoLayer()
names = [name for name, _ in model.named_parameters()]
assert names == ["hidden.weight", "hidden.bias", "out.weight", "out.bias"], f"✗ {names}"
assert [name for name, _ in model.named_modules()] == ["", "hidden", "out"]
assert model.note == "plain attribute" and "note" not in model._parameters
print("✓ Module registers parameters, submodules, buffers and plain attributes")
keys = list(model.state_dict())
# each module's own parameters and buffers come before those of its submodules
assert keys == ["calls", *names], f"✗ state_dict keys {keys}"
print("✓ state_dict keys:", keys)
copy = TwoLayer()
copy.load_state_dict(model.state_dict())
check("load_state_dict copies the values", copy(x), model(x).detach().numpy())
bad = {**model.state_dict(), "out.bias": tinytorch.zeros(3)}
before = copy.hidden.weight.detach().numpy().copy()
try:
    copy.load_state_dict(bad)
except RuntimeError as error:
    assert "out.bias" in str(error), f"✗ the error should name the key: {error}"
    check("a rejected load_state_dict changes nothing", copy.hidden.weight, before)
else:
    raise AssertionError("✗ load_state_dict accepted a wrong shape")

# %% [markdown]
# ## Exercise 3: `nn.Linear` and `nn.Sequential`
#
# **Write** in `tinytorch/nn/modules/linear.py`: `Linear.__init__`, `Linear.reset_parameters`
#
# **Write** in `tinytorch/nn/modules/container.py`: `Sequential.forward`
#
# `Linear.__init__` stores `in_features`, `out_features`, creates `weight` as a
# `Parameter(empty(out, in))` and `bias` as a `Parameter(empty(out))` or registers `None`,
# then calls `reset_parameters`. That draws PyTorch's default: `kaiming_uniform_` with
# `a = sqrt(5)` for the weight (a bound of $1/\sqrt{\text{in}}$), and the bias uniform on
# $[-1/\sqrt{\text{in}}, 1/\sqrt{\text{in}}]$. `Sequential.forward` feeds the input through
# each submodule in order.

# %%
layer = nn.Linear(64, 32)
bound = 1 / math.sqrt(64)
assert layer.weight.shape == (32, 64) and layer.bias.shape == (32,)
assert (
    np.abs(layer.weight.detach().numpy()).max() <= bound
    and np.abs(layer.bias.detach().numpy()).max() <= bound
)
print("✓ nn.Linear(64, 32): shapes and values within ±1/sqrt(64)")
assert nn.Linear(3, 2, bias=False).bias is None
print("✓ nn.Linear(bias=False) has bias None")
seq = nn.Sequential(OrderedDict(first=nn.Linear(3, 4), act=nn.ReLU(), last=nn.Linear(4, 2)))
expected = np.maximum(
    x_np @ seq.first.weight.detach().numpy().T + seq.first.bias.detach().numpy(), 0
)
expected = expected @ seq.last.weight.detach().numpy().T + seq.last.bias.detach().numpy()
check("Sequential runs its layers in order", seq(x), expected, atol=1e-5)

# %% [markdown]
# ## Exercise 4: initialisers and dropout
#
# **Write** in `tinytorch/nn/init.py`: `uniform_`, `normal_`, `trunc_normal_`,
# `xavier_uniform_`, `xavier_normal_`, `kaiming_uniform_`, `kaiming_normal_`
#
# **Write** in `tinytorch/nn/functional.py`: `dropout`
#
# Each initialiser fills the tensor **in place** and returns it. `uniform_` and `normal_` call
# the tensor's own `uniform_`/`normal_` inside `no_grad()`; `trunc_normal_` draws from the
# normal law and redraws, all at once, the values outside $[a, b]$ until none are left. The
# Xavier and Kaiming versions compute the scale from `calculate_fan_in_and_fan_out`, `fan`
# and `calculate_gain` (already written) and call `uniform_` or `normal_`.
#
# `dropout` (only the training path is yours): draw a keep mask with `rng().random(shape) >= p`
# and multiply the input by `mask / (1 - p)`; `p == 1` gives zeros.

# %%
big = tinytorch.empty(400, 300)  # fan_in 300, fan_out 400
init = nn.init
init.uniform_(big, -2.0, 3.0)
assert -2.0 <= big.min().item() and big.max().item() < 3.0
print("✓ uniform_ stays in [-2, 3)")
for name, fill, std in [
    ("normal_(std=0.5)", lambda t: init.normal_(t, 0.0, 0.5), 0.5),
    ("xavier_uniform_", init.xavier_uniform_, math.sqrt(2 / 700)),
    ("xavier_normal_", init.xavier_normal_, math.sqrt(2 / 700)),
    (
        "kaiming_uniform_ relu",
        lambda t: init.kaiming_uniform_(t, nonlinearity="relu"),
        math.sqrt(2 / 300),
    ),
    (
        "kaiming_normal_ relu",
        lambda t: init.kaiming_normal_(t, nonlinearity="relu"),
        math.sqrt(2 / 300),
    ),
]:
    values = fill(big).detach().numpy()
    assert abs(values.std() / std - 1) < 0.03 and abs(values.mean()) < 0.03 * std * 10, (
        f"✗ {name}: std {values.std():.4f}, expected {std:.4f}"
    )
    print(f"✓ {name}: std {values.std():.4f} ≈ {std:.4f}")
values = init.trunc_normal_(big, std=1.0, a=-1.0, b=1.5).detach().numpy()
assert values.min() >= -1.0 and values.max() <= 1.5
print("✓ trunc_normal_ stays in [-1, 1.5]")
ones = tinytorch.ones(200, 500)
dropped = F.dropout(ones, p=0.3, training=True).detach().numpy()
kept = dropped != 0
assert abs(kept.mean() - 0.7) < 0.01 and np.allclose(dropped[kept], 1 / 0.7)
print(f"✓ dropout(p=0.3): kept {kept.mean():.3f} of the elements, scaled by 1/0.7")
check("dropout(p=1) is all zeros", F.dropout(ones, p=1.0), np.zeros((200, 500)))
check(
    "dropout in eval mode is the identity",
    F.dropout(ones, 0.3, training=False),
    ones.detach().numpy(),
)

# %% [markdown]
# ## Systems analysis
#
# A model's memory has two parts: its **parameters** (fixed) and its **activations** (grow
# with the batch; training keeps them for backward). Its compute is dominated by the matrix
# multiplies, $2 N \cdot \text{in} \cdot \text{out}$ FLOPs per linear layer. Below, a
# 784-256-128-10 MLP (the shape of an MNIST classifier): parameters, bytes, and per batch
# size the FLOPs, the activation bytes, and the measured time of a forward pass through
# TinyTorch and through the same computation in NumPy.

# %%
mlp = nn.Sequential(
    nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)
)
linears = [module for module in mlp if isinstance(module, nn.Linear)]
n_params = sum(p.numel() for p in mlp.parameters())
n_bytes = sum(p.numel() * p.element_size() for p in mlp.parameters())
print(f"parameters: {n_params:,}  ({n_bytes:,} bytes in float32)")
for name, p in mlp.named_parameters():
    print(f"  {name:<10}{str(p.shape):<14}{p.numel():>9,}")

weights = [(lin.weight.detach().numpy(), lin.bias.detach().numpy()) for lin in linears]


def numpy_mlp(a):
    for index, (weight, bias) in enumerate(weights):
        a = a @ weight.T + bias
        if index < len(weights) - 1:
            a = np.maximum(a, 0)
    return a


def best_time(fn, *args, repeats: int = 5) -> float:
    """The fastest of ``repeats`` calls ``fn(*args)``, in seconds (after one warm-up call)."""
    fn(*args)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)


print(f"\n{'batch':>6}{'MFLOPs':>10}{'activation bytes':>18}{'numpy us':>10}{'tinytorch us':>14}")
for n in (1, 32, 256):
    batch_np = rng.standard_normal((n, 784)).astype(np.float32)
    flops = sum(2 * n * lin.in_features * lin.out_features for lin in linears)
    # every layer's output (linear and ReLU) is a new (n, width) float32 array
    activation_bytes = 4 * n * (256 + 256 + 128 + 128 + 10)
    t_np = best_time(numpy_mlp, batch_np)
    t_tt = best_time(mlp, tinytorch.tensor(batch_np))
    print(
        f"{n:>6}{flops / 1e6:>10.2f}{activation_bytes:>18,}{t_np * 1e6:>10.0f}{t_tt * 1e6:>14.0f}"
    )
check("the MLP matches its NumPy twin", mlp(tinytorch.tensor(batch_np)), numpy_mlp(batch_np), 1e-4)

# %% [markdown]
# ## Reflection
#
# 1. From the table, estimate the batch size where activations outgrow the parameters. What does
#    that mean for training with large batches?
# 2. The FLOPs grow 256x from batch 1 to batch 256. Did the time? Explain with the fixed
#    cost per operation and how matrix multiply uses the hardware.
# 3. Why does `load_state_dict` check everything before copying anything?
# 4. With `sigma^2 = 1/fan_in` the output std matched the input std in the worked example.
#    What happens to the std after 20 layers with ReLU if you forget the factor 2 of Kaiming?
