# %% [markdown]
# # Module 18: Acceleration
#
# A NumPy framework is fast when the work happens inside compiled loops (ufuncs, BLAS) and
# slow when Python drives the loop; fast when data stays in the CPU's caches and slow when it
# streams from memory; lean when backward keeps only what it needs. This module measures each
# of these on the framework's own code: loops against broadcasting, fused against unfused
# kernels, `out=` and in-place updates, cache blocking, memory layout, BLAS threads. Then it
# trades compute for memory with gradient checkpointing, and memory for precision with
# float16 storage and a loss scaler.
#
# ## Learning objectives
#
# - Replace a Python loop over pixels by a loop over kernel offsets of whole-array slices.
# - Count what a fused kernel saves: graph nodes, arrays kept for backward, time.
# - Explain cache blocking with a tiled matrix product, and why BLAS is still far faster.
# - Set BLAS threads with `tinytorch.set_num_threads` and read what they buy on this CPU.
# - Write the backward of gradient checkpointing and measure peak memory against time.
# - Write `GradScaler`'s scale update, and measure what float16 storage saves and costs.
#
# **Textbook:** *Machine Learning Systems* ([mlsysbook.ai](https://mlsysbook.ai)), chapter
# "AI Acceleration" (vectorization, memory hierarchy, mixed precision).
#
# **Prerequisites:** module 17 (the optimization tier so far), module 14 (measuring time and
# memory), module 13 (the GPT whose blocks we checkpoint), module 05 (the backward engine).

# %%
# Set-up: test the tinytorch of this workspace (the folder above modules/), not an installed
# copy. Under Jupyter, your edits to the package are reloaded before every cell.
from tito.course.lesson_setup import use_workspace

use_workspace()

# %%
import os
import statistics
import time

import numpy as np

import tinytorch
import tinytorch.nn.functional as F
from tinytorch import nn
from tinytorch.acceleration import (
    Checkpointed,
    count_nodes,
    kernels,
    peak_memory,
    saved_bytes,
    unfused,
)
from tinytorch.amp import GradScaler
from tinytorch.amp.grad_scaler import next_scale
from tinytorch.models import GPT, GPTConfig
from tinytorch.threads import blas_thread_control
from tinytorch.utils.checkpoint import checkpoint

rng = np.random.default_rng(0)
tinytorch.manual_seed(0)


def check(name: str, condition: bool, detail: str = "") -> None:
    """Print ✓ name, or stop with ✗ and the reason."""
    assert condition, f"✗ {name}: {detail}"
    print(f"✓ {name}")


def median_ms(functions: dict, repeats: int = 5) -> dict:
    """Median milliseconds of each function, timed in turn so a busy machine slows all alike."""
    times = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append((time.perf_counter() - start) * 1e3)
    return {name: statistics.median(values) for name, values in times.items()}


def show(medians: dict) -> None:
    first = next(iter(medians.values()))
    for name, ms in medians.items():
        print(f"  {name:<40} {ms:9.2f} ms  ({first / ms:5.2f}x)")


