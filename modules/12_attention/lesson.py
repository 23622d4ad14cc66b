# %% [markdown]
# # Module 12: Attention
#
# Attention lets every token look at every other token and take a weighted average of what
# it finds, with weights computed from the data itself. In this module you write scaled
# dot-product attention as one fused operation (forward and backward), the masks that hide
# the future or padding, a softmax that never overflows, and multi-head attention with
# PyTorch's parameter layout.
#
# ## Learning objectives
#
# - Compute $\mathrm{softmax}(QK^T/\sqrt{d})V$ by hand and explain the $1/\sqrt{d}$ scale.
# - Apply boolean and additive masks, including the causal mask, and handle a fully masked
#   row without NaN.
# - Derive the backward pass of attention through softmax's Jacobian-vector product.
# - Split and merge heads with reshapes and transposes.
# - Measure how attention's memory grows with the square of the sequence length.
#
# **Textbook:** *Machine Learning Systems* ([mlsysbook.ai](https://mlsysbook.ai)), chapter
# "DNN Architectures" (attention mechanisms, transformers).
#
# **Prerequisites:** module 11 (embeddings turn tokens into the vectors attention mixes),
# autograd (05) for the backward pass, and matrix products with batch axes (01).

# %%
# Set-up: test the tinytorch of this workspace (the folder above modules/), not an installed
# copy. Under Jupyter, your edits to the package are reloaded before every cell.
from tito.course.lesson_setup import use_workspace

use_workspace()

# %%
import math
import time

import numpy as np

import tinytorch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.autograd import gradcheck
from tinytorch.ops.attention import masked_scores, safe_softmax

f64 = tinytorch.float64
rng = np.random.default_rng(0)


def check(name: str, condition: bool, detail: str = "") -> None:
    """Print ✓ name, or stop with ✗ and the reason."""
    assert condition, f"✗ {name}: {detail}"
    print(f"✓ {name}")


def leaf(*shape: int) -> tinytorch.Tensor:
    return tinytorch.tensor(rng.standard_normal(shape), dtype=f64, requires_grad=True)


def reference_attention(q, k, v, mask=None):
    """Attention in plain NumPy; mask is bool, True = may attend."""
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    scores = scores - scores.max(-1, keepdims=True)
    p = np.exp(scores)
    return (p / p.sum(-1, keepdims=True)) @ v


# %% [markdown]
# ## The idea
#
# **Scaled dot-product attention.** Queries $Q$ $(L, d)$, keys $K$ $(S, d)$, values $V$
# $(S, d_v)$: scores $A = QK^T/\sqrt d$ $(L, S)$, probabilities $P = \mathrm{softmax}(A)$ along
# each row, output $PV$ $(L, d_v)$. Row $i$ of the output is an average of the values,
# weighted by how well query $i$ matches each key. If the entries of $q$ and $k$ have unit
# variance, $q \cdot k$ has variance $d$; dividing by $\sqrt d$ keeps the scores near unit
# scale, so the softmax does not saturate into a one-hot vector with vanishing gradients.
#
# Worked example, $d = 1$: one query $Q = [[1]]$, two keys $K = [[0], [1]]$,
# $V = [[10], [20]]$. Scores $(0, 1)$, $P = (e^0, e^1)/(1 + e) = (0.269, 0.731)$,
# output $0.269 \cdot 10 + 0.731 \cdot 20 = 17.31$.
#
# **Masks.** A causal mask lets token $i$ see only $j \le i$: set the score to $-\infty$
# above the diagonal, so its probability is $e^{-\infty} = 0$. Boolean masks here mean True =
# may attend (as `F.scaled_dot_product_attention`); float masks are added to the scores.
#
# **Stable softmax.** $\mathrm{softmax}(a) = \mathrm{softmax}(a - \max a)$; after the
# shift every exponent is $\le 0$, so nothing overflows. A row that is all $-\infty$ has
# $\max = -\infty$: use 0 instead, get all zeros, and divide by 1, not 0.
#
# **Backward.** With $G = \bar{O}$: $\bar V = P^T G$, $\bar P = G V^T$, and softmax's
# Jacobian-vector product per row $\bar A = P \odot (\bar P - \sum_j \bar P_j P_j)$; then
# $\bar Q = \bar A K/\sqrt d$ and $\bar K = \bar A^T Q/\sqrt d$.
#
# **Heads.** Multi-head attention with $H$ heads projects $x$ $(N, T, E)$ to $Q, K, V$, then
# reshapes each to $(N, T, H, E/H)$ and transposes to $(N, H, T, E/H)$: $H$ independent
# attentions on $E/H$ features each. The outputs are transposed back and merged to
# $(N, T, E)$, then projected by `out_proj`.

