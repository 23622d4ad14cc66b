# %% [markdown]
# # Module 19: Benchmarking
#
# Modules 14-18 made models smaller and faster; this module decides whether they really are.
# A single stopwatch reading says little: the clock has a resolution, the first calls pay for
# allocation, other processes steal the CPU, and a faster model that answers wrongly is no
# improvement. You write the core of two tools. `tinytorch.utils.benchmark` (PyTorch's
# `Timer` / `Measurement` / `Compare`) times a statement in blocks and summarises the blocks
# with robust statistics. `tinytorch.utils.benchmark.mlperf` is an MLPerf-style harness: the
# single-stream and offline scenarios, a quality target below which a result is INVALID,
# model size on disk, bootstrap confidence intervals, closed and open divisions, and a JSON
# report that records the machine. Then you benchmark LeNet-5 against its int8 and pruned
# variants, live.
#
# ## Learning objectives
#
# - Time code in blocks sized to the clock, and summarise them by median and IQR, not mean.
# - Explain single-stream (latency, p90) and offline (throughput) scenarios and when each
#   matters.
# - Put a confidence interval on a p90 or a throughput with the bootstrap.
# - Apply a quality target and MLPerf's closed/open division rules to a submission.
# - Read a benchmark report together with the system it ran on.
#
# **Textbook:** *Machine Learning Systems* ([mlsysbook.ai](https://mlsysbook.ai)), chapter
# "Benchmarking AI" (MLPerf, scenarios, metrics, reproducibility).
#
# **Prerequisites:** module 18 (acceleration: BLAS threads), module 14 (percentiles, from
# `tinytorch/profiler/model_stats.py`), modules 15 and 16 (the int8 and pruned models).

# %%
# Set-up: test the tinytorch of this workspace (the folder above modules/), not an installed
# copy. Under Jupyter, your edits to the package are reloaded before every cell.
from tito.course.lesson_setup import use_workspace

use_workspace()

# %%
import json

import numpy as np

import tinytorch
from tinytorch import nn
from tinytorch.ao.quantization import quantize_dynamic
from tinytorch.compression import prune_channels
from tinytorch.datasets import TinyDigits
from tinytorch.models import lenet5
from tinytorch.utils.benchmark import Compare, Measurement, TaskSpec, Timer
from tinytorch.utils.benchmark.mlperf import (
    Division,
    Harness,
    Report,
    bootstrap_ci,
    offline,
    single_stream,
    validate_techniques,
)
from tinytorch.utils.data import DataLoader, TensorDataset

tinytorch.manual_seed(0)


def check(name: str, condition: bool, detail: str = "") -> None:
    """Print ✓ name, or stop with ✗ and the reason."""
    assert condition, f"✗ {name}: {detail}"
    print(f"✓ {name}")


class FakeClock:
    """A clock that moves only when work runs: each call of ``work`` takes the next of
    ``durations`` seconds. With it, timings are known exactly and checks can be exact."""

    def __init__(self, durations: list[float]) -> None:
        self.durations, self.now, self.calls = durations, 0.0, 0

    def __call__(self) -> float:
        return self.now

    def work(self, _sample=None) -> None:
        self.now += self.durations[self.calls % len(self.durations)]
        self.calls += 1


# %% [markdown]
# ## The idea
#
# **Blocks.** `time.perf_counter()` has a resolution near 100 ns and costs about as much to
# read. To time a statement of 1 µs, run it `number` times between two clock reads and
# divide: the clock's error is shared by all runs. `blocked_autorange(min_run_time)` picks
# `number` as the smallest power of ten whose block takes at least `min_run_time / 10`,
# then runs blocks until their total reaches `min_run_time`. Each block gives one time per
# run, $t_i = T_i / number$.
#
# **Robust statistics.** A busy moment of the machine makes one block slow, never fast; the
# mean follows such outliers, the median does not. The spread is the interquartile range
# $IQR = p_{75} - p_{25}$ (the middle half of the blocks); PyTorch warns when it exceeds 10%
# of the median. Percentiles interpolate between ranks: $p = (n - 1) q / 100$ (module 14).
#
# **Scenarios.** MLPerf measures a system under fixed rules. *Single-stream* sends one query
# of one sample, waits for the answer, sends the next: the metric is the 90th-percentile
# latency $p_{90}$ over at least 1,024 queries (and a minimum duration), because a user
# notices the slow tail. *Offline* hands over all samples at once: the system batches them
# freely and the metric is throughput, $N / T$ samples per second. A large batch raises
# throughput and would raise a single query's latency: the two scenarios reward different
# designs.
#
# **Quality and divisions.** A result counts only if the model's accuracy reaches the
# quality target (MLPerf: 99% of the reference float model). The *closed* division runs the
# reference model with post-training optimizations only (quantization with calibration,
# fusion, batching), so systems are compared; the *open* division allows any change
# (pruning, retraining, a new architecture), so ideas are compared.
#
# **Confidence intervals.** A p90 from 1,024 queries is itself a random number. The
# percentile bootstrap estimates its spread without a formula: resample the $n$ latencies
# with replacement $B$ times, compute $p_{90}$ of each resample, and take the 2.5th and
# 97.5th percentiles of those $B$ values as the 95% interval.

