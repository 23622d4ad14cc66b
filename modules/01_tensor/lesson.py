# %% [markdown]
# # Module 01: Tensor
#
# A tensor is an n-dimensional array of numbers with a shape and a dtype. Every model,
# gradient and optimizer state in TinyTorch is one. In this module you write the forward
# computations of the tensor operations that everything else is built from.
#
# ## Learning objectives
#
# - Explain a tensor as a block of memory plus a shape, a dtype and strides.
# - Apply NumPy's broadcasting rules to predict the shape of `a + b`.
# - Write the forward pass of arithmetic, element-wise, reduction and shape operations.
# - Tell a view (shares memory) from a copy, and count the bytes and FLOPs of an operation.
#
# **Textbook:** *Machine Learning Systems* ([mlsysbook.ai](https://mlsysbook.ai)), chapter
# "AI Frameworks" (tensors as the core data structure of a framework).
#
# **Prerequisites:** Python, a little NumPy (arrays, `shape`, `dtype`), the derivative of a
# function of one variable (used from module 05 on). No earlier module.

# %%
# Set-up: test the tinytorch of this workspace (the folder above modules/), not an installed
# copy. Under Jupyter, your edits to the package are reloaded before every cell.
from tito.course.lesson_setup import use_workspace

use_workspace()

# %%
import operator
import time

import numpy as np

import tinytorch
from tinytorch.autograd.function import Context


def check(name: str, got, expected, atol: float = 1e-6) -> None:
    """Compare a tensor (or array) with the NumPy answer; print ✓ or stop with the reason."""
    got = np.asarray(got.numpy() if hasattr(got, "numpy") else got)
    expected = np.asarray(expected)
    assert got.shape == expected.shape, f"✗ {name}: shape {got.shape}, expected {expected.shape}"
    assert np.allclose(got, expected, atol=atol, rtol=1e-5, equal_nan=True), (
        f"✗ {name}: got\n{got}\nexpected\n{expected}"
    )
    print(f"✓ {name}")


rng = np.random.default_rng(0)

# %% [markdown]
# ## The idea
#
# A tensor of shape $(d_0, d_1, \dots, d_{n-1})$ holds $\prod_i d_i$ numbers in one flat block
# of memory. Element $x[i_0, \dots, i_{n-1}]$ sits at byte offset
# $\sum_k i_k \cdot s_k$, where $s_k$ is the **stride** of axis $k$ in bytes. For a
# row-major (C-order) float32 matrix of shape $(2, 3)$ the strides are $(12, 4)$: the next row
# is 3 elements (12 bytes) further, the next column 4 bytes.
#
# Changing the strides without touching the data gives a **view**: a transpose swaps the
# strides, a broadcast sets a stride to 0 so one element is read many times.
#
# **Broadcasting.** To combine shapes, align them on the right; two sizes are compatible when
# they are equal or one of them is 1, and the result takes the larger. A missing axis counts
# as 1. So $(3, 1) + (4,) \to (3, 4)$ and $z_{ij} = a_{i0} + b_j$.
#
# **Matrix multiply.** For $A$ of shape $(m, k)$ and $B$ of shape $(k, n)$,
# $C_{ij} = \sum_{p} A_{ip} B_{pj}$, which costs $m \cdot n \cdot k$ multiplications and as many
# additions: $2mnk$ floating-point operations (FLOPs).
#
# A worked example, by hand and then with NumPy:

# %%
a = np.array([[1.0], [2.0], [3.0]], dtype=np.float32)  # (3, 1)
b = np.array([10.0, 20.0, 30.0, 40.0], dtype=np.float32)  # (4,)
by_hand = np.array([[a[i, 0] + b[j] for j in range(4)] for i in range(3)])
print(
    "broadcast (3, 1) + (4,) ->",
    (a + b).shape,
    " equal to the loop:",
    np.array_equal(a + b, by_hand),
)

m = np.arange(6, dtype=np.float32).reshape(2, 3)
print("strides of a (2, 3) float32 array:", m.strides, " of its transpose:", m.T.strides)
A = np.array([[1.0, 2.0], [3.0, 4.0]])
B = np.array([[5.0, 6.0], [7.0, 8.0]])
C = [[float(sum(A[i, p] * B[p, j] for p in range(2))) for j in range(2)] for i in range(2)]
print("A @ B by hand:", C, " numpy:", (A @ B).tolist())

