# %% [markdown]
# # Module 11: Embeddings
#
# Language models read tokens, which are integers. A network needs vectors. An embedding is
# a learned table with one row per token: looking a token up returns its row. In this
# module you write that lookup, its backward pass (which must add up the gradients of
# repeated tokens), the `nn.Embedding` module, and the fixed sinusoidal table that tells a
# transformer where each token sits.
#
# ## Learning objectives
#
# - Explain an embedding lookup as a product of a one-hot matrix with the table, and why
#   frameworks index instead of multiplying.
# - Write the backward pass of a lookup: scatter gradient rows back, summing repeated ids.
# - Build the sinusoidal positional encoding and check its properties.
# - Measure the memory of an embedding table against the one-hot alternative.
#
# **Textbook:** *Machine Learning Systems* ([mlsysbook.ai](https://mlsysbook.ai)), chapter
# "DNN Architectures" (sequence models, embeddings, positional information).
#
# **Prerequisites:** module 10 and before: tensors (01), layers (03) and autograd (05),
# since a lookup is a `Function` with a forward and a backward.

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
from tinytorch.nn.modules.positional import sinusoidal_table
from tinytorch.ops.embedding import sum_rows_by_index

rng = np.random.default_rng(0)


def check(name: str, condition: bool, detail: str = "") -> None:
    """Print ✓ name, or stop with ✗ and the reason."""
    assert condition, f"✗ {name}: {detail}"
    print(f"✓ {name}")


# %% [markdown]
# ## The idea
#
# **Lookup = one-hot matmul.** Take a table $W$ of shape $(V, D)$ and ids $x$ of length $N$.
# Let $H$ be the $(N, V)$ one-hot matrix with $H_{n, x_n} = 1$. Then $HW$ picks row $x_n$ of
# $W$ for each $n$: `W[x]`. With $V = 4$, $D = 2$ and $x = (2, 0, 2)$, row 0 of $HW$ is
# $W_2$, row 1 is $W_0$, row 2 is $W_2$ again. The matmul costs $N V D$ multiply-adds and
# an $(N, V)$ matrix of mostly zeros; indexing costs $N D$ copies.
#
# **Backward.** From $Y = HW$, $\bar W = H^T \bar Y$: row $i$ of $\bar W$ is the sum of
# the gradient rows $\bar Y_n$ over all $n$ with $x_n = i$. In the example $\bar W_2 =
# \bar Y_0 + \bar Y_2$ (token 2 appears twice), $\bar W_0 = \bar Y_1$, and rows 1 and 3
# get zero. Writing `grad_W[x] = grad_y` would be wrong: a repeated index keeps only the
# last write.
#
# **Sinusoidal positions.** Attention ignores order, so a position vector $P_t$ is added to
# each token's vector: $P_{t, 2i} = \sin(t \omega_i)$, $P_{t, 2i+1} = \cos(t \omega_i)$ with
# $\omega_i = 10000^{-2i/D}$. Each pair of columns is a clock turning at its own speed;
# $P_{t+k}$ is $P_t$ rotated by angles $k\omega_i$, whatever $t$ is.

# %%
W = np.arange(8.0).reshape(4, 2)
ids = np.array([2, 0, 2])
H = np.eye(4)[ids]
print("one-hot H:\n", H)
print("H @ W:\n", H @ W, "\nW[ids]:\n", W[ids])
check("lookup equals one-hot matmul", np.array_equal(H @ W, W[ids]))
grad_y = np.array([[1.0, 1.0], [10.0, 10.0], [100.0, 100.0]])
print("H^T grad_y (by hand row 2 = 1 + 100):\n", H.T @ grad_y)
wrong = np.zeros_like(W)
wrong[ids] = grad_y
print("grad_W[ids] = grad_y loses a row:\n", wrong)

