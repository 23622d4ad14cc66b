# %% [markdown]
# # Module 14: Profiling
#
# Before making a model faster or smaller, measure where its time, memory and arithmetic go.
# Guessing is usually wrong: in a small network the matrix products are often *not* the
# slowest part, Python's per-operation overhead is. In this module you write the parts of a
# profiler that turn raw measurements into answers: the FLOP formulas of matrix products and
# convolutions, the aggregation of thousands of timed events into a table, and a layer-by-layer
# model summary with latency percentiles. Then you profile LeNet-5 and a GPT, find their hot
# operations, and measure what the profiler itself costs.
#
# ## Learning objectives
#
# - Count the FLOPs of a matrix product ($2MNK$) and of a convolution (its matrix product).
# - Explain self time versus total time of nested events, and aggregate events by name.
# - Read PyTorch's profiler table (`prof.key_averages().table(...)`) and find the hot op.
# - Measure activation memory per layer with forward hooks, and latency as p50/p90/p99.
# - Measure the profiler's own overhead, and say when it distorts what it measures.
#
# **Textbook:** *Machine Learning Systems* ([mlsysbook.ai](https://mlsysbook.ai)), chapter
# "Efficient AI" (measuring efficiency: FLOPs, memory, latency).
#
# **Prerequisites:** module 13 (the GPT), module 09 (LeNet-5's convolutions) and module 05
# (the backward engine, whose nodes the profiler times).

# %%
# Set-up: test the tinytorch of this workspace (the folder above modules/), not an installed
# copy. Under Jupyter, your edits to the package are reloaded before every cell.
from tito.course.lesson_setup import use_workspace

use_workspace()

# %%
import contextlib
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import tinytorch
import tinytorch.nn.functional as F
from tinytorch.models import GPT, GPTConfig, lenet5
from tinytorch.profiler import EventList, FunctionEvent, latency, profile, record_function, summary
from tinytorch.profiler.model_stats import percentile
from tinytorch.utils.flop_counter import FlopCounterMode, conv_flops, matmul_flops

rng = np.random.default_rng(0)
tinytorch.manual_seed(0)


def check(name: str, condition: bool, detail: str = "") -> None:
    """Print ✓ name, or stop with ✗ and the reason."""
    assert condition, f"✗ {name}: {detail}"
    print(f"✓ {name}")


# %% [markdown]
# ## The idea
#
# **One hook.** Every operation in tinytorch runs through `Function.apply`, and every
# backward node through the engine's `call_backward`. Both check one module-level variable,
# the active *recorder*; when it is `None` (no profiler) that check is all they pay. A
# profiler is a recorder that takes a timestamp before and after each operation and keeps an
# *event*: name, start, end, input shapes, bytes of new arrays, FLOPs.
#
# **FLOPs.** A product $(M, K) @ (K, N)$ computes $MN$ dot products of length $K$: $MNK$
# multiplies and $MNK$ adds, so $2MNK$ FLOPs. A convolution with $O$ output channels of
# size $OH \times OW$ over $N$ images computes one dot product of length $C/g \cdot k_h k_w$
# per output value: $2 \cdot N \cdot OH \cdot OW \cdot O \cdot (C/g) k_h k_w$. Example:
# LeNet-5's first layer on one 28x28 image, 6 channels of 28x28 from 5x5 kernels:
# $2 \cdot 784 \cdot 6 \cdot 25 = 235{,}200$. Backward repeats each product once per input
# that needs a gradient ($\bar x = G W$, $\bar W = G^T x$): about twice the forward.
#
# **Self and total time.** Events nest: a `record_function("step")` range contains the
# operations run inside it. An event's *total* time is its interval; its *self* time is the
# total minus its children's totals. Summing self times over all events counts every
# microsecond once; summing totals counts nested time twice. `key_averages()` groups the
# events by name (and by input shapes if asked) and sums count, times, memory and FLOPs.
#
# **Percentiles.** Latency varies from call to call (caches, the OS, other processes). The
# median (p50) is the typical call; p90 and p99 describe the slow tail that a user waiting
# on every request notices. With sorted samples $s_0 \le \dots \le s_{n-1}$, the $q$-th
# percentile sits at position $p = (n - 1) q / 100$, interpolated between $s_{\lfloor p
# \rfloor}$ and $s_{\lceil p \rceil}$.