# %% [markdown]
# ## How an operation is built
#
# Each operation is a subclass of `tinytorch.autograd.Function` with a static
# `forward(ctx, *arrays)` that receives NumPy arrays and returns a NumPy array. `Tensor`
# methods (`x + y`, `x.sum()`, `x.reshape(...)`) call `SomeFunction.apply(...)`, which unwraps
# the tensors, runs your `forward`, and wraps the result. `ctx` is a notebook for the backward
# pass of module 05: `ctx.save_for_backward(arrays...)` keeps arrays it will need, and plain
# attributes (`ctx.input_shape = a.shape`) keep anything else. Save what the docstring of the
# class says backward needs; forward only has to return the right array.
#
# Open each file named below, find the `# BEGIN SOLUTION 01` region and write its body.

# %% [markdown]
# ## Exercise 1: creating a tensor
#
# **Write** in `tinytorch/creation.py`: `tensor`
#
# `tinytorch.tensor(data, dtype=None, requires_grad=False)` returns a new tensor holding a
# **copy** of `data` (numbers, nested lists, arrays, tensors). As in PyTorch, Python floats
# become float32 and Python ints int64, a NumPy array keeps its dtype, and `dtype=` overrides.
#
# Hints: `as_array(data, dtype)` (in `tinytorch/tensor.py`) already applies the dtype rules;
# copy its result with `np.array(..., copy=True)` so that later changes to `data` do not leak
# in, and wrap it with the helper `_leaf(array, requires_grad)`.

# %%
source = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
t = tinytorch.tensor(source)
source[0, 0] = 99.0  # must not change t
check("tensor copies its data", t, [[1.0, 2.0], [3.0, 4.0]])
dtypes_seen = [
    tinytorch.tensor([1.5, 2.0]).dtype,
    tinytorch.tensor([1, 2]).dtype,
    tinytorch.tensor(np.zeros(2, np.float64)).dtype,
    tinytorch.tensor([1.0], dtype=tinytorch.float64).dtype,
]
expected_dtypes = [tinytorch.float32, tinytorch.int64, tinytorch.float64, tinytorch.float64]
assert dtypes_seen == expected_dtypes, f"✗ tensor dtypes {dtypes_seen}"
print("✓ tensor dtypes: float32 for floats, int64 for ints, arrays keep theirs, dtype= wins")

# %% [markdown]
# ## Exercise 2: arithmetic
#
# **Write** in `tinytorch/ops/arithmetic.py`: `Add.forward`, `Sub.forward`, `Mul.forward`,
# `Div.forward`, `Neg.forward`, `Pow.forward`, `MatMul.forward`
#
# Each returns the NumPy result (`np.add`, `np.subtract`, `np.multiply`, `np.true_divide`,
# `np.negative`, `np.power`, `np.matmul`); broadcasting comes for free. Save for backward
# what each class docstring's derivative uses: `Mul` and `Div` save `a, b`; `Pow` saves
# `a, b, out`.
#
# `MatMul.forward` must also check its operands **before** computing, raising `RuntimeError`
# with both shapes in the message when: an operand is 0-d; the inner sizes differ
# (`a.shape[-1]` against `b.shape[-2]`, or `b.shape[0]` for a 1-D `b`); or the dtypes differ.
# Then save `a, b` and return `np.matmul(a, b)`.

# %%
x_np = rng.standard_normal((3, 4)).astype(np.float32)
y_np = rng.uniform(0.5, 2.0, (4,)).astype(np.float32)  # broadcasts against (3, 4)
x, y = tinytorch.tensor(x_np), tinytorch.tensor(y_np)
check("Add (broadcast (3, 4) + (4,))", x + y, x_np + y_np)
check("Sub", x - y, x_np - y_np)
check("Mul", x * y, x_np * y_np)
check("Div", x / y, x_np / y_np)
check("Neg", -x, -x_np)
check("Pow (tensor ** 2)", x**2, x_np**2)
check("Pow (2 ** tensor)", 2**y, 2**y_np)
w_np = rng.standard_normal((4, 5)).astype(np.float32)
check("MatMul (3, 4) @ (4, 5)", x @ tinytorch.tensor(w_np), x_np @ w_np)
check("MatMul (3, 4) @ (4,)", x @ y, x_np @ y_np)
batch = rng.standard_normal((2, 3, 4)).astype(np.float32)
check(
    "MatMul batched (2, 3, 4) @ (4, 5)",
    tinytorch.tensor(batch) @ tinytorch.tensor(w_np),
    batch @ w_np,
)
try:
    x @ x
