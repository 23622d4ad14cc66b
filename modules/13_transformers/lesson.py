# %% [markdown]
# # Module 13: Transformers
#
# A transformer block is attention plus a small feed-forward network, each wrapped in a
# residual connection and a layer norm. Stack a few blocks between an embedding and a
# linear head and you have GPT. In this module you write layer normalization (forward and
# backward), the encoder layer in both its post-norm and pre-norm forms, and the stack;
# then you assemble a tiny GPT, generate text from it with temperature and top-k, and count
# what it costs.
#
# ## Learning objectives
#
# - Normalise each token over its features and derive layer norm's backward pass.
# - Explain why pre-norm blocks ($x + f(\mathrm{LN}(x))$) train more easily when deep.
# - Assemble a decoder-only model (GPT) from embeddings, causal attention blocks and a head.
# - Generate autoregressively, with temperature and top-k sampling.
# - Count a model's parameters and FLOPs per token and measure time per generated token.
#
# **Textbook:** *Machine Learning Systems* ([mlsysbook.ai](https://mlsysbook.ai)), chapter
# "DNN Architectures" (transformers, attention-based architectures).
#
# **Prerequisites:** module 12 (multi-head attention) and module 11 (embeddings and
# positions), with autograd (05) and layers (03) underneath.

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
from tinytorch.autograd import gradcheck

f64 = tinytorch.float64
rng = np.random.default_rng(0)


def check(name: str, condition: bool, detail: str = "") -> None:
    """Print ✓ name, or stop with ✗ and the reason."""
    assert condition, f"✗ {name}: {detail}"
    print(f"✓ {name}")


def leaf(*shape: int) -> tinytorch.Tensor:
    return tinytorch.tensor(rng.standard_normal(shape), dtype=f64, requires_grad=True)


# %% [markdown]
# ## The idea
#
# **Layer norm.** For one token's features $x \in \mathbb{R}^D$: $\mu = \frac1D \sum x_i$,
# $\sigma^2 = \frac1D \sum (x_i - \mu)^2$, $\hat x = (x - \mu)/\sqrt{\sigma^2 + \epsilon}$,
# $y = \gamma \odot \hat x + \beta$. Unlike batch norm it needs no batch statistics, so it
# behaves the same in training and generation. Example: $x = (1, 2, 3, 6)$ has $\mu = 3$,
# $\sigma^2 = 3.5$, $\hat x \approx (-1.069, -0.535, 0, 1.604)$. Backward, with
# $g = \bar y \odot \gamma$: $\bar x = \frac{1}{\sigma}\left(g - \mathrm{mean}(g) -
# \hat x\,\mathrm{mean}(g \odot \hat x)\right)$; $\bar\gamma = \sum \bar y \odot \hat x$ and
# $\bar\beta = \sum \bar y$ over all tokens.
#
# **Blocks.** Post-norm (the 2017 paper): $x \leftarrow \mathrm{LN}(x + \mathrm{SA}(x))$,
# $x \leftarrow \mathrm{LN}(x + \mathrm{FF}(x))$. Pre-norm (GPT-2 on):
# $x \leftarrow x + \mathrm{SA}(\mathrm{LN}(x))$, $x \leftarrow x + \mathrm{FF}(\mathrm{LN}(x))$.
# In pre-norm the residual path from input to output is a plain sum, so gradients reach the
# first layers unchanged however deep the stack; a final LN is then applied once.
#
# **GPT.** ids $(N, T)$ $\to$ token embedding + position embedding $\to$ $L$ pre-norm blocks
# with a causal mask $\to$ LN $\to$ linear head $(N, T, V)$: at every position, logits for
# the next token. **Generation** repeats: run the model on the context, take the last
# position's logits $z$, divide by a temperature $\tau$ ($\tau < 1$ sharpens, $\tau > 1$
# flattens), keep the $k$ largest (top-k) and set the rest to $-\infty$, sample from
# $\mathrm{softmax}(z/\tau)$, and append the token.

