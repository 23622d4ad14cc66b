# %% [markdown]
# # Module 05: Autograd
#
# Until now every operation ran forward only. In this module you make TinyTorch learn: each
# operation remembers what it needs, `loss.backward()` walks the recorded graph from the loss
# back to the parameters, and every parameter receives `d loss / d parameter` in `.grad`.
# You write the recorder (`Function.apply`), the engine that walks the graph, and the
# backward pass of every operation of modules 01-04.
#
# ## Learning objectives
#
# - Apply the chain rule on a computation graph, by hand and in code (reverse mode).
# - Explain why the engine needs a topological order, and build one without recursion.
# - Undo broadcasting in the backward pass by summing over the stretched axes.
# - Write the backward pass (a vector-Jacobian product) of arithmetic, pointwise, reduction,
#   shape, activation, linear and loss operations, and check each against finite differences.
# - Measure what the graph costs: memory kept alive for backward, and backward time.
#
# **Textbook:** *Machine Learning Systems* ([mlsysbook.ai](https://mlsysbook.ai)), chapter
# "AI Frameworks" (automatic differentiation, computational graphs, eager execution).
#
# **Prerequisites:** modules 01-04 (tensors, activations, layers, losses: every forward you
# will now differentiate), and the derivative rules of calculus (product rule, chain rule).

# %%
# Set-up: test the tinytorch of this workspace (the folder above modules/), not an installed
# copy. Under Jupyter, your edits to the package are reloaded before every cell.
from tito.course.lesson_setup import use_workspace

use_workspace()

# %%
import time
import tracemalloc

import numpy as np

import tinytorch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.autograd import gradcheck
from tinytorch.autograd.engine import unbroadcast

f64 = tinytorch.float64
rng = np.random.default_rng(0)


def leaf(*shape: int, low: float = -1.0, high: float = 1.0) -> tinytorch.Tensor:
    """A float64 leaf tensor with values in [low, high) that requires grad."""
    values = rng.uniform(low, high, size=shape)
    return tinytorch.tensor(values, dtype=f64, requires_grad=True)


def check(name: str, condition: bool, detail: str = "") -> None:
    """Print ✓ name, or stop with ✗ and the reason."""
    assert condition, f"✗ {name}: {detail}"
    print(f"✓ {name}")


def check_grad(name: str, fn, *inputs) -> None:
    """Backward of ``fn`` at ``inputs`` must match central finite differences (float64)."""
    try:
        gradcheck(fn, inputs)
    except Exception as error:  # GradcheckError, or NotImplementedError from a stub
        raise AssertionError(f"✗ {name}: {error}") from error
    print(f"✓ {name}")


# %% [markdown]
# ## The idea
#
# **Chain rule on a graph.** Take $x = 2$, $y = 3$ and
# $z = x y$, $w = z + x$, $L = w^2$. Forward: $z = 6$, $w = 8$, $L = 64$.
# Backward starts with $\partial L/\partial L = 1$ and moves against the arrows; each node
# multiplies the gradient it receives by its local derivative and sends it to its inputs:
#
# - $\bar w = \partial L / \partial w = 2w = 16$
# - $w = z + x$: $\bar z = \bar w \cdot 1 = 16$, and $x$ receives $16$ along this edge
# - $z = x y$: $x$ receives $\bar z \cdot y = 48$, $y$ receives $\bar z \cdot x = 32$
# - $x$ is used twice, so its gradient is the **sum** over its uses: $\bar x = 16 + 48 = 64$.
#
# Each local step is a *vector-Jacobian product*: given $\bar{out}$ (same shape as the output),
# return $\bar{in}$ (same shape as each input) without ever building the Jacobian matrix.
#
# **Topological order.** A node may run its backward only once *all* of its consumers have sent
# their gradient (here $x$ must wait for both $w$ and $z$). The engine counts, for every node,
# how many consumers it has; a node becomes ready when that count drops to zero (Kahn's
# algorithm). Using an explicit stack instead of recursion lets a chain of 10,000 operations
# work without hitting Python's recursion limit.
#
# **Un-broadcasting.** If $a$ of shape (3, 1) is added to $b$ of shape (2, 3, 4), $a$ was
# copied along the new leading axis and along its size-1 axis; each element of $a$ influenced
# $2 \cdot 4 = 8$ outputs, so its gradient is the sum of those 8: `grad.sum(axis=(0, 2))`
# reshaped to (3, 1). Backward passes may return gradients in the output's broadcast shape;
# the engine calls `unbroadcast` in one place for every input.