except RuntimeError as error:
    assert "(3, 4)" in str(error), f"✗ the MatMul error should name both shapes: {error}"
    print("✓ MatMul rejects (3, 4) @ (3, 4) naming the shapes")
else:
    raise AssertionError("✗ MatMul accepted (3, 4) @ (3, 4)")

# %% [markdown]
# ## Exercise 3: element-wise functions
#
# **Write** in `tinytorch/ops/pointwise.py`: `Exp.forward`, `Log.forward`, `Sqrt.forward`,
# `Sin.forward`, `Cos.forward`, `Abs.forward`, `Clamp.forward`, `Maximum.forward`,
# `Minimum.forward`, `Where.forward`, `Cast.forward`
#
# One NumPy function each (`np.exp`, `np.log`, `np.sqrt`, `np.sin`, `np.cos`, `np.abs`,
# `np.clip`, `np.maximum`, `np.minimum`, `np.where`, `astype`). Details that matter:
#
# - `Exp` and `Sqrt` save their **output** (their derivatives are written with it); `Log`,
#   `Sin`, `Cos`, `Abs` save their input; `Maximum`/`Minimum` save both inputs.
# - `Clamp` takes `low`/`high` that may be `None`; keep the input's dtype
#   (`.astype(a.dtype, copy=False)`) and store `ctx.low`, `ctx.high`.
# - `Where` saves the condition; `Cast` remembers `ctx.input_dtype`.

# %%
p_np = rng.uniform(0.1, 3.0, (2, 3)).astype(np.float32)
p = tinytorch.tensor(p_np)
check("Exp", p.exp(), np.exp(p_np))
check("Log", p.log(), np.log(p_np))
check("Sqrt", p.sqrt(), np.sqrt(p_np))
check("Sin", p.sin(), np.sin(p_np))
check("Cos", p.cos(), np.cos(p_np))
check("Abs", (-p).abs(), p_np)
check("Clamp(min=0.5, max=2)", p.clamp(0.5, 2.0), np.clip(p_np, 0.5, 2.0))
check("Clamp(max=1) only", p.clamp(max=1.0), np.minimum(p_np, 1.0))
q_np = rng.uniform(0.1, 3.0, (2, 3)).astype(np.float32)
q = tinytorch.tensor(q_np)
check("Maximum", tinytorch.maximum(p, q), np.maximum(p_np, q_np))
check("Minimum", tinytorch.minimum(p, q), np.minimum(p_np, q_np))
check("Where", tinytorch.where(p > q, p, q), np.where(p_np > q_np, p_np, q_np))
double = p.to(tinytorch.float64)
assert double.dtype == tinytorch.float64, f"✗ Cast gave {double.dtype}"
check("Cast to float64", double, p_np.astype(np.float64))

# %% [markdown]
# ## Exercise 4: reductions
#
# **Write** in `tinytorch/ops/reduction.py`: `Sum.forward`, `Mean.forward`, `Var.forward`,
# `Extremum.forward`, `LogSumExp.forward`
#
# `axes` is a tuple of axes or `None` (all of them); `keepdim` keeps reduced axes with size 1.
#
# - `Sum`/`Mean`: store `ctx.input_shape`, `ctx.axes`, `ctx.keepdim`; one NumPy call each.
# - `Var`: $\frac{1}{N - c}\sum (a - \bar a)^2$ with $N$ the number of reduced elements and
#   $c$ the `correction` (1 by default: the unbiased estimate). Save the centred array and
#   store `ctx.divisor = max(N - c, 0)` (helper: `reduced_count`), `ctx.axes`, `ctx.keepdim`.
# - `Extremum`: max (`largest=True`) or min of all elements; an empty input raises
#   `RuntimeError`. Save `a` and the result.
# - `LogSumExp`: $\log\sum_i e^{a_i} = m + \log\sum_i e^{a_i - m}$ with $m = \max_i a_i$.
#   Subtracting $m$ makes every exponent $\le 0$, so nothing overflows. Guard a max that is
#   not finite (all `-inf`) by using 0 instead.