# %%
x_hand = np.array([1.0, 2.0, 3.0, 6.0])
x_hat = (x_hand - x_hand.mean()) / np.sqrt(x_hand.var() + 1e-5)
print("x_hat by hand:", x_hat.round(3))
ln_out = F.layer_norm(tinytorch.tensor(x_hand), (4,))
check("F.layer_norm matches the hand computation", np.allclose(ln_out.detach().numpy(), x_hat))

# %% [markdown]
# ## Exercise 1: layer norm
#
# **Write** in `tinytorch/ops/normalization.py`: `LayerNorm.forward`, `LayerNorm.backward`
#
# Forward: the normalised axes are the last `dims`; standardise with `standardize` (it
# returns $\hat x$ and $1/\sigma$), save $\hat x$, $1/\sigma$ and $\gamma$, then scale and
# shift when `weight` / `bias` are given. Backward: $\bar x$ via `standardize_backward` on
# $g = \bar y \odot \gamma$; $\bar\gamma$ and $\bar\beta$ summed over the leading axes.
#
# **Write** in `tinytorch/nn/modules/normalization.py`: `LayerNorm.__init__`
#
# Store `normalized_shape` as a tuple (an int becomes a 1-tuple), `eps` and
# `elementwise_affine`; `weight` starts at ones and `bias` at zeros (each `None` when
# switched off).

# %%
tokens = rng.standard_normal((2, 5, 8)) * 3 + 1
ln = nn.LayerNorm(8)
check(
    "weight ones, bias zeros",
    ln.weight.detach().numpy().all() and not ln.bias.detach().numpy().any(),
)
y = ln(tinytorch.tensor(tokens, dtype=tinytorch.float32)).detach().numpy()
check("each token has mean 0", np.allclose(y.mean(-1), 0, atol=1e-5))
check("each token has variance 1", np.allclose(y.var(-1), 1, atol=1e-3))
check(
    "no affine: no parameters",
    len(list(nn.LayerNorm(8, elementwise_affine=False).parameters())) == 0,
)
check("normalized_shape is a tuple", nn.LayerNorm(8).normalized_shape == (8,))
gradcheck(lambda a, w, b: F.layer_norm(a, (4,), w, b), (leaf(3, 4), leaf(4), leaf(4)))
print("✓ layer norm backward matches finite differences (x, gamma, beta)")
gradcheck(lambda a: F.layer_norm(a, (2, 3)), (leaf(2, 2, 3),))
print("✓ layer norm over two axes backward")

# %% [markdown]
# ## Exercise 2: the encoder layer and the stack
#
# **Write** in `tinytorch/nn/modules/transformer.py`: `TransformerEncoderLayer.__init__`,
# `TransformerEncoderLayer.forward`, `TransformerEncoder.__init__`,
# `TransformerEncoder.forward`
#
# - `TransformerEncoderLayer.__init__`: the submodules with PyTorch's names: `self_attn`
#   (`MultiheadAttention`), `linear1` $(E \to F)$, `dropout`, `linear2` $(F \to E)$, `norm1`,
#   `norm2`, `dropout1`, `dropout2`; store `norm_first` and the activation (a string is
#   looked up in `ACTIVATIONS`).
# - `TransformerEncoderLayer.forward`: the post-norm or pre-norm equations of the idea,
#   using `_sa_block` and `_ff_block`.
# - `TransformerEncoder.__init__`: `num_layers` deep copies of the layer in a `ModuleList`.
# - `TransformerEncoder.forward`: apply each layer with the masks, then `norm` if any.