# %%
x_val, y_val = 2.0, 3.0
z_val = x_val * y_val
w_val = z_val + x_val
by_hand = {"x": 2 * w_val * (1 + y_val), "y": 2 * w_val * x_val}
x = tinytorch.tensor(x_val, dtype=f64, requires_grad=True)
y = tinytorch.tensor(y_val, dtype=f64, requires_grad=True)
loss = (x * y + x) ** 2
print("graph of L:", loss.grad_fn, "->", loss.grad_fn.next_steps)
loss.backward()
check("backward matches the chain rule by hand", (x.grad.item(), y.grad.item()) == (64, 32))
print(f"L = {loss.item():.0f}; by hand dL/dx = {by_hand['x']:.0f}, dL/dy = {by_hand['y']:.0f}")
print(f"tinytorch:          dL/dx = {x.grad.item():.0f}, dL/dy = {y.grad.item():.0f}")

g = rng.standard_normal((2, 3, 4))
print("unbroadcast (2, 3, 4) -> (3, 1):", unbroadcast(g, (3, 1)).shape)

# %% [markdown]
# ## Exercise 1: record the graph
#
# **Write** in `tinytorch/autograd/function.py`: `Function.apply`
#
# After forward has run, record the call when all of these hold: gradients are enabled
# (`grad_mode.is_grad_enabled()`), at least one Tensor argument requires grad, and the output
# is a float array (`apply` has already set `ctx.needs_input_grad`, one bool per argument, all
# False under `no_grad`, before forward ran). Then fill the context: `ctx.function = cls`,
# `ctx.next_steps` (per argument: the input's `grad_fn` if it has one, the
# input tensor itself if it is a leaf that needs grad, else `None`), `ctx.shape` and
# `ctx.dtype` of the output; give the arguments and the output to `ctx.remember_versions`
# (so that backward can tell whether a saved array was changed in place since); mark the output
# `_requires_grad = True` and set its `grad_fn`.
# Hint: under `no_grad` nothing is recorded, so evaluation keeps no saved arrays alive.

# %%
a = leaf(3)
b = a * 2
c = b + a
check("an op on a requires_grad tensor records a grad_fn", b.grad_fn is not None)
check("next_steps point to the producer or the leaf", c.grad_fn.next_steps == (b.grad_fn, a))
with tinytorch.no_grad():
    d = a * 2
check("nothing is recorded under no_grad", d.grad_fn is None and not d.requires_grad)
check("integer results are not recorded", (a > 0).grad_fn is None)
plain = tinytorch.ones(3) * 2
check("no input needs grad -> no graph", plain.grad_fn is None)

# %% [markdown]
# ## Exercise 2: the backward engine
#
# **Write** in `tinytorch/autograd/engine.py`: `unbroadcast`, `run_backward`
#
# - `unbroadcast(grad, shape)`: sum over the leading axes that `shape` lacks and over every
#   axis where `shape` has size 1 but `grad` does not (`keepdims=True`), then reshape.
# - `run_backward(root, gradient, retain_graph)`: if the root has no `grad_fn`, add the
#   gradient to the root itself. Otherwise count consumers with `_count_consumers`, keep a
#   dict of pending gradients, and loop over a ready list: pop a node, call
#   `call_backward(node, grad)` (it runs `node.function.backward(node, grad)` where the
#   profiler of module 14 can see it; wrap a single result in a tuple), and for each
#   `(step, grad)` pair skip `None`s, `unbroadcast` to `step.shape`, then either add into the
#   pending gradient of a `Context` (it is ready when its consumer count reaches zero) or
#   accumulate into a leaf with `_accumulate_into_leaf`. Feed `node.retained` (from
#   `retain_grad()`) and call `node.release()` afterwards unless `retain_graph`.

# %%
check(
    "unbroadcast (2, 3, 4) -> (3, 1)", np.allclose(unbroadcast(g, (3, 1)), g.sum((0, 2))[:, None])
)
check("unbroadcast (2, 3, 4) -> (4,)", np.allclose(unbroadcast(g, (4,)), g.sum((0, 1))))