# %%
model = tinytorch.nn.Sequential(tinytorch.nn.Linear(8, 16), tinytorch.nn.ReLU())
with profile(record_shapes=True) as prof:
    with record_function("forward"):
        model(tinytorch.randn(4, 8))
for event in prof.events():
    print(f"{event.name:>8}  {event.cpu_time_total:8.1f} us  shapes {event.input_shapes}")

# %% [markdown]
# ## Exercise 1: FLOP formulas
#
# **Write** in `tinytorch/utils/flop_counter.py`: `matmul_flops`, `conv_flops`
#
# - `matmul_flops(a_shape, b_shape)`: a 1-D `a` becomes a row $(1, K)$, a 1-D `b` a column
#   $(K, 1)$; the batch is the product of the broadcast leading dimensions
#   (`np.broadcast_shapes`); return $2 \cdot batch \cdot M K N$.
# - `conv_flops(x_shape, weight_shape, out_shape)`: weight is $(O, C/g, k_h, k_w)$, out is
#   $(N, O, OH, OW)$: return $2 \cdot N \cdot OH \cdot OW \cdot O \cdot (C/g) k_h k_w$
#   (write it for any number of spatial dimensions with `math.prod`).

# %%
check("(3, 5) @ (5, 6): 2 * 3 * 5 * 6", matmul_flops((3, 5), (5, 6)) == 180)
check("batched and broadcast", matmul_flops((2, 1, 3, 5), (4, 5, 6)) == 2 * 8 * 3 * 5 * 6)
check("vector @ matrix", matmul_flops((5,), (5, 6)) == 60)
check(
    "LeNet-5 conv1 on one image",
    conv_flops((1, 1, 28, 28), (6, 1, 5, 5), (1, 6, 28, 28)) == 235_200,
)
check(
    "grouped conv: C/g per output", conv_flops((2, 4, 9, 9), (6, 2, 3, 3), (2, 6, 5, 5)) == 10_800
)
layer = tinytorch.nn.Linear(100, 50)
x = tinytorch.randn(32, 100, requires_grad=True)
with FlopCounterMode(display=False) as counter:
    layer(x).sum().backward()
counts = counter.get_flop_counts()["Linear"]
check("Linear forward 2 * 32 * 100 * 50", counts["Linear"] == 320_000)
check("Linear backward: two products (d x and d W)", counts["LinearBackward"] == 640_000)

# %% [markdown]
# ## Exercise 2: from events to a table
#
# **Write** in `tinytorch/profiler/events.py`: `FunctionEventAvg.add`, `EventList.key_averages`
#
# - `FunctionEventAvg.add(event)`: add the event's `count`, `cpu_time_total`,
#   `self_cpu_time_total`, `cpu_memory_usage`, `self_cpu_memory_usage` and `flops` to the row.
# - `EventList.key_averages(group_by_input_shape)`: one `FunctionEventAvg(key, shapes)` per
#   key in order of first appearance, where the key is the event's name, plus its
#   `input_shapes` (as `str`) when grouping by shape (then `shapes` is the event's input
#   shapes, else `None`); `add` each event to its row; return an
#   `EventList(rows, self.profile_memory, self.with_flops)`.

# %%
mm_1 = FunctionEvent(1, "mm", start_us=1, end_us=3, input_shapes=[[2, 3]], flops=12)
mm_2 = FunctionEvent(2, "mm", start_us=4, end_us=8, input_shapes=[[5, 3]], flops=30)
step = FunctionEvent(0, "step", start_us=0, end_us=10, cpu_children=[mm_1, mm_2])
rows = {row.key: row for row in EventList([step, mm_1, mm_2]).key_averages()}
check("two mm calls, one row", rows["mm"].count == 2 and rows["mm"].flops == 42)
check(
    "mm total 2 + 4 us, average 3 us", rows["mm"].cpu_time_total == 6 and rows["mm"].cpu_time == 3
)
check("step's self time excludes its children", rows["step"].self_cpu_time_total == 4)
by_shape = EventList([step, mm_1, mm_2]).key_averages(group_by_input_shape=True)
check("grouped by shape: two mm rows", [row.key for row in by_shape] == ["step", "mm", "mm"])