# %% [markdown]
# ## The idea
#
# **Where time goes in NumPy code.** A NumPy call costs about a microsecond of Python and
# dispatch before any arithmetic, then runs a compiled loop at about one element per
# nanosecond (more with SIMD). A Python loop of $n$ NumPy calls pays $n$ microseconds; one
# call over a whole array pays one. *Vectorizing* means reshaping a computation so that the
# loop Python drives is short and the loops NumPy drives are long.
#
# **Memory traffic.** Main memory delivers a few tens of GB/s; the caches (here 64 KiB L1 and
# 1 MiB L2 per core, 8 MiB L3 shared) are much faster. An elementwise op reads its inputs and
# writes a new output: `a * b + c` makes a temporary for `a * b`, writes it, reads it again.
# `out=` and in-place ufuncs (`np.multiply(a, b, out=t)`, `t += c`) reuse memory instead.
# A *fused* kernel computes a whole formula (GELU, layer norm, softmax + cross-entropy) as one
# `Function`: one graph node, one set of saved arrays, a hand-derived backward, instead of one
# node and one saved input per primitive op.
#
# **Cache blocking.** $C = AB$ can be built from $K$ rank-1 updates $C \mathrel{+}= a_k
# b_k^T$. Done on the whole $C$, each update streams all of $C$ through the caches: $K$
# passes. Done one tile of $C$ at a time, the tile stays in cache for its $K$ updates. BLAS
# goes much further: tiles for each cache level, packed copies of $A$ and $B$, SIMD registers
# holding a small block of $C$, and threads.
#
# **Checkpointing.** Backward needs the activations of forward. `checkpoint(fn, x)` runs `fn`
# under `no_grad` and keeps only `x`; backward runs `fn` again with recording on and
# backpropagates through that fresh graph. Memory for `fn`'s activations is held only
# during its own backward; the price is a second forward of `fn`. The random state is saved
# and restored, so a dropout inside `fn` draws the same mask both times.
#
# **Mixed precision.** float16 has 10 mantissa bits (about 3 decimal digits), a largest value
# of 65504 and smallest normal value of $6 \cdot 10^{-5}$. Stored in float16, weights and
# activations take half the memory; summed in float16, a dot product stops growing once its
# total is 2048 times its terms. So: store in float16, accumulate in float32. Small gradients
# underflow to 0 in float16; multiplying the loss by a scale $S$ multiplies every gradient by
# $S$ (backward is linear), and dividing by $S$ before the step undoes it. An overflow (inf)
# skips the step and halves $S$; `growth_interval` clean steps double it.

# %%
print(f"BLAS threads: {tinytorch.get_num_threads()} (control: {blas_thread_control()})")
tinytorch.set_num_threads(1)  # one thread for the measurements below, unless stated
check("set_num_threads(1) takes effect", tinytorch.get_num_threads() == 1)

# %% [markdown]
# ## Exercise 1: a convolution without im2col
#
# **Write** in `tinytorch/acceleration/kernels.py`: `conv2d_shifted`, `tiled_matmul`
#
# - `conv2d_shifted(x, weight)`: x $(N, C, H, W)$, weight $(F, C, KH, KW)$, stride 1, no
#   padding. Loop over the $KH \cdot KW$ offsets $(p, q)$ only: the view
#   `x[:, :, p : p + H_out, q : q + W_out]` holds, for every output pixel, the value tap
#   $(p, q)$ multiplies; add `np.einsum("nchw,fc->nfhw", window, weight[:, :, p, q])` to the
#   output. `conv2d_loops` is the slow form (a loop over output pixels) to check against.
# - `tiled_matmul(a, b, tile)`: for each `tile x tile` block of $C$ (a view of the result),
#   run all $K$ rank-1 updates `np.multiply(a[i:i+t, k:k+1], b[k:k+1, j:j+t], out=product)`,
#   `block += product` before moving to the next block. `matmul_outer_products` does the
#   same updates on the whole $C$.

# %%
x = rng.standard_normal((4, 3, 16, 16))
w = rng.standard_normal((8, 3, 3, 3))
fast = kernels.conv2d_shifted(x, w)
check("shifted slices equal the pixel loop", np.allclose(fast, kernels.conv2d_loops(x, w)))
reference = F.conv2d(tinytorch.tensor(x), tinytorch.tensor(w)).numpy()
check("and the framework's im2col conv2d", np.allclose(fast, reference))
a, b = rng.standard_normal((70, 33)), rng.standard_normal((33, 50))
check("tiled matmul equals a @ b", np.allclose(kernels.tiled_matmul(a, b, tile=16), a @ b))
check(
    "same updates, same rounding as the untiled form",
    np.array_equal(kernels.tiled_matmul(a, b, 16), kernels.matmul_outer_products(a, b)),
)

# %% [markdown]
# ## Exercise 2: the backward of checkpointing
#
# **Write** in `tinytorch/utils/checkpoint.py`: `Checkpoint.backward`
#
# Forward ran `ctx.run` under `no_grad` and saved only the inputs. In backward:
# `inputs = restore_inputs(ctx)` (fresh leaf tensors requiring grad where the originals did);
# inside `random_state(ctx.rng_state)` and `enable_grad()`, recompute the output with
# `run_for_output` (from `ctx.run`, the inputs and `ctx.kwargs`); if it requires grad, run its
# `backward` with `grad_output` wrapped as a Tensor (this also adds the gradients of the
# function's parameters to their `.grad`); return `None` for the four leading arguments
# (`run`, `rng_state`, `kwargs`, `count`), each input's `.grad` array (or `None`), and
# `None` for each of the `ctx.parameter_count` parameters.