a = leaf(1)
b = a + a
(b + b).sum().backward()
check("reuse: c = (a + a) + (a + a) gives dc/da = 4", np.allclose(a.grad.numpy(), 4.0))

a = leaf(3)
a_bias = leaf(1)
(a * a_bias).sum().backward()
check("a (1,) input broadcast against (3,) gets a (1,) gradient", a_bias.grad.shape == (1,))

deep = leaf(1)
out = deep
for _ in range(10_000):
    out = out + 1.0
out.sum().backward()
check("a chain of 10,000 additions backpropagates (no recursion)", deep.grad.item() == 1.0)

a = leaf(2)
(a * 3).sum().backward()
(a * 3).sum().backward()
check("gradients accumulate across backward calls", np.allclose(a.grad.numpy(), 6.0))

twice = (a * a).sum()
twice.backward()
try:
    twice.backward()
    raised = False
except RuntimeError:
    raised = True
check("a second backward through a released graph raises", raised)

# %% [markdown]
# ## Exercise 3: arithmetic
#
# **Write** in `tinytorch/ops/arithmetic.py`: `Add.backward`, `Sub.backward`,
# `Mul.backward`, `Div.backward`, `Neg.backward`, `Pow.backward`, `MatMul.backward`
#
# Each returns one gradient per forward argument (`None` where `ctx.needs_input_grad` is
# False). Local derivatives: $a + b \to (1, 1)$; $a - b \to (1, -1)$; $ab \to (b, a)$;
# $a / b \to (1/b, -a/b^2)$; $a^b \to (b a^{b-1}, a^b \ln a)$. For $C = AB$:
# $\bar A = \bar C B^T$ and $\bar B = A^T \bar C$ (swap the last two axes; treat 1-D operands as
# a row or a column and drop that axis again). Return the incoming array itself or new
# arrays, never the same new array for both inputs. Broadcasting is the engine's job.

# %%
check_grad("Add with broadcasting", lambda p, q: p + q, leaf(2, 3), leaf(3))
check_grad("Sub with broadcasting", lambda p, q: p - q, leaf(2, 3), leaf(2, 1))
check_grad("Mul", lambda p, q: p * q, leaf(2, 3), leaf(2, 3))
check_grad("Div", lambda p, q: p / q, leaf(2, 3), leaf(2, 3, low=0.5, high=2.0))
check_grad("Neg", lambda p: -p, leaf(4))
check_grad("Pow (both sides)", lambda p, q: p**q, leaf(3, low=0.5, high=2.0), leaf(3))
check_grad("MatMul batched", lambda p, q: p @ q, leaf(2, 3, 4), leaf(4, 2))
check_grad("MatMul matrix @ vector", lambda p, q: p @ q, leaf(3, 4), leaf(4))

# %% [markdown]
# ## Exercise 4: pointwise operations
#
# **Write** in `tinytorch/ops/pointwise.py`: `Exp.backward`, `Log.backward`,
# `Sqrt.backward`, `Sin.backward`, `Cos.backward`, `Abs.backward`, `Clamp.backward`,
# `Maximum.backward`, `Minimum.backward`, `Where.backward`, `Cast.backward`
#
# Multiply the incoming gradient by the local derivative (the docstring of each class states
# it): $e^a$ is the output itself, $1/a$, $1/(2\sqrt a)$, $\cos a$, $-\sin a$, `sign(a)`.
# `Clamp` passes the gradient only where the input was inside the bounds. `Maximum` and
# `Minimum` send it to the winning side and split ties evenly. `Where` sends it to the chosen
# side and zeros elsewhere (the condition gets `None`). `Cast` converts the gradient back to
# the input's dtype.

# %%
check_grad("Exp", lambda p: p.exp(), leaf(3, 2))
check_grad("Log", lambda p: p.log(), leaf(3, 2, low=0.5, high=2.0))
check_grad("Sqrt", lambda p: p.sqrt(), leaf(3, 2, low=0.5, high=2.0))
check_grad("Sin and Cos", lambda p: p.sin() * p.cos(), leaf(5))
check_grad("Abs", lambda p: p.abs(), leaf(5))
check_grad("Clamp", lambda p: p.clamp(-0.5, 0.5), leaf(6))
check_grad(
    "Maximum, Minimum", lambda p, q: tinytorch.maximum(p, q) - p.minimum(q), leaf(4), leaf(4)
)
mask = tinytorch.tensor([True, False, True, False])
check_grad("Where", lambda p, q: tinytorch.where(mask, p, q), leaf(4), leaf(4))
a = leaf(3)
a.float().sum().backward()
check("Cast: float32 gradient converted back to float64", a.grad.dtype == f64)

