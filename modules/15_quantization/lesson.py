# %% [markdown]
# # Module 15: Quantization
#
# A trained network stores its weights as 32-bit floats, but it does not need that much
# precision to make the same decisions. Quantization stores each weight (and, in static
# quantization, each activation) as an 8-bit integer plus a shared scale: a quarter of the
# bytes, and integer arithmetic for the multiply-adds. In this module you write the affine
# quantize/dequantize formulas, the observers' choice of scale and zero point, an exact
# int8 matrix multiply on top of float BLAS, the requantization step of an int8 layer and
# the straight-through gradient of fake quantization; then you quantize a digit classifier
# three ways (dynamic, static, quantization-aware) and measure accuracy, bytes on disk and
# time.
#
# ## Learning objectives
#
# - Map reals to int8/uint8 with a scale and a zero point, and bound the round-trip error.
# - Choose qparams from observed ranges (min/max, per channel, histogram), affine or
#   symmetric, and explain `reduce_range`.
# - Multiply int8 matrices exactly with float32 BLAS, and prove when that is exact.
# - Follow one int8 layer: int32 accumulation, then requantization to 8 bits.
# - Use PyTorch's eager workflows: `quantize_dynamic`; `prepare`, calibrate, `convert`;
#   `prepare_qat` with `FakeQuantize` and the straight-through estimator.
# - Measure the real savings: bytes of saved files, accuracy on a test split, time.
#
# **Textbook:** *Machine Learning Systems* ([mlsysbook.ai](https://mlsysbook.ai)), chapter
# "Model Optimizations" (numerical precision, quantization).
#
# **Prerequisites:** module 14 (profiling, to measure), module 09 (convolution as im2col plus
# a matrix multiply), module 07 (saving with `tinytorch.save`) and module 03 (layers).

# %%
# Set-up: test the tinytorch of this workspace (the folder above modules/), not an installed
# copy. Under Jupyter, your edits to the package are reloaded before every cell.
from tito.course.lesson_setup import use_workspace

use_workspace()

# %%
import copy
import os
import tempfile
import time

import numpy as np

import tinytorch
from tinytorch import nn
from tinytorch.ao import quantization as tq
from tinytorch.ao.nn.quantized import functional as qF
from tinytorch.ao.quantization.fake_quantize import FakeQuantizeFunction
from tinytorch.datasets import TinyDigits
from tinytorch.models import mlp_classifier

rng = np.random.default_rng(0)
np.random.seed(0)
tinytorch.manual_seed(0)


def check(name: str, condition: bool, detail: str = "") -> None:
    """Print ✓ name, or stop with ✗ and the reason."""
    assert condition, f"✗ {name}: {detail}"
    print(f"✓ {name}")


# %% [markdown]
# ## The idea
#
# **Affine quantization.** Pick a scale $s > 0$ (the real size of one integer step) and a
# zero point $z$ (the integer that stands for real 0). Then
# $q = \mathrm{clamp}(\mathrm{round}(x / s) + z,\ q_{min},\ q_{max})$ and
# $\hat x = (q - z)\,s$. qint8 has $[-128, 127]$, quint8 $[0, 255]$. Inside the range
# $[(q_{min} - z)s,\ (q_{max} - z)s]$ the error $|\hat x - x|$ is at most $s/2$ (rounding);
# outside, values saturate. Example: $s = 0.1$, $z = 3$: $x = 0.26 \to 2.6 \to 3 \to 6$, and
# back $(6 - 3) \cdot 0.1 = 0.3$.
#
# **Choosing $s$ and $z$.** An observer records the range $[m, M]$ of what flows past,
# widened to contain 0. Affine: $s = (M - m)/(q_{max} - q_{min})$,
# $z = q_{min} - \mathrm{round}(m/s)$. Symmetric (weights): $s = \max(-m, M) / ((q_{max} -
# q_{min})/2)$ and $z = 0$. Per channel, each output row of a weight gets its own $s$.
#
# **An int8 layer.** With input integers $q_x$ $(s_x, z_x)$ and weights $q_w$ ($s_w$ per row,
# $z_w = 0$): $\mathrm{acc} = \sum_k (q_x - z_x) q_w$ in int32; the real output is
# $y = s_x s_w\,\mathrm{acc} + b$; requantized with the output's $(s_y, z_y)$:
# $q_y = \mathrm{clamp}(\mathrm{round}(y / s_y) + z_y)$. All multiply-adds are on integers.

