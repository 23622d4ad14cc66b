# %% [markdown]
# # Module 09: Spatial: Convolution and Pooling
#
# Images have structure a dense layer ignores: nearby pixels belong together, and a cat is a
# cat wherever it sits. A convolution slides one small kernel over the whole image, so it
# shares weights across positions; pooling shrinks the image; batch normalization keeps the
# activations of deep stacks well scaled. In this module you write them all, on NumPy, with
# their gradients, and you make convolution fast by turning it into one matrix multiply.
#
# ## Learning objectives
#
# - Compute the output size of a convolution or pooling from kernel, stride, padding and
#   dilation.
# - Build im2col with stride tricks (a view, no loop) and express a convolution as one matmul.
# - Write max, average and adaptive average pooling, forward and backward.
# - Compute batch-norm statistics per channel and its closed-form gradient.
# - Pad with constant, reflect, replicate and circular modes.
# - Measure the memory cost of im2col, the FLOPs of a conv layer, and the speed-up over loops.
#
# **Textbook:** *Machine Learning Systems* ([mlsysbook.ai](https://mlsysbook.ai)), chapter
# "DNN Architectures" (convolutional networks, their compute and memory patterns).
#
# **Prerequisites:** module 05 (autograd `Function`s with `forward`/`backward`), module 03
# (layers and `Parameter`s) and module 08 (image batches of shape (N, C, H, W)).

# %%
# Set-up: test the tinytorch of this workspace (the folder above modules/), not an installed
# copy. Under Jupyter, your edits to the package are reloaded before every cell.
from tito.course.lesson_setup import use_workspace

use_workspace()

# %%
import time

import numpy as np

import tinytorch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.ops.conv import (
    batch_last_columns,
    grouped_columns,
    im2col,
    output_size,
    sliding_windows,
)


def check(name: str, condition: bool, detail: str = "") -> None:
    """Print ✓ name, or stop with ✗ and the reason."""
    assert condition, f"✗ {name}: {detail}"
    print(f"✓ {name}")