# %%
tinytorch.manual_seed(0)
E = 16
layer = nn.TransformerEncoderLayer(E, 4, dim_feedforward=32, dropout=0.0, batch_first=True)
names = {name.split(".")[0] for name, _ in layer.named_parameters()}
check("PyTorch's submodule names", names == {"self_attn", "linear1", "linear2", "norm1", "norm2"})
src = tinytorch.randn(2, 6, E)
sa, _ = layer.self_attn(src, src, src, need_weights=False)
h = layer.norm1(src + sa)
by_hand = layer.norm2(h + layer.linear2(F.relu(layer.linear1(h))))
check(
    "post-norm forward matches its equation",
    np.allclose(layer(src).detach().numpy(), by_hand.detach().numpy(), atol=1e-5),
)
layer.norm_first = True
sa, _ = layer.self_attn(*(3 * [layer.norm1(src)]), need_weights=False)
h = src + sa
by_hand = h + layer.linear2(F.relu(layer.linear1(layer.norm2(h))))
check(
    "pre-norm forward matches its equation",
    np.allclose(layer(src).detach().numpy(), by_hand.detach().numpy(), atol=1e-5),
)
stack = nn.TransformerEncoder(layer, num_layers=3, norm=nn.LayerNorm(E))
check(
    "three independent copies",
    len(stack.layers) == 3 and stack.layers[0].linear1.weight is not stack.layers[1].linear1.weight,
)
by_hand = src
for block in stack.layers:
    by_hand = block(by_hand)
check(
    "stack applies each layer, then norm",
    np.allclose(stack(src).detach().numpy(), stack.norm(by_hand).detach().numpy(), atol=1e-5),
)

# %% [markdown]
# ## Exercise 3: a tiny GPT and generation
#
# Nothing to write in the package: assemble the model from the modules you built and check
# the property that makes it a language model: with the causal mask, the logits at position
# $t$ do not depend on tokens after $t$. Then sample with temperature and top-k. The
# package's full version, with weight tying and shape comments on every line, is
# `tinytorch/models/gpt.py`: read it once this one works.

# %%


def causal_mask(length: int) -> tinytorch.Tensor:
    """True above the diagonal: position t may not attend to later positions."""
    return tinytorch.tensor(np.triu(np.ones((length, length), dtype=bool), k=1))