# %%
q, k, v = np.array([[1.0]]), np.array([[0.0], [1.0]]), np.array([[10.0], [20.0]])
p = np.exp([0.0, 1.0]) / np.exp([0.0, 1.0]).sum()
print("P by hand:", p.round(3), "output:", (p @ v).round(2))
out = F.scaled_dot_product_attention(*(tinytorch.tensor(a) for a in (q, k, v)))
check("attention matches the hand example", np.allclose(out.detach().numpy(), p @ v, atol=1e-5))
for d in (4, 64, 1024):
    a, b = rng.standard_normal((2, 1000, d))
    dots = (a * b).sum(-1)
    print(f"d={d:>5}: std of q.k = {dots.std():6.2f}, after /sqrt(d) = {dots.std() / d**0.5:.2f}")

# %% [markdown]
# ## Exercise 1: masks and a stable softmax
#
# **Write** in `tinytorch/ops/attention.py`: `masked_scores`, `safe_softmax`
#
# - `masked_scores(scores, mask)`: no mask returns the scores; a bool mask sets the scores
#   where it is False to `-inf` (`np.copyto(..., where=...)`); a float mask is added. Work in
#   place, but if the mask broadcasts to a larger shape, broadcast and copy the scores first.
# - `safe_softmax(scores)`: in place along the last axis; subtract each row's max (0 where
#   the max is `-inf`), exponentiate, divide by the row sum (1 where the sum is 0).

# %%
scores = rng.standard_normal((3, 3))
causal = np.tril(np.ones((3, 3), dtype=bool))
masked = masked_scores(scores.copy(), causal)
check("bool mask: -inf above the diagonal", np.all(np.isneginf(masked[~causal])))
check("bool mask keeps the rest", np.array_equal(masked[causal], scores[causal]))
added = masked_scores(scores.copy(), np.full((3, 3), 2.0))
check("float mask is added", np.allclose(added, scores + 2))
wide = masked_scores(scores.copy(), np.ones((2, 3, 3), dtype=bool))
check("a mask with more axes broadcasts the scores", wide.shape == (2, 3, 3))
big = np.array([[1000.0, 1001.0, 999.0]])
expected = np.exp(big - 1001) / np.exp(big - 1001).sum()
check("no overflow on scores near 1000", np.allclose(safe_softmax(big.copy()), expected))
dead = np.array([[-np.inf, -np.inf], [0.0, 0.0]])
result = safe_softmax(dead.copy())
check("a fully masked row gives zeros, not NaN", np.array_equal(result, [[0, 0], [0.5, 0.5]]))
with np.errstate(all="ignore"):
    naive = np.exp(big) / np.exp(big).sum()
print("naive softmax of [1000, 1001, 999]:", naive)

# %% [markdown]
# ## Exercise 2: fused scaled dot-product attention
#
# **Write** in `tinytorch/ops/attention.py`: `ScaledDotProductAttention.forward`,
# `ScaledDotProductAttention.backward`
#
# Forward: scores = $QK^T \cdot$ scale, masked, softmaxed in place (only one $(L, S)$ array);
# with dropout, multiply by a keep mask divided by $1 - p$. Save $Q, K, V, P$, the dropped
# probabilities and the dropout scale; return them times $V$. (The reference writes a batched
# output into memory laid out as $(\dots, L, H, E_v)$ so merging heads later is free; a plain
# `np.matmul` is correct too.) Backward: the formulas of the idea, each gradient only if
# `ctx.needs_input_grad` asks for it; a float mask receives $\bar A$.