# %%
timer = Timer("a @ b", setup="b = a.T.copy()", globals={"a": np.ones((64, 64))}, label="matmul")
print(timer.blocked_autorange(min_run_time=0.05))

# %% [markdown]
# ## Exercise 1: the statistics of a measurement
#
# **Write** in `tinytorch/utils/benchmark/common.py`: `Measurement.quartiles`
#
# - `Measurement.quartiles()`: return $(p_{25}, p_{50}, p_{75})$ of `self.times` with
#   `percentile` from module 14. `median` and `iqr` are built on it.

# %%
times = [1.0, 2.0, 3.0, 4.0, 10.0]
measured = Measurement(10, [t * 10 for t in times], TaskSpec("f()"))
check("times divide each block by its runs", measured.times == times)
check("median 3 (the outlier 10 does not move it)", measured.median == 3.0)
check("mean 4 (the outlier does)", measured.mean == 4.0)
check("IQR = p75 - p25 = 4 - 2", measured.iqr == 2.0)
check("an IQR of 67% of the median earns a warning", measured.has_warnings)

# %% [markdown]
# ## Exercise 2: sizing blocks
#
# **Write** in `tinytorch/utils/benchmark/timer.py`: `Timer.block_size`,
# `Timer.blocked_autorange`
#
# - `Timer.block_size(min_block_time)`: start at `number = 1`; while `self._run(number)`
#   (the seconds that `number` runs take) is below `min_block_time`, multiply by 10.
# - `Timer.blocked_autorange`: after the block size, append `self._run(number)` to a list of
#   block times until their sum reaches `min_run_time`, calling `callback(number, seconds)`
#   after each block if one is given; return `self._measurement(number, raw_times)`.

# %%
run = 2.0**-16  # about 15 µs per run, exact in binary
clock = FakeClock([run])
auto = Timer(clock.work, timer=clock).blocked_autorange(min_run_time=0.1)
check("blocks of 1,000 runs: the first power of ten above 0.01 s", auto.number_per_run == 1000)
check("seven blocks of 0.0153 s reach 0.1 s", len(auto.times) == 7)
check("the median run is the known 15 µs", auto.median == run)
try:
    Timer("1 / 0").timeit(3)
except RuntimeError as error:
    print(error)
    check("a statement that raises is named in the error", "'1 / 0' raised" in str(error))

# %% [markdown]
# ## Exercise 3: the two scenarios and their confidence intervals
#
# **Write** in `tinytorch/utils/benchmark/mlperf.py`: `single_stream`, `offline`, `bootstrap_ci`
#
# - `single_stream`: after the warm-up, loop while the elapsed time is below `max_duration`;
#   stop early once there are `min_query_count` latencies and `min_duration` has passed.
#   Each query takes the next sample (cycling through `samples`), reads the clock before and
#   after `query(sample)` and appends the difference; `elapsed` is the last reading minus
#   the start.
# - `offline`: `repeats` times, read the clock, run `predict` on every batch, append the
#   elapsed seconds to a list `seconds`.
# - `bootstrap_ci`: with `np.random.default_rng(seed)`, draw a `(resamples, n)` array of
#   indices with `rng.integers`, compute `statistic` of each resampled row, and return the
#   `(1 - confidence) / 2` and `(1 + confidence) / 2` percentiles (0..100 scale, module 14's
#   `percentile`) of those statistics.

# %%
clock = FakeClock([0.001 * (i + 1) for i in range(10)])  # queries of 1, 2, ..., 10 ms
stream = single_stream(clock.work, list(range(5)), warmup=3, clock=clock)
check("1,024 queries, MLPerf's minimum", stream.queries == 1024)
check("p90 interpolates like np.percentile", stream.p90 == np.percentile(stream.latencies, 90))
clock = FakeClock([0.5])
bounded = single_stream(clock.work, [0], max_duration=2.0, warmup=0, clock=clock)
check("a slow model stops at the time bound", bounded.queries == 4)
clock = FakeClock([0.1, 0.1, 0.05])
passes = offline(clock.work, [np.zeros(64), np.zeros(64), np.zeros(32)], 64, 4, clock=clock)
check("offline: 160 samples in 0.25 s = 640 samples/s", abs(passes.throughput - 640) < 1e-9)
values = np.random.default_rng(1).normal(10, 1, 200)
low, high = bootstrap_ci(values)
check("the 95% interval brackets the mean", low < values.mean() < high)
check("the interval is reproducible (seeded)", bootstrap_ci(values) == (low, high))