# %%
def make_mlp(p: float) -> nn.Sequential:
    tinytorch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 16), nn.GELU(), nn.Dropout(p), nn.Linear(16, 2))


x = tinytorch.randn(8, 6)
plain, checked = make_mlp(0.5), make_mlp(0.5)
tinytorch.manual_seed(1)
plain(x).pow(2).sum().backward()
tinytorch.manual_seed(1)
checkpoint(checked, x, use_reentrant=False).pow(2).sum().backward()
same = all(
    np.array_equal(p.grad.numpy(), q.grad.numpy())
    for p, q in zip(plain.parameters(), checked.parameters(), strict=True)
)
check("checkpointed gradients equal the plain run's, dropout included", same)

# %% [markdown]
# ## Exercise 3: the loss scale
#
# **Write** in `tinytorch/amp/grad_scaler.py`: `next_scale`
#
# `next_scale(scale, growth_tracker, found_inf, growth_factor, backoff_factor,
# growth_interval)` returns the new `(scale, growth_tracker)`: after an inf or nan gradient,
# `(scale * backoff_factor, 0)`; otherwise count one more clean step, and when the count
# reaches `growth_interval` return `(scale * growth_factor, 0)`, else the scale unchanged
# and the new count. `GradScaler.update` calls it once per iteration.

# %%
check("overflow halves the scale", next_scale(1024.0, 5, True, 2.0, 0.5, 10) == (512.0, 0))
check("a clean step counts", next_scale(1024.0, 5, False, 2.0, 0.5, 10) == (1024.0, 6))
check("growth after the interval", next_scale(1024.0, 9, False, 2.0, 0.5, 10) == (2048.0, 0))
weight = tinytorch.tensor([1.0, -2.0], requires_grad=True)
optimizer = tinytorch.optim.SGD([weight], lr=0.1)
scaler = GradScaler(init_scale=2.0**16, growth_interval=2)
scales = []
for step in range(4):
    optimizer.zero_grad()
    loss = (weight * weight).sum() * (float("inf") if step == 1 else 1.0)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    scales.append(scaler.get_scale())
expected = [65536.0, 32768.0, 32768.0, 65536.0]  # clean, inf, clean, clean: grows again
check("the inf step is skipped; the scale backs off, then grows", scales == expected, str(scales))

# %% [markdown]
# ## Systems analysis
#
# Every figure below is measured now, on this machine, with one BLAS thread unless stated;
# other programs running at the same time slow some runs, so the functions take turns and
# the medians are compared. `benchmarks/acceleration.py` runs the same comparisons on larger
# sizes.
#
# ### Loops to broadcasting

# %%
x = rng.standard_normal((8, 3, 32, 32)).astype(np.float32)
w = rng.standard_normal((16, 3, 3, 3)).astype(np.float32)
tx, tw = tinytorch.tensor(x), tinytorch.tensor(w)
show(
    median_ms(
        {
            "loop over 900 output pixels": lambda: kernels.conv2d_loops(x, w),
            "loop over 9 kernel offsets": lambda: kernels.conv2d_shifted(x, w),
            "F.conv2d: im2col + one matmul": lambda: F.conv2d(tx, tw),
        },
        repeats=3,
    )
)

# %% [markdown]
# ### Fused against unfused kernels
#
# The same formulas composed of primitive tensor ops (`tinytorch.acceleration.unfused`)
# against the framework's fused `Function`s: graph nodes, bytes kept for backward (each
# base array once), and the time of forward + backward.


# %%
def fwd_bwd(function, *arrays):
    def run():
        leaves = [tinytorch.tensor(a, requires_grad=True) for a in arrays]
        function(*leaves).sum().backward()

    return run