# %% [markdown]
# ## Exercise 3: a model summary and latency percentiles
#
# **Write** in `tinytorch/profiler/model_stats.py`: `record_layer`, `percentile`
#
# - `record_layer(row, output, flops)`: `summary` calls it from a forward hook on every
#   module with the module's output and the FLOPs counted during its forward. Set
#   `row.output_shape` and add the output's bytes with `output_stats(output)`, add `flops`,
#   and count the call.
# - `percentile(samples, q)`: sort, find $p = (n - 1) q / 100$, interpolate between the
#   samples at `floor(p)` and `ceil(p)`.

# %%
lenet = lenet5(28)
images = tinytorch.randn(16, 1, 28, 28)
report = summary(lenet, images)
print(report)
conv1 = next(row for row in report.rows if row.name == "0")
check("conv1 output (16, 6, 28, 28)", conv1.output_shape == [16, 6, 28, 28])
check("conv1 activations: 16*6*28*28 float32", conv1.activation_bytes == 16 * 6 * 784 * 4)
check("conv1 FLOPs = 16 images x 235,200", conv1.flops == 16 * 235_200)
check("parameters add up", report.total_parameters == sum(p.numel() for p in lenet.parameters()))
samples = list(rng.exponential(1.0, 101))
check("percentile = NumPy's", abs(percentile(samples, 90) - np.percentile(samples, 90)) < 1e-12)
check("percentile([1, 2, 3, 4], 50) = 2.5", percentile([1, 2, 3, 4], 50) == 2.5)
timing = latency(lenet.eval(), images, warmup=2, repeats=10)
print("LeNet-5 forward, batch 16:", timing)
check("p50 <= p90 <= p99", timing.p50 <= timing.p90 <= timing.p99)

# %% [markdown]
# ## Systems analysis: where LeNet-5 and a GPT spend their time
#
# Profile one training step of each, print the table sorted by self time, and read off the
# hot op. FLOPs divided by self time is the arithmetic rate each op achieves: matrix products
# should run near BLAS speed, while elementwise ops do almost no arithmetic per byte.


# %%
def train_step(net, inputs, targets, optimizer) -> None:
    optimizer.zero_grad()
    output = net(inputs)
    logits = output[0] if isinstance(output, tuple) else output
    F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)).backward()
    optimizer.step()


def profile_step(net, inputs, targets) -> profile:
    optimizer = tinytorch.optim.SGD(net.parameters(), lr=0.01)
    train_step(net, inputs, targets, optimizer)  # warm-up: first calls allocate
    with profile(record_shapes=True, profile_memory=True, with_flops=True) as prof:
        with record_function("train_step"):
            train_step(net, inputs, targets, optimizer)
    return prof


def hot_ops(prof: profile, count: int = 3) -> list[str]:
    ops = [row for row in prof.key_averages() if row.key != "train_step"]
    return [row.key for row in sorted(ops, key=lambda r: -r.self_cpu_time_total)[:count]]


lenet.train()
labels = tinytorch.tensor(rng.integers(0, 10, 16))
lenet_prof = profile_step(lenet, images, labels)
print(lenet_prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=8))
print("LeNet-5 hot ops:", hot_ops(lenet_prof))

config = GPTConfig(vocab_size=65, block_size=16, n_layer=2, n_head=4, n_embd=32)
gpt = GPT(config)
tokens = tinytorch.tensor(rng.integers(0, 65, (4, 16)))
gpt_prof = profile_step(gpt, tokens, tinytorch.tensor(rng.integers(0, 65, (4, 16))))
print(gpt_prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=8))
print("GPT hot ops:", hot_ops(gpt_prof))