# %%
x = tinytorch.tensor([-1.0, 0.0, 0.26, 9.0, 20.0])
q = tinytorch.quantize_per_tensor(x, 0.1, 3, tinytorch.qint8)
print(q)
check("0.26 -> 6 by hand", q.int_repr().tolist()[2] == 6)
check("20.0 saturates at 127", q.int_repr().tolist()[4] == 127)
check("stored as one byte per value", q.int_repr().numpy().dtype == np.int8)

# %% [markdown]
# ## Exercise 1: quantize and dequantize
#
# **Write** in `tinytorch/qtensor.py`: `quantize_array`, `dequantize_array`
#
# `quantize_array(x, inverse_scale, zero_point, qmin, qmax)`: round $x \cdot (1/s) + z$ half
# to even (`np.rint`) and clamp. `dequantize_array(q, scale, zero_point)`:
# $(q - z) \cdot s$ computed in the dtype of `scale`. The callers reproduce PyTorch's float32
# steps bit for bit (the tests compare against PyTorch on half-way values and at the edges).

# %%
values = rng.standard_normal(10_000).astype(np.float32) * 2
scale = 0.05
qt = tinytorch.quantize_per_tensor(tinytorch.tensor(values), scale, 0, tinytorch.qint8)
back = qt.dequantize().numpy()
inside = np.abs(values) <= 127 * scale
error = np.abs(back - values)[inside].max()
print(f"largest round-trip error inside the range: {error:.5f} (scale / 2 = {scale / 2})")
check("round trip errs by at most scale / 2", error <= scale / 2 + 1e-6)
check("half to even: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2",
      tinytorch.quantize_per_tensor(tinytorch.tensor([0.5, 1.5, 2.5]), 1.0, 0,
                                    tinytorch.qint8).int_repr().tolist() == [0, 2, 2])  # fmt: skip
row_sizes = np.array([[0.1], [1.0], [10.0]])
weight = tinytorch.tensor((rng.standard_normal((3, 4)) * row_sizes).astype(np.float32))
per_row = tinytorch.tensor(np.abs(weight.numpy()).max(1) / 127.5)
zeros = tinytorch.zeros(3).long()
qw = tinytorch.quantize_per_channel(weight, per_row, zeros, 0, tinytorch.qint8)
check("per-channel: every row uses its full range",
      np.abs(qw.int_repr().numpy().astype(int)).max(1).min() >= 127)  # fmt: skip

# %% [markdown]
# ## Exercise 2: qparams from an observer
#
# **Write** in `tinytorch/ao/quantization/observer.py`: `calculate_qparams`
#
# From float32 arrays `min_val`, `max_val` (one entry per channel): widen to include 0,
# then the affine or symmetric formula of the idea; the scale is at least `eps`; zero points
# are clamped to the range. Observers call it; `MinMaxObserver`, `PerChannelMinMaxObserver`
# and `HistogramObserver` differ only in the range they pass.

# %%
observer = tq.MinMaxObserver()
observer(tinytorch.tensor([-1.0, 3.0]))
scale_t, zero_t = observer.calculate_qparams()
print("MinMaxObserver on [-1, 3]:", scale_t, zero_t)
check("affine quint8: scale = 4 / 255", np.isclose(scale_t.item(), 4 / 255))
check("affine quint8: zero point = round(1 / scale) = 64", zero_t.item() == 64)
symmetric = tq.MinMaxObserver(dtype=tinytorch.qint8, qscheme=tinytorch.per_tensor_symmetric)
symmetric(tinytorch.tensor([-1.0, 3.0]))
check("symmetric qint8: zero point 0, scale 3 / 127.5",
      symmetric.calculate_qparams()[1].item() == 0
      and np.isclose(symmetric.calculate_qparams()[0].item(), 3 / 127.5))  # fmt: skip
check("reduce_range: 7 bits, [0, 127]", tq.MinMaxObserver(reduce_range=True).quant_max == 127)

# %% [markdown]
# ## Exercise 3: an exact int8 matrix multiply on float BLAS
#
# **Write** in `tinytorch/ao/nn/quantized/functional.py`: `int_matmul`
#
# NumPy has no integer BLAS: an int32 `@` runs a plain loop. float32 BLAS is far faster and
# is exact on integers while every partial sum stays within $2^{24}$. With
# $A = \max|a|$, $B = \max|b|$, any partial sum over $k$ columns is at most $kAB$, so cut $K$
# into chunks of $k = \lfloor 2^{24} / (AB) \rfloor$ columns, multiply each chunk in float32
# and add the chunks' (exact) results in int32.