rows = rng.standard_normal((2048, 256)).astype(np.float32)
ones, zeros = np.ones(256, np.float32), np.zeros(256, np.float32)
labels = tinytorch.tensor(rng.integers(0, 256, 2048))
pairs = {
    "GELU": (lambda t: F.gelu(t, approximate="tanh"), unfused.gelu_tanh, (rows,)),
    "layer norm": (
        lambda t, w, b: F.layer_norm(t, (256,), w, b),
        unfused.layer_norm,
        (rows, ones, zeros),
    ),
    "cross-entropy": (
        lambda t: F.cross_entropy(t, labels),
        lambda t: unfused.cross_entropy(t, labels),
        (rows,),
    ),
}
for name, (fused_fn, unfused_fn, arrays) in pairs.items():
    outputs = {
        kind: fn(*[tinytorch.tensor(a, requires_grad=True) for a in arrays])
        for kind, fn in (("unfused", unfused_fn), ("fused", fused_fn))
    }
    print(f"{name}: " + ", ".join(
        f"{kind} {count_nodes(out)} nodes, {saved_bytes(out) / 2**20:.1f} MiB kept"
        for kind, out in outputs.items()
    ))  # fmt: skip
    show(
        median_ms({"unfused": fwd_bwd(unfused_fn, *arrays), "fused": fwd_bwd(fused_fn, *arrays)}, 3)
    )

# %% [markdown]
# The fused cross-entropy keeps *more* bytes than its composition here: it saves the
# log-probabilities and the target as a dense $(N, C)$ distribution (which label smoothing
# and probability targets need), where the composition keeps $\exp$'s output and a column.
# Fusing is a design choice with a cost; measure it.
#
# ### `out=` and in-place ufuncs: an Adam update

# %%
g = rng.standard_normal(1_000_000).astype(np.float32)
state = {"m": np.zeros_like(g), "v": np.ones_like(g), "p": g.copy()}
m2, v2, p2, scratch = np.zeros_like(g), np.ones_like(g), g.copy(), np.empty_like(g)


def adam_out_of_place():
    state["m"] = 0.9 * state["m"] + 0.1 * g
    state["v"] = 0.999 * state["v"] + 0.001 * g * g
    state["p"] = state["p"] - 1e-3 * state["m"] / (np.sqrt(state["v"]) + 1e-8)


def adam_in_place():
    np.multiply(m2, 0.9, out=m2)  # m = 0.9 m + 0.1 g, written into m's own memory
    np.multiply(g, 0.1, out=scratch)
    np.add(m2, scratch, out=m2)
    np.multiply(g, g, out=scratch)  # v = 0.999 v + 0.001 g^2
    np.multiply(scratch, 0.001, out=scratch)
    np.multiply(v2, 0.999, out=v2)
    np.add(v2, scratch, out=v2)
    np.sqrt(v2, out=scratch)  # p -= 1e-3 m / (sqrt(v) + 1e-8)
    np.add(scratch, 1e-8, out=scratch)
    np.divide(m2, scratch, out=scratch)
    np.multiply(scratch, 1e-3, out=scratch)
    np.subtract(p2, scratch, out=p2)


show(median_ms({"out of place": adam_out_of_place, "out= / in-place": adam_in_place}, 5))
_, peak_out = peak_memory(adam_out_of_place)
_, peak_in = peak_memory(adam_in_place)
print(f"  new memory at the peak: {peak_out / 2**20:.1f} MiB -> {peak_in / 2**20:.1f} MiB")
# No new array (g is 4 MB); under Jupyter the kernel's own threads allocate a few KB meanwhile.
check(
    "in-place update allocates no array", peak_in < g.nbytes / 100 and np.allclose(state["p"], p2)
)

# %% [markdown]
# ### Cache blocking, and why BLAS wins

# %%
a = rng.standard_normal((256, 256)).astype(np.float32)
b = rng.standard_normal((256, 256)).astype(np.float32)
show(
    median_ms(
        {
            "rank-1 updates of the whole C": lambda: kernels.matmul_outer_products(a, b),
            "tiled, 64 x 64 tiles": lambda: kernels.tiled_matmul(a, b, 64),
            "tiled, 128 x 128 tiles": lambda: kernels.tiled_matmul(a, b, 128),
            "BLAS": lambda: a @ b,
        },
        repeats=1,
    )
)

# %% [markdown]
# Tiling keeps the block of $C$ in cache, but in NumPy every rank-1 update of a tile is one
# more call: 64 x 64 tiles make 16 times as many calls as the untiled loop, and at a
# microsecond each the overhead can eat what the cache saves (the whole $C$ here is 256 KiB,
# which fits in L2 anyway). BLAS blocks inside compiled code, where a "call" costs nothing:
# it packs tiles of $A$ and $B$ contiguously, keeps a block of $C$ in SIMD registers for
# the whole inner loop, and uses every core.
#
# ### Memory layout and contiguity