print(f"\n{'op':>34}{'self ms':>10}{'MFLOPs':>10}{'GFLOP/s':>10}")
for row in sorted((r for r in gpt_prof.key_averages() if r.flops), key=lambda r: -r.flops):
    rate = row.flops / max(row.self_cpu_time_total, 1e-9) / 1e3
    print(
        f"{row.key:>26}{row.self_cpu_time_total / 1e3:>10.3f}{row.flops / 1e6:>10.2f}{rate:>10.2f}"
    )
events = lenet_prof.events()
check(
    "every op of the step was recorded",
    {"Conv2d", "Conv2dBackward", "MaxPool2d"} <= {e.name for e in events},
)
check(
    "the hot list names real ops",
    all(name in {e.name for e in events} for name in hot_ops(lenet_prof)),
)

with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "lenet_step.json"
    lenet_prof.export_chrome_trace(path)
    trace = json.loads(path.read_text())
    size = path.stat().st_size
print(f"Chrome trace: {len(trace['traceEvents'])} events, {size:,} bytes (open in ui.perfetto.dev)")
check(
    "the trace is valid JSON with one event per record",
    len(trace["traceEvents"]) == len(events) + 1,
)

# %% [markdown]
# **The profiler's own cost.** Timing each op adds two clock reads, an event object and a
# list append: a few microseconds per op. On big matrix products that is noise; on a model of
# many small ops it is not. Measure it: the same GPT step, alternating between unwatched,
# profiled, and profiled with shapes, memory and FLOPs.


# %%
def median_step_ms(watch, repeats: int = 5) -> float:
    optimizer = tinytorch.optim.SGD(gpt.parameters(), lr=0.01)
    times = []
    for _ in range(repeats):
        with watch():
            start = time.perf_counter()
            train_step(gpt, tokens, tokens, optimizer)
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


modes = {
    "no profiler": contextlib.nullcontext,
    "profile()": profile,
    "profile(shapes, memory, flops)": lambda: profile(
        record_shapes=True, profile_memory=True, with_flops=True
    ),
}
results = {name: [] for name in modes}
for _ in range(3):  # take turns, so a busy moment of the machine hits every mode alike
    for name, watch in modes.items():
        results[name].append(median_step_ms(watch, repeats=2))
base = statistics.median(results["no profiler"])
ops_per_step = len(gpt_prof.events()) - 1
for name, values in results.items():
    cost = statistics.median(values)
    extra_us = (cost - base) * 1e3 / ops_per_step
    print(f"{name:>32}: {cost:7.2f} ms per step ({cost / base:4.2f}x, {extra_us:+6.1f} us per op)")
check("overhead measured", base > 0 and all(values for values in results.values()))

# %% [markdown]
# Read the tables. In LeNet-5 the convolutions and the linear layers (forward and backward)
# carry nearly all the FLOPs; whether they also carry the time depends on how well BLAS runs
# matrices this small. In the small GPT many rows are cheap elementwise ops whose time is
# mostly Python overhead per call, and the GFLOP/s column shows how far the product-heavy
# rows stay from what BLAS reaches on large matrices. On a busy machine a row can also be
# slow for no reason of its own: run the profile twice and trust what repeats. The overhead
# table tells you how far to trust a profile at all: when the profiler adds a few
# microseconds per op and an op itself takes ten, the profile inflates small ops relative to
# large ones. Compare configurations in alternating runs, and confirm a speed-up with the
# profiler off.
#
# ## Reflection
#
# 1. The FLOP counter leaves out ReLU, softmax and layer norm. When is that a fair model of
#    cost, and for which of these layers would counting bytes moved be more honest?
# 2. An op's self time and total time are equal in most rows here. Which rows differ, and
#    what would make an op's total time larger than its self time?
# 3. Why does the p99 latency matter more than the mean to a service that answers users? What
#    on a shared machine makes p99 much larger than p50?
# 4. The profiler adds a fixed cost per op. How would you estimate the true time of a model
#    with 10,000 tiny ops from a profile, and how would you check your estimate?