# %%
large = rng.integers(100, 128, (4, 10_000)).astype(np.int8)  # sums reach 1.6e8 > 2^24
large_b = rng.integers(100, 128, (10_000, 3)).astype(np.int8)
exact = large.astype(np.int64) @ large_b.astype(np.int64)
one_float32 = (large.astype(np.float32) @ large_b.astype(np.float32)).astype(np.int64)
print(f"entries one float32 matmul gets wrong: {int((one_float32 != exact).sum())} of 12")
check("int_matmul is exact", np.array_equal(qF.int_matmul(large, large_b), exact))
a8 = rng.integers(-128, 128, (64, 1024)).astype(np.int8)
b8 = rng.integers(-128, 128, (1024, 128)).astype(np.int8)
check(
    "exact on random int8 too",
    np.array_equal(qF.int_matmul(a8, b8), a8.astype(np.int64) @ b8.astype(np.int64)),
)

# %% [markdown]
# ## Exercise 4: requantization
#
# **Write** in `tinytorch/ao/nn/quantized/functional.py`: `requantize`
#
# From int32 accumulators: multiply by $s_x s_w$ (per output channel), add the float bias,
# and quantize with the output's scale and zero point (`quantize_array`).

# %%
x_q = tinytorch.quantize_per_tensor(tinytorch.randn(4, 8), 0.05, 60, tinytorch.quint8)
w_q = tinytorch.quantize_per_channel(
    tinytorch.randn(3, 8) * 0.2, tinytorch.tensor([0.002, 0.003, 0.004]),
    tinytorch.zeros(3).long(), 0, tinytorch.qint8,
)  # fmt: skip
bias = np.array([0.1, -0.2, 0.3], np.float32)
y_q = qF.linear(x_q, w_q, bias, 0.02, 64)
reference = x_q.dequantize().numpy() @ w_q.dequantize().numpy().T + bias
steps = np.abs(y_q.dequantize().numpy() - np.clip(reference, -64 * 0.02, 191 * 0.02)) / 0.02
check("int8 linear = float math on the dequantized values, within one step", steps.max() <= 1)

# %% [markdown]
# ## Exercise 5: the straight-through estimator
#
# **Write** in `tinytorch/ao/quantization/fake_quantize.py`: `FakeQuantizeFunction.backward`
#
# Forward quantizes and dequantizes at once (the model stays float but sees the rounding).
# Rounding has zero derivative almost everywhere; the STE passes the gradient through
# unchanged where $x$ was inside the range and blocks it (0) where $x$ was clamped.

# %%
xs = tinytorch.tensor([-3.0, -0.26, 0.26, 3.0], requires_grad=True)
ys = FakeQuantizeFunction.apply(xs, np.float32(0.1), np.float32(0.0), -10, 10)
ys.sum().backward()
print("fake-quantized:", ys.detach().numpy(), "gradient:", xs.grad.numpy())
check("STE: gradient 1 inside, 0 where clamped", xs.grad.numpy().tolist() == [0, 1, 1, 0])

# %% [markdown]
# ## Quantizing a digit classifier three ways
#
# A small MLP on TinyDigits (8x8 digits that ship with the package), trained for a few
# seconds. Then: `quantize_dynamic` (int8 weights, activations quantized per batch);
# static post-training quantization (`QuantStub`/`DeQuantStub`, fused Linear+ReLU, observers,
# calibration on training images, `convert`); and quantization-aware training.

# %%
train, test = TinyDigits(train=True), TinyDigits(train=False)
train_x, train_y = (train.data.float() / 255).reshape(-1, 64), train.targets
test_x, test_y = (test.data.float() / 255).reshape(-1, 64), test.targets


def fit(model: nn.Module, epochs: int) -> nn.Module:
    optimizer = tinytorch.optim.Adam(model.parameters(), lr=5e-3)
    for _ in range(epochs):
        order = np.random.permutation(len(train_y))
        for start in range(0, len(order), 64):
            batch = tinytorch.tensor(order[start : start + 64])
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(train_x[batch]), train_y[batch]).backward()
            optimizer.step()
    return model.eval()


def accuracy(model: nn.Module) -> float:
    with tinytorch.no_grad():
        return 100 * float((model(test_x).argmax(1) == test_y).float().mean())


def saved_bytes(model: nn.Module) -> int:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.tt")
        tinytorch.save(model.state_dict(), path)
        return os.path.getsize(path)


start = time.perf_counter()
mlp = fit(mlp_classifier(64, 256), epochs=3)
print(f"trained in {time.perf_counter() - start:.1f} s")