class TinyGPT(nn.Module):
    def __init__(self, vocab: int, d_model: int, heads: int, layers: int, context: int):
        super().__init__()
        self.context = context
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.LearnedPositionalEmbedding(context, d_model)
        block = nn.TransformerEncoderLayer(
            d_model,
            heads,
            4 * d_model,
            dropout=0.0,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.blocks = nn.TransformerEncoder(block, layers, norm=nn.LayerNorm(d_model))
        self.head = nn.Linear(d_model, vocab, bias=False)

    def forward(self, ids: tinytorch.Tensor) -> tinytorch.Tensor:
        length = ids.shape[-1]
        x = self.pos(self.tok(ids))  # (N, T, d_model)
        x = self.blocks(x, mask=causal_mask(length), is_causal=True)
        return self.head(x)  # (N, T, vocab)


def sample_next(logits: np.ndarray, temperature: float, top_k: int | None, gen) -> int:
    """One token id from the logits (V,) of the last position."""
    z = logits.astype(np.float64) / temperature
    if top_k is not None:
        cutoff = np.sort(z)[-top_k]
        z = np.where(z < cutoff, -np.inf, z)
    p = np.exp(z - z.max())
    return int(gen.choice(len(p), p=p / p.sum()))


def generate(model, prompt: list[int], steps: int, temperature=1.0, top_k=None, seed=0):
    gen = np.random.default_rng(seed)
    ids = list(prompt)
    with tinytorch.no_grad():
        for _ in range(steps):
            context = tinytorch.tensor([ids[-model.context :]])
            logits = model(context).detach().numpy()[0, -1]
            ids.append(sample_next(logits, temperature, top_k, gen))
    return ids


tinytorch.manual_seed(0)
V, D, HEADS, LAYERS, CTX = 32, 32, 4, 2, 16
gpt = TinyGPT(V, D, HEADS, LAYERS, CTX)
gpt.eval()
ids = tinytorch.tensor(rng.integers(0, V, size=(2, 10)))
logits = gpt(ids)
check("logits (N, T, V)", tuple(logits.shape) == (2, 10, V))
changed = ids.detach().numpy().copy()
changed[:, 6:] = (changed[:, 6:] + 1) % V
logits2 = gpt(tinytorch.tensor(changed))
check(
    "causal: changing tokens 6.. leaves logits 0..5 unchanged",
    np.allclose(logits.detach().numpy()[:, :6], logits2.detach().numpy()[:, :6], atol=1e-5),
)
check(
    "and changes logits 6..",
    not np.allclose(logits.detach().numpy()[:, 6:], logits2.detach().numpy()[:, 6:]),
)

z = np.array([2.0, 1.0, 0.0, -1.0])
gen = np.random.default_rng(0)
cold = [sample_next(z, 0.05, None, gen) for _ in range(200)]
check("temperature -> 0 picks the argmax", set(cold) == {0})
top2 = {sample_next(z, 5.0, 2, gen) for _ in range(500)}
check("top-k=2 samples only the 2 best tokens", top2 == {0, 1})
hot = np.bincount([sample_next(z, 100.0, None, gen) for _ in range(4000)], minlength=4) / 4000
check("high temperature is nearly uniform", np.allclose(hot, 0.25, atol=0.04), str(hot))
text = generate(gpt, [1, 2, 3], steps=12, temperature=0.8, top_k=5)
print("generated ids (untrained model):", text)
check("generate appends one token per step", len(text) == 15 and all(0 <= t < V for t in text))

# %% [markdown]
# ## Systems analysis: parameters, FLOPs and time per token
#
# Per block with width $d$: attention has $4d^2 + 4d$ parameters ($W_q, W_k, W_v, W_o$ and
# biases), the feed-forward $8d^2 + 5d$, the two norms $4d$: about $12 d^2$. Add the token
# table $Vd$, positions $T_{max} d$, the final norm $2d$ and the head $Vd$. A forward pass
# costs about $2P$ FLOPs per token for the matmuls (one multiply and one add per weight) plus
# attention's $4 T d$ per token per layer ($QK^T$ and $PV$). Generation without a KV cache
# reruns the whole context for each new token, so its cost per token grows with $T$.


# %%
def count_params(model: nn.Module) -> int:
    return sum(int(np.prod(p.shape)) for p in model.parameters())


per_block = 12 * D * D + 13 * D  # attention 4d^2+4d, FF 8d^2+5d, norms 4d
by_formula = LAYERS * per_block + V * D + CTX * D + 2 * D + V * D
total = count_params(gpt)
print(f"parameters: {total:,} (formula {by_formula:,})")
check("parameter count matches the formula", total == by_formula)

print(f"{'context T':>10}{'GFLOP/token':>13}{'ms/token':>10}")
times = {}
for T in (4, 8, 16):
    prompt = list(rng.integers(0, V, size=T - 1))
    dense = 2 * (total - V * D - CTX * D)  # matmul weights (embeddings are lookups)
    flops = dense + LAYERS * 4 * T * D
    start = time.perf_counter()
    generate(gpt, prompt, steps=5)
    per_token = (time.perf_counter() - start) / 5
    times[T] = per_token
    print(f"{T:>10}{flops / 1e9:>13.6f}{per_token * 1e3:>10.2f}")
check("time per token measured", all(t > 0 for t in times.values()))

gpt2 = 12 * (12 * 768**2 + 13 * 768) + 50257 * 768 + 1024 * 768 + 2 * 768
print(f"GPT-2 small by formula (head tied to the table): {gpt2 / 1e6:.1f} M parameters")
check("GPT-2 small is about 124 M parameters", 120e6 < gpt2 < 130e6)

# %% [markdown]
# Read the table: at this size Python overhead, not FLOPs, sets the time per token; the
# FLOPs are tiny. For a real model the $2P$ term dominates and each generated token must
# read every weight from memory once, so generation is usually limited by memory bandwidth,
# not arithmetic. Caching the keys and values of past positions (a KV cache) turns the
# per-token cost from the whole context to one position.
#
# ## Reflection
#
# 1. Why does layer norm work per token while batch norm works per feature across the
#    batch? What would batch norm do during generation with a batch of one?
# 2. Where do most parameters of GPT-2 small sit: embeddings, attention or feed-forward?
#    How does the answer change for a model 10 times wider?
# 3. Without a KV cache, how many FLOPs does generating $n$ tokens from an empty prompt
#    cost, as a function of $n$? With one?
# 4. Temperature and top-k change only the sampling, not the model. Which settings would
#    you choose for code completion, and which for story writing, and why?