# %%
qn, kn, vn = rng.standard_normal((3, 2, 4, 5, 8))
mask = np.tril(np.ones((5, 5), dtype=bool))
ours = F.scaled_dot_product_attention(
    *(tinytorch.tensor(a) for a in (qn, kn, vn)), attn_mask=tinytorch.tensor(mask)
)
check(
    "forward matches NumPy",
    np.allclose(ours.detach().numpy(), reference_attention(qn, kn, vn, mask)),
)
causal_out = F.scaled_dot_product_attention(
    *(tinytorch.tensor(a) for a in (qn, kn, vn)), is_causal=True
)
check(
    "is_causal equals the tril mask",
    np.allclose(causal_out.detach().numpy(), ours.detach().numpy()),
)
check(
    "first query sees only the first value",
    np.allclose(ours.detach().numpy()[..., 0, :], vn[..., 0, :], atol=1e-5),
)
gradcheck(
    lambda a, b, c: F.scaled_dot_product_attention(a, b, c),
    (leaf(2, 3, 4), leaf(2, 5, 4), leaf(2, 5, 3)),
)
print("✓ backward matches finite differences (Q, K, V)")
float_mask = leaf(3, 5)
gradcheck(
    lambda a, b, c, m: F.scaled_dot_product_attention(a, b, c, attn_mask=m),
    (leaf(3, 4), leaf(5, 4), leaf(5, 2), float_mask),
)
print("✓ backward matches finite differences (with a float mask)")
gradcheck(
    lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True),
    (leaf(4, 4), leaf(4, 4), leaf(4, 2)),
)
print("✓ backward matches finite differences (causal)")

# %% [markdown]
# ## Exercise 3: multi-head attention
#
# **Write** in `tinytorch/nn/modules/attention.py`: `MultiheadAttention.__init__`,
# `MultiheadAttention._reset_parameters`, `MultiheadAttention._project`,
# `MultiheadAttention.forward`
#
# - `__init__`: store sizes (`head_dim = embed_dim // num_heads`), make `in_proj_weight`
#   $(3E, E)$, `in_proj_bias` $(3E,)$ (or register `None`) and `out_proj = Linear(E, E)`.
# - `_reset_parameters`: Xavier-uniform `in_proj_weight`, zero both biases.
# - `_project`: bring inputs to $(N, T, E)$, project (one matmul when query, key and value
#   are the same tensor, then `chunk(3, -1)`), and split heads with `_split_heads`.
# - `forward`: project, attend (step by step with `attention_with_weights` when the weights
#   are wanted, else fused), merge heads $(N, H, L, D) \to (N, L, E)$, apply `out_proj`,
#   restore the input layout, and average the weights over heads if asked.
#   Mind the mask convention: for this module True means may **not** attend.

# %%
tinytorch.manual_seed(0)
E, H, N, T = 8, 2, 2, 5
mha = nn.MultiheadAttention(E, H, batch_first=True)
check("in_proj_weight is (3E, E)", tuple(mha.in_proj_weight.shape) == (3 * E, E))
check("biases start at zero", not mha.in_proj_bias.detach().numpy().any())
x = rng.standard_normal((N, T, E)).astype(np.float32)
xt = tinytorch.tensor(x)
blocked = tinytorch.tensor(~np.tril(np.ones((T, T), dtype=bool)))
out, weights = mha(xt, xt, xt, attn_mask=blocked)