# %%
r_np = rng.standard_normal((3, 4, 5)).astype(np.float32)
r = tinytorch.tensor(r_np)
check("Sum (all)", r.sum(), r_np.sum(), atol=1e-4)
check("Sum dim=1", r.sum(dim=1), r_np.sum(axis=1), atol=1e-5)
check(
    "Sum dim=(0, 2) keepdim",
    r.sum(dim=(0, 2), keepdim=True),
    r_np.sum(axis=(0, 2), keepdims=True),
    atol=1e-5,
)
check("Mean dim=-1", r.mean(dim=-1), r_np.mean(axis=-1))
check("Var dim=1 (unbiased)", r.var(dim=1), r_np.var(axis=1, ddof=1))
check("Var all, correction=0", r.var(correction=0), r_np.var())
check("max", r.max(), r_np.max())
check("min", r.min(), r_np.min())
big_np = np.array([[1000.0, 1000.0], [-1000.0, 0.0]], dtype=np.float32)
expected = np.array([1000.0 + np.log(2.0), np.log1p(np.exp(-1000.0))], dtype=np.float32)
check("LogSumExp stays finite for 1000", tinytorch.tensor(big_np).logsumexp(dim=1), expected)

# %% [markdown]
# ## Exercise 5: shape and indexing
#
# **Write** in `tinytorch/ops/shape.py`: `Reshape.forward`, `Clone.forward`, `Permute.forward`,
# `Expand.forward`, `Repeat.forward`, `Cat.forward`, `GetItem.forward`, `Gather.forward`
#
# These move elements without changing them. Backward will need to know where each element
# came from, so store exactly these attributes (module 05's backward reads them by name):
#
# - `Reshape`: `ctx.input_shape`; `Permute`: `ctx.dims`;
# - `Repeat`: `ctx.input_shape` and `ctx.repeats`;
# - `Cat`: `ctx.dim` and `ctx.boundaries`, the split points (the running totals of the sizes
#   along `dim`, `itertools.accumulate`, without the last);
# - `GetItem`: `ctx.input_shape`, `ctx.input_dtype` and `ctx.index`;
# - `Gather`: `ctx.input_shape`, `ctx.input_dtype` and `ctx.positions`, the full index from
#   the helper `along_axis_index(index, dim)`.
#
# Return **views** where NumPy gives them (`np.reshape`, `np.transpose`, `np.broadcast_to`,
# basic slicing) and copies only where needed (`Clone`: a C-ordered copy; `np.tile`;
# `np.concatenate`). `Gather` along `dim=1` means `out[i, j] = a[i, index[i, j]]`.

# %%
s_np = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
s = tinytorch.tensor(s_np)
check("Reshape (2, 3, 4) -> (6, 4)", s.reshape(6, 4), s_np.reshape(6, 4))
check("Clone", s.clone(), s_np)
check("Permute (2, 0, 1)", s.permute(2, 0, 1), s_np.transpose(2, 0, 1))
check("Expand (3, 1) -> (3, 5)", tinytorch.tensor(a).expand(3, 5), np.broadcast_to(a, (3, 5)))
check("Repeat (2, 1, 3)", s.repeat(2, 1, 3), np.tile(s_np, (2, 1, 3)))
check("Cat dim=1", tinytorch.cat([s, s[:, :1]], dim=1), np.concatenate([s_np, s_np[:, :1]], axis=1))
check("GetItem slice", s[1, ::2, 1:], s_np[1, ::2, 1:])
check("GetItem integer array", s[:, [2, 0, 2]], s_np[:, [2, 0, 2]])
check("GetItem bool mask", s[s > 20], s_np[s_np > 20])
index_np = np.array([[0, 3], [2, 2], [1, 0]])
g = tinytorch.tensor(s_np[0]).gather(1, tinytorch.tensor(index_np))
check("Gather dim=1", g, np.take_along_axis(s_np[0], index_np, axis=1))