# %% [markdown]
# ## Exercise 5: reductions
#
# **Write** in `tinytorch/ops/reduction.py`: `Sum.backward`, `Mean.backward`,
# `Var.backward`, `Extremum.backward`, `LogSumExp.backward`
#
# A reduction's gradient has the reduced shape: put back the removed axes (`expand_reduced`)
# and let it broadcast over the input. `Sum` copies it to every element; `Mean` divides by
# the count (`reduced_count`); `Var` multiplies by $2(a - \bar a)/(N - \text{correction})$;
# `Extremum` (max/min of all elements) sends it to the extreme elements, shared evenly among
# ties; `LogSumExp` multiplies by the softmax $e^{a - \text{out}}$.

# %%
check_grad("Sum over dim 1", lambda p: p.sum(dim=1), leaf(3, 4))
check_grad("Mean keepdim", lambda p: p.mean(dim=0, keepdim=True), leaf(3, 4))
check_grad("Var (unbiased)", lambda p: p.var(dim=1), leaf(3, 4))
check_grad("Extremum (max of all)", lambda p: p.max(), leaf(3, 4))
check_grad("LogSumExp", lambda p: p.logsumexp(dim=1), leaf(3, 4))
tie = tinytorch.tensor([1.0, 3.0, 3.0], requires_grad=True)
tie.max().backward()
check("tied maxima share the gradient", np.allclose(tie.grad.numpy(), [0.0, 0.5, 0.5]))

# %% [markdown]
# ## Exercise 6: shape operations
#
# **Write** in `tinytorch/ops/shape.py`: `Reshape.backward`, `Clone.backward`,
# `Permute.backward`, `Expand.backward`, `Repeat.backward`, `Cat.backward`,
# `GetItem.backward`, `Gather.backward`
#
# No arithmetic happens here, so gradients only move: reshape back to the input shape; pass
# through (`Clone`, and `Expand`, whose sum the engine does); permute with the inverse order
# (`np.argsort(dims)`); for `Repeat`, view the gradient as (r0, s0, r1, s1, ...) and sum the
# repeat axes; split along the axis for `Cat` (the first argument, `dim`, gets `None`);
# scatter into zeros for `GetItem` and `Gather`, with `np.add.at` so that repeated indices
# accumulate. Non-tensor arguments (shapes, axes, indices) get `None`.

# %%
check_grad("Reshape", lambda p: p.reshape(4, 3), leaf(2, 6))
check_grad("Clone", lambda p: p.clone(), leaf(3))
check_grad("Permute", lambda p: p.permute(2, 0, 1), leaf(2, 3, 4))
check_grad("Expand", lambda p: p.expand(4, 3), leaf(1, 3))
check_grad("Repeat", lambda p: p.repeat(2, 3), leaf(2, 2))
check_grad("Cat", lambda p, q: tinytorch.cat([p, q], dim=1), leaf(2, 3), leaf(2, 1))
check_grad("GetItem with repeated indices", lambda p: p[[0, 0, 2]], leaf(3, 2))
index = tinytorch.tensor([[0, 0], [2, 1]])
check_grad("Gather", lambda p: p.gather(1, index), leaf(2, 3))

# %% [markdown]
# ## Exercise 7: activations
#
# **Write** in `tinytorch/ops/activation.py`: `ReLU.backward`, `LeakyReLU.backward`,
# `Sigmoid.backward`, `Tanh.backward`, `GELU.backward`, `SiLU.backward`,
# `Softmax.backward`, `LogSoftmax.backward`
#
# Elementwise ones multiply by the derivative, preferably from what forward saved: ReLU
# `a > 0`; LeakyReLU 1 or the slope; sigmoid $s(1 - s)$; tanh $1 - t^2$; SiLU
# $s + a s (1 - s)$; GELU $\Phi(a) + a\,\varphi(a)$ (and the tanh form for
# `approximate='tanh'`). Softmax couples a whole row: $\bar a = s \odot (\bar s -
# \sum_j \bar s_j s_j)$; log-softmax: $\bar a = \bar o - e^{o} \sum_j \bar o_j$.