# %% [markdown]
# ## Systems analysis: LeNet-5, float against int8 and pruned
#
# Train LeNet-5 on TinyDigits for a few epochs, then make two variants with modules 15 and
# 16: dynamic int8 quantization of the Linear layers (post-training: closed division) and
# pruning half the channels (a model change: open division). First `Timer` and `Compare`
# for a single image and a batch of 64, then the harness with a quality target of 99% of
# the float model's accuracy. All numbers below are measured now, on this machine; on a
# shared machine run the cell twice and trust what repeats.


# %%
def as_images(dataset: TinyDigits) -> tuple[tinytorch.Tensor, tinytorch.Tensor]:
    return dataset.data.float().unsqueeze(1) / 255, dataset.targets  # (N, 1, 8, 8), (N,)


train_images, train_labels = as_images(TinyDigits(train=True))
test_images, test_labels = as_images(TinyDigits(train=False))
model = lenet5(8)
optimizer = tinytorch.optim.Adam(model.parameters(), lr=5e-3)
loader = DataLoader(TensorDataset(train_images, train_labels), batch_size=32, shuffle=True)
for _ in range(6):
    for images, labels in loader:
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()
model.eval()
variants = {
    "float32": (model, Division.CLOSED, []),
    "int8 (dynamic)": (
        quantize_dynamic(model, {nn.Linear}),
        Division.CLOSED,
        ["post_training_quantization"],
    ),
    "pruned 50%": (prune_channels(model, 0.5), Division.OPEN, ["channel_pruning"]),
}
for _, division, techniques in variants.values():
    validate_techniques(division, techniques)
try:
    validate_techniques(Division.CLOSED, ["channel_pruning"])
except ValueError as error:
    print(error)

results = []
with tinytorch.no_grad():
    for name, (net, _, _) in variants.items():
        for batch in (1, 64):
            timer = Timer(
                "net(x)",
                globals={"net": net, "x": test_images[:batch]},
                label="LeNet-5 forward",
                sub_label=name,
                description=f"batch {batch}",
            )
            results.append(timer.blocked_autorange(min_run_time=0.2))
compare = Compare(results)
compare.print()
check("one measurement per variant and batch", len(results) == 6)

# %%
float_accuracy = Harness(test_images, test_labels, 0.0).accuracy(model)
harness = Harness(test_images, test_labels, quality_target=0.99 * float_accuracy, max_duration=3.0)
report = Report([harness.run(name, *variant) for name, variant in variants.items()])
report.print()
data = json.loads(report.to_json())
check("every result records the system", all("cpu" in row["system"] for row in data["results"]))
check(
    "INVALID results are not ranked",
    all(row["rank"] is None for row in data["results"] if row["verdict"] == "INVALID"),
)
sizes = {row["name"]: row["model_size_bytes"] for row in data["results"]}
print(f"int8 is {sizes['float32'] / sizes['int8 (dynamic)']:.1f}x smaller on disk")

# %% [markdown]
# Read the two tables together. Dynamic int8 shrinks the file (the Linear weights are most
# of LeNet-5's parameters) but quantizes activations at run time in Python, which on a model
# this small can cost more than the float products it replaces: smaller is not faster. The
# pruned model does less arithmetic, yet without fine-tuning it may lose enough accuracy to
# fall below the quality target: then the report calls it INVALID and ranks it nowhere,
# however fast. The batch-64 column against the batch-1 column is the gap between the
# offline and single-stream scenarios: per image, a batch amortises Python's overhead per
# op. Each p90 carries a bootstrap interval; two results whose intervals overlap are not
# shown to differ.
#
# ## Reflection
#
# 1. Why does MLPerf rank single-stream by p90 rather than by mean latency? Which would a
#    garbage-collection pause every 100 queries move more?
# 2. The int8 model is smaller but perhaps slower here. Which of the costs of dynamic
#    quantization would a compiled runtime remove, and which are inherent?
# 3. The pruned model belongs to the open division. Which change would let a pruned model
#    compete in the closed division, and why does MLPerf forbid it there?
# 4. Two runs of the same model give p90 intervals that do not overlap. What in the system
#    description (threads, CPU, other load) would you check first?