# %% [markdown]
# ## Systems analysis
#
# Three questions a framework engineer asks of every operation: how many bytes does it touch,
# does it copy, and how many FLOPs does it do per second compared with the floor (plain
# NumPy)? The numbers below are measured on your machine when you run the cell.
#
# **Memory.** Bytes = elements x bytes per element. A view costs no new element memory.

# %%
n = 256
m32 = tinytorch.randn(n, n)
print(f"{'tensor':<28}{'dtype':<20}{'bytes':>10}")
for label, tensor_ in [("randn(256, 256)", m32), ("same, .double()", m32.double())]:
    size = tensor_.numel() * tensor_.element_size()
    print(f"{label:<28}{str(tensor_.dtype):<20}{size:>10,}")

print(f"\n{'operation':<28}{'shares memory':<15}{'new bytes':>10}")
base = m32.numpy()
for label, result in [
    ("reshape(-1)", m32.reshape(-1)),
    ("transpose (.T)", m32.T),
    ("slice [::2]", m32[::2]),
    ("expand of a (1, 256) row", m32[:1].expand(n, n)),
    ("clone()", m32.clone()),
    ("index with a list", m32[[0, 1, 2]]),
    ("repeat(2, 1)", m32.repeat(2, 1)),
]:
    shared = np.shares_memory(base, result.numpy())
    new_bytes = 0 if shared else result.numpy().nbytes
    print(f"{label:<28}{str(shared):<15}{new_bytes:>10,}")

# %% [markdown]
# **FLOPs and time.** An element-wise add of two $n \times n$ matrices does $n^2$ FLOPs and
# moves $3 \cdot 4n^2$ bytes; a matrix multiply does $2n^3$ FLOPs on the same bytes. The
# table times each operation through TinyTorch and through NumPy directly (best of a few
# runs) and shows the achieved GFLOP/s. The gap between the two columns is TinyTorch's fixed
# cost per operation (wrapping arrays, creating a `Context`); watch how much it matters for
# small and for large tensors.


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


print(f"{'op':<8}{'n':>6}{'FLOPs':>14}{'numpy us':>11}{'tinytorch us':>14}{'GFLOP/s':>9}")
for size in (16, 128, 512):
    an, bn = rng.standard_normal((2, size, size)).astype(np.float32)
    at, bt = tinytorch.tensor(an), tinytorch.tensor(bn)
    for op, flops, function in [
        ("add", size**2, operator.add),
        ("matmul", 2 * size**3, operator.matmul),
    ]:
        t_np, t_tt = best_time(function, an, bn), best_time(function, at, bt)
        print(
            f"{op:<8}{size:>6}{flops:>14,}{t_np * 1e6:>11.1f}{t_tt * 1e6:>14.1f}"
            f"{flops / t_tt / 1e9:>9.2f}"
        )

# %% [markdown]
# Finally, what `ctx` keeps: calling a forward directly shows the arrays it saves for the
# backward pass, here for two (512, 512) float32 inputs. A training step holds this memory
# from the forward pass until backward has used it.

# %%
for function, args in [
    (tinytorch.ops.arithmetic.Add, (an, bn)),
    (tinytorch.ops.arithmetic.Mul, (an, bn)),
    (tinytorch.ops.pointwise.Exp, (an,)),
]:
    ctx = Context()
    function.forward(ctx, *args)
    saved = sum(array.nbytes for array in getattr(ctx, "saved_tensors", ()))
    print(f"{function.__name__:<6} saves {saved:>10,} bytes for backward")

# %% [markdown]
# ## Reflection
#
# 1. `expand` gives a (256, 256) tensor that uses the memory of one row. What would go wrong if
#    you wrote into it in place, and why does PyTorch forbid that?
# 2. At which size did TinyTorch's overhead stop mattering for `add`, and for `matmul`? What
#    does that tell you about running very small models in Python?
# 3. `Add` saves nothing for backward but `Mul` saves both inputs. Using the derivatives in the
#    class docstrings, explain why.
# 4. Why does `LogSumExp` subtract the maximum, and what would `np.log(np.sum(np.exp(a)))` give
#    for `a = [1000, 1000]` in float32?