w_in, b_in = mha.in_proj_weight.detach().numpy(), mha.in_proj_bias.detach().numpy()
qkv = x @ w_in.T + b_in  # (N, T, 3E)
heads = [a.reshape(N, T, H, E // H).transpose(0, 2, 1, 3) for a in np.split(qkv, 3, -1)]
attended = reference_attention(*heads, np.tril(np.ones((T, T), dtype=bool)))  # (N, H, T, D)
merged = attended.transpose(0, 2, 1, 3).reshape(N, T, E)
by_numpy = merged @ mha.out_proj.weight.detach().numpy().T + mha.out_proj.bias.detach().numpy()
check(
    "multi-head output matches NumPy reshapes",
    np.allclose(out.detach().numpy(), by_numpy, atol=1e-5),
)
check(
    "weights averaged over heads: (N, L, S), rows sum to 1",
    tuple(weights.shape) == (N, T, T)
    and np.allclose(weights.detach().numpy().sum(-1), 1, atol=1e-5),
)
fast, none = mha(xt, xt, xt, attn_mask=blocked, need_weights=False)
check(
    "fused path gives the same output",
    none is None and np.allclose(fast.detach().numpy(), out.detach().numpy(), atol=1e-5),
)
seq_first, _ = nn.MultiheadAttention(E, H)(
    xt.transpose(0, 1), xt.transpose(0, 1), xt.transpose(0, 1)
)
check("default layout is (L, N, E)", tuple(seq_first.shape) == (T, N, E))
out.sum().backward()
check("all parameters get gradients", all(p.grad is not None for p in mha.parameters()))

# %% [markdown]
# ## Systems analysis: memory grows as $T^2$
#
# The score matrix has $N \cdot H \cdot T \cdot T$ entries: doubling the sequence quadruples
# it, while $Q$, $K$, $V$ only double. The cell below measures the bytes of the float32
# score matrix $QK^T$ (the probabilities have the same size) and the time of the fused
# forward, for one batch and 4 heads of 16 features.

# %%
print(f"{'T':>6}{'QKV MB':>9}{'scores MB':>11}{'ratio':>8}{'fwd ms':>9}")
sizes = {}
for T in (64, 128, 256, 512):
    qkv_t = [tinytorch.randn(1, 4, T, 16) for _ in range(3)]
    scores_t = qkv_t[0] @ qkv_t[1].transpose(-2, -1)
    score_bytes = scores_t.detach().numpy().nbytes
    qkv_bytes = sum(t.detach().numpy().nbytes for t in qkv_t)
    start = time.perf_counter()
    F.scaled_dot_product_attention(*qkv_t, is_causal=True)
    elapsed = time.perf_counter() - start
    sizes[T] = score_bytes
    print(
        f"{T:>6}{qkv_bytes / 1e6:>9.2f}{score_bytes / 1e6:>11.2f}"
        f"{score_bytes / qkv_bytes:>8.1f}{elapsed * 1e3:>9.2f}"
    )
quadrupled = sizes[512] == 4 * sizes[256] == 16 * sizes[128]
check("doubling T multiplies the score bytes by 4", quadrupled)
T_gpt = 2048
print(
    f"GPT-3-like: T={T_gpt}, 96 heads, float16 -> "
    f"{T_gpt * T_gpt * 96 * 2 / 1e9:.2f} GB of scores per sequence per layer"
)

# %% [markdown]
# Read the table: at small $T$ the scores are smaller than $Q, K, V$; past $T = 3d$ (here
# $d = 16$ per head) they dominate, and the ratio grows linearly with $T$. This quadratic
# term is why long contexts are expensive, and why fused kernels such as FlashAttention
# compute the softmax block by block without ever storing the full $(T, T)$ matrix.
#
# ## Reflection
#
# 1. Why does the forward save $P$ rather than the scores? What would the backward pass have
#    to recompute if it saved nothing but $Q$, $K$, $V$?
# 2. With a causal mask, half the scores are $-\infty$. How much work and memory could a
#    kernel that knows the mask save?
# 3. Why does splitting $E$ into $H$ heads not change the parameter count or the FLOPs of the
#    projections? What does it change?
# 4. A query that may attend to nothing gets zeros. Where in a real model does that happen,
#    and why would NaN there be worse than zero?