dynamic = tq.quantize_dynamic(mlp, {nn.Linear}, dtype=tinytorch.qint8)

static_model = nn.Sequential(tq.QuantStub(), *mlp, tq.DeQuantStub()).eval()
static_model = tq.fuse_modules(static_model, [["1", "2"], ["3", "4"]])
static_model.qconfig = tq.get_default_qconfig("x86")
prepared = tq.prepare(static_model)
try:
    tq.convert(prepared)
except RuntimeError as error:
    print("convert before calibration:", str(error)[:90], "...")
with tinytorch.no_grad():
    prepared(train_x[:512])  # calibration: observers record the activation ranges
static = tq.convert(prepared)
print(static)

# QAT fine-tunes the trained float model with fake quantization in the loop
qat_model = nn.Sequential(tq.QuantStub(), *copy.deepcopy(mlp), tq.DeQuantStub())
qat_model.qconfig = tq.get_default_qat_qconfig("x86")
qat = tq.convert(fit(tq.prepare_qat(qat_model.train()), epochs=1))

# %% [markdown]
# ## Systems analysis: bytes, accuracy and time, measured
#
# Sizes are the bytes of files written by `tinytorch.save(model.state_dict(), path)`; the
# accuracy is on the 500 test digits; the time is one forward pass over them. Each saved
# tensor costs about 250 bytes of zip and `.npy` headers besides its data, which is why a
# model this small shrinks a little less than 4x.

# %%
float_bytes, float_accuracy = saved_bytes(mlp), accuracy(mlp)
print(f"{'model':22}{'bytes on disk':>14}{'smaller':>9}{'accuracy':>10}{'forward ms':>12}")
rows = {"float32": mlp, "dynamic int8": dynamic, "static int8": static, "QAT int8": qat}
results = {}
for name, model in rows.items():
    start = time.perf_counter()
    score = accuracy(model)
    milliseconds = 1e3 * (time.perf_counter() - start)
    size = saved_bytes(model)
    results[name] = (size, score)
    print(f"{name:22}{size:>14,}{float_bytes / size:>8.2f}x{score:>9.1f}%{milliseconds:>12.1f}")
check("dynamic int8 is >= 3.5x smaller on disk", float_bytes / results["dynamic int8"][0] >= 3.5)
check("dynamic int8 within 0.5 points", results["dynamic int8"][1] >= float_accuracy - 0.5)
check("static int8 within 1 point", results["static int8"][1] >= float_accuracy - 1.0)
with tempfile.TemporaryDirectory() as folder:
    tinytorch.save(static.state_dict(), os.path.join(folder, "static.tt"))
    reloaded = tinytorch.load(os.path.join(folder, "static.tt"))
check("the saved file holds int8 weights", reloaded["1.weight_int"].dtype is tinytorch.int8)

print(f"\n{'int8 GEMM (64, 1024) @ (1024, 128)':40}{'ms':>8}")
for name, way in {
    "NumPy int32 matmul": lambda: a8.astype(np.int32) @ b8.astype(np.int32),
    "int_matmul (float32 BLAS, chunked)": lambda: qF.int_matmul(a8, b8),
}.items():
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        way()
        runs.append(1e3 * (time.perf_counter() - start))
    print(f"{name:40}{sorted(runs)[1]:>8.1f}")  # the median of 3

# %% [markdown]
# Read the table. Weights shrink 4x; what is left is the float biases, the per-channel
# scales and the file's headers. The int8 models are not faster here: their layers are
# small, so converting activations to integers and back costs as much as the matrix
# multiplies save. The int8 GEMM itself shows the real systems point: NumPy's integer
# matmul is a plain loop, while float32 BLAS on the same integers is many times faster and,
# chunked so that no partial sum passes $2^{24}$, exact. `benchmarks/quantization.py` runs
# the same measurements on MNIST (LeNet-5 static, the 784-256 MLP dynamic).
#
# ## Reflection
#
# 1. Why are weights quantized symmetrically (zero point 0) and activations affinely? What
#    would a nonzero weight zero point add to every output of an int8 layer?
# 2. An observer saw activations in [-0.1, 40] except one batch that reached 400. What
#    happens to the resolution of every other value? How does a histogram observer help?
# 3. Prove the chunk size of `int_matmul` for uint8 inputs with zero point 128 times int8
#    weights. How long may K be before even the int32 total overflows?
# 4. Why must the straight-through estimator block the gradient where $x$ was clamped?
# 5. A model is memory-bound at batch 1 and compute-bound at batch 256. Where does int8
#    help more, and why?