# %%
check_grad("ReLU", F.relu, leaf(6))
check_grad("LeakyReLU", lambda p: F.leaky_relu(p, 0.1), leaf(6))
check_grad("Sigmoid", F.sigmoid, leaf(6, low=-4, high=4))
check_grad("Tanh", F.tanh, leaf(6, low=-3, high=3))
check_grad("GELU", F.gelu, leaf(6, low=-3, high=3))
check_grad("GELU tanh", lambda p: F.gelu(p, approximate="tanh"), leaf(6, low=-3, high=3))
check_grad("SiLU", F.silu, leaf(6, low=-3, high=3))
check_grad("Softmax", lambda p: F.softmax(p, dim=1), leaf(2, 4))
check_grad("LogSoftmax", lambda p: F.log_softmax(p, dim=1), leaf(2, 4))

# %% [markdown]
# ## Exercise 8: the fused linear layer
#
# **Write** in `tinytorch/ops/linear.py`: `Linear.backward`
#
# For $out = x W^T + b$, flatten the leading axes of the gradient $G$ into rows (N, out):
# $\bar x = G W$, $\bar W = G^T x$, $\bar b = \sum_{rows} G$. Compute only what
# `ctx.needs_input_grad` asks for.

# %%
check_grad("Linear (x, W, b)", F.linear, leaf(2, 3, 4), leaf(5, 4), leaf(5))
check_grad("Linear without bias", lambda p, w: F.linear(p, w), leaf(3, 4), leaf(2, 4))

# %% [markdown]
# ## Exercise 9: losses
#
# **Write** in `tinytorch/ops/loss.py`: `unreduce_grad`, `MSE.backward`, `L1.backward`,
# `CrossEntropy.backward`, `NLL.backward`, `BinaryCrossEntropy.backward`,
# `BinaryCrossEntropyWithLogits.backward`
#
# `unreduce_grad(grad, reduction, count)` is the gradient that reaches each element: `grad`
# after `'sum'` or `'none'`, `grad / count` after `'mean'`. Then, per element (times the
# `weight` where given; the target gets a gradient too where it requires one):
#
# - MSE: $2(x - y)$; L1: $\mathrm{sign}(x - y)$; the target gets the negatives.
# - Cross-entropy, per row, from the saved log-probabilities:
#   $\mathrm{softmax}(x) \sum_c q_c - q$, shaped back with `classes_back`.
# - NLL: zeros, with $-w_t$ scattered to each row's target entry.
# - BCE: $(x - y) / \max(x (1 - x), 10^{-12})$.
# - BCE with logits: $(1 - y) - l\,\sigma(-x)$ with $l = 1 + (\text{pos\_weight} - 1) y$;
#   without `pos_weight` this is $\sigma(x) - y$.
#
# The docstring of each class gives both derivatives; read it before writing.

# %%
target = tinytorch.tensor(rng.standard_normal((3, 4)), dtype=f64)
check_grad("MSE mean", lambda p: F.mse_loss(p, target), leaf(3, 4))
check_grad("L1 sum", lambda p: F.l1_loss(p, target, reduction="sum"), leaf(3, 4))
labels = tinytorch.tensor([0, 3, 1])
check_grad("CrossEntropy", lambda p: F.cross_entropy(p, labels, label_smoothing=0.1), leaf(3, 4))
check_grad("NLL", lambda p: F.nll_loss(F.log_softmax(p, dim=1), labels), leaf(3, 4))
y01 = tinytorch.tensor((rng.random((3, 2)) > 0.5).astype(np.float64))
check_grad("BCE", lambda p: F.binary_cross_entropy(p, y01), leaf(3, 2, low=0.1, high=0.9))
check_grad("BCE with logits", lambda p: F.binary_cross_entropy_with_logits(p, y01), leaf(3, 2))