# %%
big = rng.standard_normal((1024, 1024)).astype(np.float32)
show(
    median_ms(
        {
            "sum column by column (stride 4 KiB)": lambda: [big[:, j].sum() for j in range(1024)],
            "sum row by row (contiguous)": lambda: [big[i].sum() for i in range(1024)],
        },
        3,
    )
)
view = tinytorch.tensor(big).transpose(0, 1)
check("a transpose is a view; contiguous() copies", not view.is_contiguous()
      and view.contiguous().is_contiguous())  # fmt: skip

# %% [markdown]
# ### BLAS threads

# %%
square = rng.standard_normal((512, 512)).astype(np.float32)


def product_on(threads):
    def run():
        tinytorch.set_num_threads(threads)
        return square @ square

    return run


cores = os.cpu_count() or 1
show(median_ms({"1 thread": product_on(1), f"{cores} threads": product_on(cores)}, 5))
tinytorch.set_num_threads(1)

# %% [markdown]
# BLAS splits a large product over its threads, which helps as much as there are idle cores;
# on a machine shared with other work a thread waits for a core and can make the product
# slower. Read your own figures above, and fix the thread count when you compare timings.
#
# ### Gradient checkpointing on the GPT: memory against compute


# %%
def make_gpt(checkpointed: bool) -> GPT:
    tinytorch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=64, block_size=32, n_layer=4, n_head=4, n_embd=64))
    if checkpointed:
        model.blocks = nn.ModuleList(Checkpointed(block) for block in model.blocks)
    return model


tokens = tinytorch.randint(0, 64, (8, 32))
gpts = {"plain": make_gpt(False), "every block checkpointed": make_gpt(True)}


def train_step(model):
    _, loss = model(tokens, tokens)
    loss.backward()
    model.zero_grad()


show(median_ms({name: (lambda m=m: train_step(m)) for name, m in gpts.items()}, 3))
peaks = {name: peak_memory(lambda m=m: train_step(m))[1] for name, m in gpts.items()}
for name, peak in peaks.items():
    kept = saved_bytes(gpts[name](tokens, tokens)[1])
    print(f"  {name:<26} peak {peak / 2**20:5.1f} MiB, kept for backward {kept / 2**20:5.1f} MiB")
check("checkpointing lowers the peak", peaks["every block checkpointed"] < peaks["plain"])

# %% [markdown]
# ### float16 storage with float32 accumulation

# %%
a32 = rng.standard_normal((512, 512)).astype(np.float32)
a16 = a32.astype(np.float16)
exact = a32.astype(np.float64) @ a32.astype(np.float64)
show(
    median_ms(
        {
            "float32 (BLAS)": lambda: a32 @ a32,
            "float16 storage, float32 sums": lambda: kernels.matmul_float16_storage(a16, a16),
        },
        3,
    )
)
for name, result in (("float32", a32 @ a32), ("float16", kernels.matmul_float16_storage(a16, a16))):
    error = np.abs(result - exact).max() / np.abs(exact).max()
    print(f"  {name}: {result.nbytes / 2**20:.2f} MiB, max relative error {error:.1e}")
check("float16 halves the bytes", a16.nbytes * 2 == a32.nbytes)

# %% [markdown]
# On this CPU float16 saves memory and bandwidth only: NumPy has no float16 matrix product in
# BLAS, so the product casts to float32 and back, and costs *more* time than staying in
# float32. The same recipe pays on GPUs and recent CPUs whose matrix units multiply half
# precision natively; that is why `tinytorch.amp` provides the `GradScaler` and not
# `autocast`.
#
# ## Reflection
#
# 1. Compare `conv2d_shifted` with the im2col `conv2d` above. For what kernel sizes and
#    channel counts would each win, and why?
# 2. The fused cross-entropy keeps more bytes than the unfused one. What would you save
#    instead for integer targets without label smoothing, and what would backward compute?
# 3. Checkpointing every block recomputes every block's forward. Which blocks would you
#    checkpoint if memory allowed keeping half of them, and how much time would that cost?
# 4. Why is the loss scale adjusted dynamically rather than fixed at, say, 1024? What goes
#    wrong with a scale that is too small, and with one that is too large?