# %% [markdown]
# ## Exercise 1: the lookup and its backward
#
# **Write** in `tinytorch/ops/embedding.py`: `sum_rows_by_index`, `Embedding.forward`,
# `Embedding.backward`
#
# - `sum_rows_by_index(indices, rows, num_rows, scale_by_count)`: a `(num_rows, D)` table
#   whose row $i$ is the sum of `rows[n]` over `indices[n] == i`. Sort the indices (stable),
#   find where each run of equal ids starts, add each run with `np.add.reduceat`, and write
#   the sums into a zero table. With `scale_by_count`, divide each sum by its run length.
# - `Embedding.forward`: save the indices and the number of rows; return `weight[indices]`.
# - `Embedding.backward`: flatten the gradient to `(N, D)` and the indices to `(N,)`, call
#   `sum_rows_by_index`, zero the `padding_idx` row; the indices get no gradient (`None`).

# %%
many = rng.integers(0, 7, size=50)
rows = rng.standard_normal((50, 3))
expected = np.zeros((7, 3))
np.add.at(expected, many, rows)
check(
    "sum_rows_by_index matches np.add.at",
    np.allclose(sum_rows_by_index(many, rows, 7, False), expected),
)
counts = np.maximum(np.bincount(many, minlength=7), 1)[:, None]
check(
    "scale_by_count divides by the number of repeats",
    np.allclose(sum_rows_by_index(many, rows, 7, True), expected / counts),
)

table = tinytorch.tensor(W, dtype=tinytorch.float64, requires_grad=True)
out = tinytorch.nn.functional.embedding(tinytorch.tensor(ids), table)
check("forward returns W[ids]", np.array_equal(out.detach().numpy(), W[ids]))
(out * tinytorch.tensor(grad_y)).sum().backward()
check("backward equals H^T grad_y (repeats add up)", np.allclose(table.grad.numpy(), H.T @ grad_y))

# %% [markdown]
# ## Exercise 2: the `nn.Embedding` module
#
# **Write** in `tinytorch/nn/modules/sparse.py`: `Embedding.__init__`,
# `Embedding.reset_parameters`
#
# `__init__` checks that `padding_idx` lies in `[-num_embeddings, num_embeddings)` and
# stores it as a non-negative index, stores the options, and makes `weight` a `Parameter`
# of shape `(num_embeddings, embedding_dim)` (or wraps a given `_weight`; `_freeze` turns
# off its gradient). `reset_parameters` draws the table from $N(0, 1)$ and zeros the padding
# row under `no_grad`.

# %%
tinytorch.manual_seed(0)
emb = nn.Embedding(10, 4, padding_idx=-1)
check("weight has shape (10, 4)", tuple(emb.weight.shape) == (10, 4))
check("negative padding_idx is stored as 9", emb.padding_idx == 9)
check("padding row starts at zero", np.all(emb.weight.detach().numpy()[9] == 0))
tokens = tinytorch.tensor([[1, 9, 1], [3, 9, 0]])
y = emb(tokens)
check("(2, 3) ids -> (2, 3, 4) vectors", tuple(y.shape) == (2, 3, 4))
y.sum().backward()
grad = emb.weight.grad.numpy()
check("token 1 used twice gets gradient 2", np.allclose(grad[1], 2.0))
check("padding row gets no gradient", np.all(grad[9] == 0))
std = nn.Embedding(1000, 64).weight.detach().numpy().std()
check("table drawn from N(0, 1)", abs(std - 1) < 0.05, f"std {std:.3f}")
frozen = nn.Embedding.from_pretrained(tinytorch.tensor(W))
check("from_pretrained freezes the table", not frozen.weight.requires_grad)

# %% [markdown]
# ## Exercise 3: sinusoidal positional encoding
#
# **Write** in `tinytorch/nn/modules/positional.py`: `sinusoidal_table`
#
# Return a float32 `(max_len, d_model)` array with sines in the even columns and cosines in
# the odd ones, at frequencies $\omega_i = 10000^{-2i/d}$ (compute them as
# `exp(-2i ln(10000) / d)`). An odd `d_model` has one more sine column than cosine columns.