# %% [markdown]
# ## Systems analysis
#
# Reverse mode trades memory for time: forward must keep every array that a backward pass will
# read (inputs of `Mul` and `MatMul`, outputs of `Sigmoid` and `Softmax`, ...) until backward
# frees them. Below, for a small MLP and growing batch sizes, we measure live:
#
# - the bytes of the arrays held by the graph's contexts (walking `grad_fn.next_steps`),
#   leaving out the parameters and the input batch, which exist anyway;
# - the bytes still allocated after forward (`tracemalloc`), with gradients on and under
#   `no_grad`;
# - forward time against backward time.


# %%
def memory_owner(array: np.ndarray) -> np.ndarray:
    """The array that owns the memory behind ``array`` (a view's base, followed to the end)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def graph_bytes(root: tinytorch.Tensor, skip: set[int]) -> tuple[int, int]:
    """(number of nodes, bytes of the distinct buffers their contexts hold, except ``skip``)."""
    seen_nodes, seen_buffers, total, stack = set(), set(skip), 0, [root.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or not hasattr(node, "function") or id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        for value in vars(node).values():
            for item in value if isinstance(value, tuple) else (value,):
                if isinstance(item, np.ndarray):
                    owner = memory_owner(item)
                    if id(owner) not in seen_buffers:
                        seen_buffers.add(id(owner))
                        total += owner.nbytes
        stack.extend(s for s in node.next_steps if isinstance(s, tinytorch.autograd.Context))
    return len(seen_nodes), total


def best_time(fn, repeats: int = 5) -> float:
    fn()
    return min(_timed(fn) for _ in range(repeats))


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


tinytorch.manual_seed(0)
model = nn.Sequential(
    nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 512), nn.Tanh(), nn.Linear(512, 10)
)
param_bytes = sum(p.detach().numpy().nbytes for p in model.parameters())
print(f"parameters: {param_bytes / 1e6:.2f} MB")
print(
    f"{'batch':>6}{'nodes':>7}{'saved MB':>10}{'alive MB grad':>15}{'no_grad':>9}"
    f"{'fwd ms':>8}{'bwd ms':>8}{'bwd/fwd':>9}"
)
for batch in (32, 128, 512):
    inputs = tinytorch.randn(batch, 256)
    labels = tinytorch.randint(0, 10, (batch,))
    tracemalloc.start()
    kept = F.cross_entropy(model(inputs), labels)
    alive_grad = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    existing = {id(memory_owner(t.detach().numpy())) for t in [*model.parameters(), inputs]}
    nodes, saved = graph_bytes(kept, existing)
    del kept
    tracemalloc.start()
    with tinytorch.no_grad():
        free = F.cross_entropy(model(inputs), labels)
    alive_free = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del free

    def forward(inputs=inputs, labels=labels):
        return F.cross_entropy(model(inputs), labels)

    def backward_only(inputs=inputs, labels=labels) -> float:
        loss = forward()
        start = time.perf_counter()
        loss.backward()
        return time.perf_counter() - start

    t_fwd = best_time(forward)
    t_bwd = min(backward_only() for _ in range(5))
    print(
        f"{batch:>6}{nodes:>7}{saved / 1e6:>10.2f}{alive_grad / 1e6:>15.2f}"
        f"{alive_free / 1e6:>9.2f}{t_fwd * 1e3:>8.2f}{t_bwd * 1e3:>8.2f}{t_bwd / t_fwd:>9.1f}"
    )
model.zero_grad()
check("no_grad keeps less memory alive than a recorded forward", alive_free < alive_grad)

# %% [markdown]
# Read the table: the saved bytes grow with the batch (they are activations), not with the
# parameters, and they match what stays allocated after a recorded forward; under `no_grad`
# only the output survives. Each `Linear` needs two matrix products backward (for $x$ and for
# $W$) against one forward, so expect backward to take around twice as long as forward. Does
# your table agree? (Timings on a busy machine vary from run to run; memory does not.)
#
# ## Reflection
#
# 1. In the hand example $x$ was used twice. What would go wrong if the engine ran $x$'s
#    node as soon as the first gradient reached it?
# 2. `Sigmoid` saves its output, `Mul` its inputs. For each op above, what is the least it
#    must save, and could any op save nothing at all?
# 3. From the table, how does the memory held by the graph scale with batch size and depth?
#    What could a framework do to trade that memory for recomputation?
# 4. Why does `gradcheck` use float64 and a random upstream gradient rather than all ones?