def numeric_grad(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar f(x) for a float64 array x."""
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        saved = x[index]
        x[index] = saved + eps
        plus = f(x)
        x[index] = saved - eps
        minus = f(x)
        x[index] = saved
        grad[index] = (plus - minus) / (2 * eps)
    return grad


# %% [markdown]
# ## The idea
#
# A 2-D convolution of x (N, C, H, W) with weights W (O, C, kh, kw) and bias b (O,):
#
# $$y[n, o, i, j] = b[o] + \sum_{c, a, b'} W[o, c, a, b']\,
#   x_p[n, c, i s_h + a d_h, j s_w + b' d_w]$$
#
# where $x_p$ is x padded by $p$, $s$ the stride and $d$ the dilation. The output size is
#
# $$OH = \left\lfloor \frac{H + 2p - d (k - 1) - 1}{s} \right\rfloor + 1.$$
#
# **im2col**: copy every window into a column of length $K = C k_h k_w$; there are
# $L = OH \cdot OW$ windows. The whole layer is then one matrix product
# $W_{(O, K)} \cdot \text{cols}_{(K, L)}$, the operation BLAS runs fastest.
#
# **Pooling** takes the max (or mean) of each window of each channel separately: no weights.
# **Batch norm** standardizes each channel with the mean and (biased) variance over the batch
# and all positions, $\hat x = (x - \mu_c) / \sqrt{\sigma_c^2 + \epsilon}$, then
# $y = \gamma_c \hat x + \beta_c$.
#
# Worked example: a 4 x 4 image, 3 x 3 kernel, stride 1, no padding: $OH = (4 - 2 - 1) + 1
# = 2$, so 4 windows of 9 pixels: cols is 9 x 4, 36 numbers copied from 16.

# %%
x_small = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
check("output size (4 - 2 - 1) // 1 + 1 = 2", output_size(4, 3, 1, 1) == 2)
check("with padding 1, stride 2: (6 - 3) // 2 + 1 = 2", output_size(6, 3, 2, 1) == 2)

# %% [markdown]
# ## Exercise 1: windows, im2col and the convolution
#
# **Write** in `tinytorch/ops/conv.py`: `sliding_windows`, `im2col`, `batch_last_columns`,
# `kernel_taps`, `input_grad`, `grouped_columns`, `Conv2d.forward`, `Conv2d.backward`
#
# - `sliding_windows(x, kernel, stride, dilation)`: `np.lib.stride_tricks.as_strided` view of
#   shape (N, C, OH, OW, kh, kw); output steps are `stride` input strides, kernel taps are
#   `dilation` strides. Pass `writeable=False`.
# - `im2col`: transpose the windows to (N, C, kh, kw, OH, OW) and reshape to
#   (N, C, kh * kw, OH, OW): this is where the copy happens.
# - `batch_last_columns`: the same columns for the whole batch as one matrix
#   (C * kh * kw, OH * OW * N): copy x to (C, H, W, N) order, take the windows of that copy
#   and reshape. Small images use it (see the systems analysis).
# - `kernel_taps`: for each tap (a, b), yield `(a * kw + b, rows, cols)` with the slices that
#   tap reads in every window at once.
# - `input_grad`: for each tap, send $W[:, :, a, b]^T G$ back onto that tap's strided view.
# - `grouped_columns`: `im2col` reshaped to (N, g, K, L), or `batch_last_columns` reshaped to
#   (g, K, L * N), for K = C/g * kh * kw and L = OH * OW.
# - `Conv2d.forward`: pad, `grouped_columns` (batch last below `BATCH_LAST_BELOW` output
#   pixels), `np.matmul` with the weights reshaped to (g, O/g, K), back to (N, O, OH, OW), add
#   the bias; save the padded input. `Conv2d.backward`: $dW = \sum_n G\,\text{cols}^T$,
#   $db = \sum G$, $dx$ from `input_grad`, cropped.

# %%
windows = sliding_windows(x_small, (3, 3), (1, 1), (1, 1))
check("a window view has shape (N, C, OH, OW, kh, kw)", windows.shape == (1, 1, 2, 2, 3, 3))
check(
    "window (1, 0) is rows 1..3, cols 0..2",
    np.array_equal(windows[0, 0, 1, 0], x_small[0, 0, 1:4, 0:3]),
)
check("the view shares memory with x (no copy)", np.shares_memory(windows, x_small))
cols = im2col(x_small, (3, 3), (1, 1), (1, 1))
check("im2col: (N, C, kh * kw, OH, OW) = (1, 1, 9, 2, 2)", cols.shape == (1, 1, 9, 2, 2))
two = np.stack([x_small[0], 10 * x_small[0]])  # (2, 1, 4, 4): a second image, 10x the first
wide = batch_last_columns(two, (3, 3), (1, 1), (1, 1))
check("batch last: (C * kh * kw, OH * OW * N) = (9, 8)", wide.shape == (9, 8), str(wide.shape))
check(
    "batch last: images side by side in each row",
    np.array_equal(wide[:, 0::2], cols.reshape(9, 4))
    and np.array_equal(wide[:, 1::2], 10 * wide[:, 0::2]),
)

rng = np.random.default_rng(0)
x_np = rng.standard_normal((2, 3, 6, 5))
w_np = rng.standard_normal((4, 3, 3, 3))
b_np = rng.standard_normal(4)


def conv_loops(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, pad: int):
    """The definition, one output pixel at a time."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, _, hp, wp = xp.shape
    o, _, kh, kw = w.shape
    oh, ow = (hp - kh) // stride + 1, (wp - kw) // stride + 1
    out = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out


x = tinytorch.tensor(x_np, requires_grad=True)
w = tinytorch.tensor(w_np, requires_grad=True)
b = tinytorch.tensor(b_np, requires_grad=True)
y = F.conv2d(x, w, b, stride=2, padding=1)
check(
    "conv2d == the loop definition",
    np.allclose(y.detach().numpy(), conv_loops(x_np, w_np, b_np, 2, 1)),
)
check("output shape (2, 4, 3, 3)", y.shape == (2, 4, 3, 3), str(y.shape))
y.sum().backward()
grad_w = numeric_grad(lambda v: conv_loops(x_np, v, b_np, 2, 1).sum(), w_np.copy())
grad_x = numeric_grad(lambda v: conv_loops(v, w_np, b_np, 2, 1).sum(), x_np.copy())
check("d loss / d W matches finite differences", np.allclose(w.grad.numpy(), grad_w, atol=1e-5))
check("d loss / d x matches finite differences", np.allclose(x.grad.numpy(), grad_x, atol=1e-5))
check("d loss / d b = number of output pixels", np.allclose(b.grad.numpy(), 2 * 3 * 3))

# %% [markdown]
# ## Exercise 2: the Conv2d layer
#
# **Write** in `tinytorch/nn/modules/conv.py`: `_ConvNd.__init__`, `_ConvNd.reset_parameters`
#
# - `__init__`: store the settings (`kernel_size`, `padding`, `dilation` as tuples, or the
#   padding string), make `weight` a `Parameter` of shape (O, C / groups, *kernel) and `bias`
#   (O,) or register it as `None`; then call `reset_parameters`.
# - `reset_parameters`: `init.kaiming_uniform_(weight, a=sqrt(5))` and a bias uniform in
#   $\pm 1/\sqrt{\text{fan\_in}}$, as PyTorch does.

# %%
tinytorch.manual_seed(0)
conv = nn.Conv2d(3, 8, kernel_size=3, padding=1)
check(
    "weight (8, 3, 3, 3) and bias (8,)",
    conv.weight.shape == (8, 3, 3, 3) and conv.bias.shape == (8,),
)
bound = 1 / np.sqrt(3 * 3 * 3)
check("bias within +-1/sqrt(fan_in)", np.abs(conv.bias.detach().numpy()).max() <= bound)
check(
    "padding=1 keeps 6 x 5", conv(tinytorch.tensor(x_np.astype(np.float32))).shape == (2, 8, 6, 5)
)
check("bias=False registers None", nn.Conv2d(3, 8, 3, bias=False).bias is None)

# %% [markdown]
# ## Exercise 3: pooling
#
# **Write** in `tinytorch/ops/pooling.py`: `window_max`, `MaxPool2d.forward`,
# `MaxPool2d.backward`, `max_pool_indices`, `average_divisor`, `AvgPool2d.forward`,
# `AvgPool2d.backward`, `adaptive_pool_matrix`, `AdaptiveAvgPool2d.forward`,
# `AdaptiveAvgPool2d.backward`
#
# - `window_max`: pad with $-\infty$, then keep a running maximum over the kernel taps, and
#   the tap that won (ties go to the first; NaN propagates).
# - `MaxPool2d.backward`: each window's gradient goes only to its winner.
#   `max_pool_indices`: the winner as a flat `row * W + col` in its plane.
# - `average_divisor`: how many pixels each window averages: pool a plane of ones that
#   covers the input (plus the padding, when padding counts). With `ceil_mode` the last
#   window may hang over the edge, so the count varies by window.
# - `AvgPool2d`: window sums over im2col divided by the divisor; backward spreads
#   `grad / divisor` over each window.
# - `adaptive_pool_matrix(n, m)`: row i averages inputs `[floor(i n / m), ceil((i+1) n / m))`;
#   `AdaptiveAvgPool2d` is then $A_h\,x\,A_w^T$, and its backward the transposes.

# %%
img = tinytorch.tensor(x_small, requires_grad=True)
pooled = F.max_pool2d(img, 2)
check("max pool 2x2 of 0..15", pooled.detach().numpy().ravel().tolist() == [5.0, 7.0, 13.0, 15.0])
pooled.sum().backward()
winners = np.zeros(16)
winners[[5, 7, 13, 15]] = 1
check("max-pool gradient goes to the winners", np.array_equal(img.grad.numpy().ravel(), winners))
_, indices = F.max_pool2d(img, 2, return_indices=True)
check(
    "return_indices gives flat positions",
    indices.detach().numpy().ravel().tolist() == [5, 7, 13, 15],
)
avg = F.avg_pool2d(tinytorch.tensor(x_small), 2)
check(
    "avg pool = mean of each window",
    avg.detach().numpy().ravel().tolist() == [2.5, 4.5, 10.5, 12.5],
)
gap = F.adaptive_avg_pool2d(tinytorch.tensor(x_np), 1)
check(
    "adaptive_avg_pool2d(x, 1) is the global mean",
    np.allclose(gap.detach().numpy()[..., 0, 0], x_np.mean(axis=(2, 3))),
)
odd = F.adaptive_avg_pool2d(tinytorch.tensor(x_np), (4, 2))
check(
    "adaptive windows may overlap (6 -> 4 rows)",
    odd.shape == (2, 3, 4, 2)
    and np.isclose(odd.detach().numpy()[0, 0, 1, 0], x_np[0, 0, 1:3, 0:3].mean()),
)

# %% [markdown]
# ## Exercise 4: batch normalization
#
# **Write** in `tinytorch/ops/normalization.py`: `standardize`, `standardize_backward`,
# `BatchNorm.forward`, `BatchNorm.backward`
#
# - `standardize(x, axes, eps)`: mean, biased variance, `inv_std = 1 / sqrt(var + eps)` and
#   $\hat x$, reusing the `x - mean` array for $\hat x$.
# - `standardize_backward`: $\text{inv\_std}\,(g - \bar g - \hat x\,\overline{g \hat x})$,
#   means over the same axes.
# - `BatchNorm.forward`: in training use the batch statistics over every axis but 1 and
#   update the running mean and the *unbiased* running variance with `momentum`; otherwise
#   use the running statistics. Then scale and shift.
# - `BatchNorm.backward`: $d\gamma = \sum g\,\hat x$, $d\beta = \sum g$; d x is
#   `standardize_backward` of $g\gamma$ in training, and just $g\gamma\,$inv_std in
#   evaluation, where the statistics are constants.
#
# **Write** in `tinytorch/nn/modules/normalization.py`: `_BatchNorm.__init__`,
# `_BatchNorm.forward`
#
# - `__init__`: `weight` (ones) and `bias` (zeros) when `affine`; buffers `running_mean`,
#   `running_var`, `num_batches_tracked` when `track_running_stats`.
# - `forward`: count the batch, pick the momentum (`None` means a cumulative average) and
#   call `F.batch_norm` with batch statistics in training mode.

# %%
bn = nn.BatchNorm2d(3)
bx_np = rng.standard_normal((4, 3, 5, 5)) * 3 + 2
out = bn(tinytorch.tensor(bx_np.astype(np.float32))).detach().numpy()
mean_c = bx_np.mean(axis=(0, 2, 3))
var_c = bx_np.var(axis=(0, 2, 3))
expected = (bx_np - mean_c[:, None, None]) / np.sqrt(var_c[:, None, None] + 1e-5)
check("batch norm == per-channel NumPy standardization", np.allclose(out, expected, atol=1e-4))
m = 4 * 5 * 5
check(
    "running mean = 0.9 * 0 + 0.1 * batch mean",
    np.allclose(bn.running_mean.detach().numpy(), 0.1 * mean_c, atol=1e-5),
)
check(
    "running var uses the unbiased variance",
    np.allclose(bn.running_var.detach().numpy(), 0.9 + 0.1 * var_c * m / (m - 1), atol=1e-4),
)
bn.eval()
evaluated = bn(tinytorch.tensor(bx_np.astype(np.float32))).detach().numpy()
check("eval mode uses the running statistics", not np.allclose(evaluated, out, atol=1e-2))

bxs = rng.standard_normal((3, 2, 2, 2))
probe = rng.standard_normal(bxs.shape)


def bn_loss(v: np.ndarray) -> float:
    mu, var = v.mean(axis=(0, 2, 3), keepdims=True), v.var(axis=(0, 2, 3), keepdims=True)
    return float(((v - mu) / np.sqrt(var + 1e-5) * probe).sum())


bt = tinytorch.tensor(bxs, requires_grad=True)
(F.batch_norm(bt, None, None, training=True) * tinytorch.tensor(probe)).sum().backward()
check(
    "batch-norm gradient matches finite differences",
    np.allclose(bt.grad.numpy(), numeric_grad(bn_loss, bxs.copy()), atol=1e-5),
)

# %% [markdown]
# ## Exercise 5: padding
#
# **Write** in `tinytorch/ops/padding.py`: `constant_pad`, `ConstantPad.forward`,
# `ConstantPad.backward`, `source_index`, `IndexPad.forward`, `IndexPad.backward`
#
# - `constant_pad`: `np.pad` the positive widths, then slice away negative ones (a crop).
#   `ConstantPad.backward` slices the gradient back to the input's shape.
# - `source_index(size, before, after, mode)`: for positions $p \in [-a, n + b)$ the index
#   each reads: clip (replicate), mirror (reflect) or $p \bmod n$ (circular).
# - `IndexPad`: gather with those index arrays; backward adds with `np.add.at`, since an edge
#   entry is read several times.

# %%
row = tinytorch.tensor(np.array([[1.0, 2.0, 3.0]]), requires_grad=True)
modes = {
    "constant": [0, 0, 1, 2, 3, 0, 0],
    "reflect": [3, 2, 1, 2, 3, 2, 1],
    "replicate": [1, 1, 1, 2, 3, 3, 3],
    "circular": [2, 3, 1, 2, 3, 1, 2],
}
for mode, want in modes.items():
    got = F.pad(row, (2, 2), mode=mode).detach().numpy().ravel().tolist()
    check(f"pad {mode}: {want}", got == want, str(got))
F.pad(row, (2, 2), mode="replicate").sum().backward()
check("replicate backward: edges collect 3 each", row.grad.numpy().ravel().tolist() == [3, 1, 3])
check("negative widths crop", F.pad(row, (-1, 0)).detach().numpy().ravel().tolist() == [2.0, 3.0])

# %% [markdown]
# ## Systems analysis
#
# Three live measurements on a LeNet-like first layer: a batch of 32 images 3 x 32 x 32,
# 16 output channels, 5 x 5 kernels, stride 1, padding 2 (so OH = OW = 32).
#
# - **Memory**: im2col stores $N \cdot C k_h k_w \cdot OH \cdot OW$ numbers, about $k_h k_w$
#   times the input; a direct convolution reads the input in place.
# - **FLOPs**: each output element is $C k_h k_w$ multiply-adds, so
#   $2 \cdot N \cdot O \cdot OH \cdot OW \cdot C k_h k_w$ FLOPs.
# - **Time**: the im2col + matmul path vs the loop over output pixels above (on a smaller
#   input, since the loop is slow).

# %%
n, c, h, wd, o, k = 32, 3, 32, 32, 16, 5
xs = rng.standard_normal((n, c, h, wd)).astype(np.float32)
ws = rng.standard_normal((o, c, k, k)).astype(np.float32)
input_bytes = xs.nbytes
cols_bytes = im2col(np.pad(xs, ((0, 0), (0, 0), (2, 2), (2, 2))), (k, k), (1, 1), (1, 1)).nbytes
print(
    f"input: {input_bytes / 2**20:.2f} MiB; im2col columns: {cols_bytes / 2**20:.2f} MiB "
    f"({cols_bytes / input_bytes:.1f}x, kh * kw = {k * k})"
)
check("im2col is about kh * kw times the input", 20 < cols_bytes / input_bytes <= k * k)

flops = 2 * n * o * h * wd * c * k * k
xt, wt = tinytorch.tensor(xs), tinytorch.tensor(ws)
F.conv2d(xt, wt, padding=2)  # warm up
repeats = 5
start = time.perf_counter()
for _ in range(repeats):
    F.conv2d(xt, wt, padding=2)
seconds = (time.perf_counter() - start) / repeats
print(
    f"conv layer: {flops / 1e6:.1f} MFLOPs per forward, {seconds * 1e3:.2f} ms "
    f"-> {flops / seconds / 1e9:.2f} GFLOP/s"
)

small_x, small_w = xs[:4, :, :16, :16].astype(np.float64), ws.astype(np.float64)
start = time.perf_counter()
slow = conv_loops(small_x, small_w, np.zeros(o), 1, 2)
t_loop = time.perf_counter() - start
start = time.perf_counter()
fast = F.conv2d(tinytorch.tensor(small_x), tinytorch.tensor(small_w), padding=2).detach().numpy()
t_fast = time.perf_counter() - start
print(
    f"(4, 3, 16, 16) input: pixel loop {t_loop * 1e3:.2f} ms, im2col + matmul "
    f"{t_fast * 1e3:.2f} ms ({t_loop / t_fast:.1f}x; timings vary run to run)"
)
check("both paths agree", np.allclose(slow, fast))

# %% [markdown]
# **Layout.** Image by image, the forward pass is N products (O, K) @ (K, L), one per image.
# With few output pixels per image (LeNet-5's second layer: 6 x 14 x 14 in, 16 x 10 x 10 out,
# L = 100) each product is small, and `im2col` copies rows of only OW = 10 numbers. Batch
# last, it is one product (O, K) @ (K, L * N), and the copy moves rows of OW * N numbers.
# Time both on that layer, columns and product together:

# %%
x2 = rng.standard_normal((64, 6, 14, 14)).astype(np.float32)
k2 = rng.standard_normal((1, 16, 6 * 5 * 5)).astype(np.float32)  # (g, O/g, K)


def layer_two_forward(batch_last: bool) -> np.ndarray:
    """Columns and product of LeNet-5's second layer in one layout."""
    return np.matmul(k2, grouped_columns(x2, (5, 5), (1, 1), (1, 1), 1, batch_last))


for batch_last in (False, True):
    layer_two_forward(batch_last)  # warm up
    start = time.perf_counter()
    for _ in range(20):
        product = layer_two_forward(batch_last)
    seconds = (time.perf_counter() - start) / 20
    name = "batch last" if batch_last else "image by image"
    print(f"{name:>15}: {product.shape} in {seconds * 1e3:.2f} ms")
first, last = layer_two_forward(False), layer_two_forward(True)  # (N, 1, O, L), (1, O, L * N)
same = first[:, 0].transpose(1, 2, 0).reshape(16, -1)  # (O, L * N)
check("both layouts compute the same numbers", np.allclose(same, last[0], atol=1e-3))

# %% [markdown]
# Read the numbers: im2col trades memory (about 25x the input here) for one large matrix
# multiply that BLAS runs near peak; the pixel loop does the same arithmetic in hundreds of
# small NumPy calls, each paying Python overhead. Compare your GFLOP/s with the dense-layer
# matmul of module 03. The layout timing shows the other half of speed: the same
# arithmetic, ordered differently in memory, runs at a different speed.
#
# ## Reflection
#
# 1. A 3 x 3 convolution with 64 input and 64 output channels on a 56 x 56 image: how many
#    parameters, how many FLOPs, and how large are its im2col columns for a batch of 32?
# 2. Why does the reference save the padded input for backward and rebuild the columns,
#    instead of keeping the columns from forward? When would keeping them be the better
#    trade?
# 3. `Conv2d` works batch last below `BATCH_LAST_BELOW` output pixels per image. Time both
#    layouts on LeNet-5's first layer (1 x 28 x 28, padding 2, L = 784): which wins, and why
#    might the answer change on another machine?
# 4. Max pooling sends the gradient to one pixel per window; average pooling spreads it.
#    How does that change what earlier layers learn?
# 5. Batch norm's statistics depend on the batch. What happens with a batch of one, and why
#    must evaluation mode use the running statistics?