# %%
P = sinusoidal_table(50, 8)
t = np.arange(50)[:, None]
omega = 10000.0 ** (-np.arange(0, 8, 2) / 8)
check(
    "P matches the formula",
    np.allclose(P[:, 0::2], np.sin(t * omega), atol=1e-6)
    and np.allclose(P[:, 1::2], np.cos(t * omega), atol=1e-6),
)
check("float32 table", P.dtype == np.float32)
check("odd d_model works", sinusoidal_table(5, 7).shape == (5, 7))
check("every position is distinct", len({row.tobytes() for row in P}) == 50)
k = 3
# column pairs are (sin, cos); rotating (sin, cos) by k w gives (sin, cos) at t + k
pairs = P[:-k].reshape(-1, 4, 2)
ang = k * omega
moved = np.stack(
    [
        pairs[..., 0] * np.cos(ang) + pairs[..., 1] * np.sin(ang),
        pairs[..., 1] * np.cos(ang) - pairs[..., 0] * np.sin(ang),
    ],
    axis=-1,
).reshape(-1, 8)
check("P[t + k] is a fixed rotation of P[t]", np.allclose(moved, P[k:], atol=1e-5))
pe = nn.SinusoidalPositionalEncoding(8, max_len=50)
zeros = tinytorch.zeros(2, 10, 8)
check("module adds P[:T]", np.allclose(pe(zeros).detach().numpy()[1], P[:10]))

# %% [markdown]
# ## Systems analysis: table versus one-hot
#
# An embedding table costs $V D$ numbers whatever the batch. The one-hot route needs, on
# top of the table, an $(N, V)$ matrix per batch and $N V D$ multiply-adds. The cell below
# measures both for a GPT-2-sized vocabulary ($V = 50257$) on small dimensions.

# %%
V, D = 50257, 64
big = nn.Embedding(V, D)
print(f"table: {big.weight.detach().numpy().nbytes / 1e6:.1f} MB for V={V}, D={D} (float32)")
print(f"{'tokens N':>9}{'one-hot MB':>12}{'lookup ms':>11}{'matmul ms':>11}")
weights = big.weight.detach().numpy()
for n in (16, 64, 256):
    picks = rng.integers(0, V, size=n)
    start = time.perf_counter()
    looked = weights[picks]
    t_lookup = time.perf_counter() - start
    one_hot = np.zeros((n, V), dtype=np.float32)
    one_hot[np.arange(n), picks] = 1
    start = time.perf_counter()
    product = one_hot @ weights
    t_matmul = time.perf_counter() - start
    print(f"{n:>9}{one_hot.nbytes / 1e6:>12.1f}{t_lookup * 1e3:>11.3f}{t_matmul * 1e3:>11.3f}")
    assert np.array_equal(looked, product)
print("✓ one-hot matmul gives the same rows as the lookup")
check("the one-hot matrix of 256 tokens outweighs the table", one_hot.nbytes > weights.nbytes)

# %% [markdown]
# Read the table: the lookup time barely depends on $V$, the matmul grows with it, and the
# one-hot matrix alone soon exceeds the table. The gradient of the table is as large as the
# table, though only the looked-up rows are non-zero: that is what `sparse=True` gradients
# exploit in PyTorch.
#
# ## Reflection
#
# 1. Why must the backward pass add the gradients of a repeated token instead of writing
#    them? What would training learn if it did not?
# 2. A vocabulary of 50,257 tokens and $D = 768$ (GPT-2 small): how many MB is the table in
#    float32, and what share of a 124 M parameter model is it?
# 3. Learned positions (`LearnedPositionalEmbedding`) or fixed sines: which one can handle a
#    sequence longer than any seen in training, and why?
# 4. Adam keeps two extra tensors per parameter. For an embedding where a batch touches 1%
#    of the rows, what does that cost each step, and how could an optimizer avoid it?
