# %% [markdown]
# # Module 17: Memoization: the KV Cache
#
# A GPT writes text one token at a time, and each new token needs a forward pass. Done
# naively, step $t$ runs all $t$ tokens through the model again, although the keys and values
# of the first $t - 1$ were already computed at the previous step and have not changed. This
# module memoizes them: a *key/value cache* keeps every layer's keys and values, so each step
# runs only the newest token. You write the two cache layouts that libraries use (grow by
# concatenation; a preallocated buffer written in place), the attention of new queries over
# the cache, and the cached step of `GPT.generate`; then you measure tokens per second against
# the sequence length, and the memory the cache costs.
#
# ## Learning objectives
#
# - Explain why causal attention makes keys and values of past tokens reusable, and what a
#   step costs with and without a cache ($O(t)$ positions against one).
# - Implement a growing cache (`DynamicCache`) and a static one (`StaticCache`) with
#   Hugging Face's interface: `update(key, value, layer_idx)`, `get_seq_length()`.
# - Attend with new queries over cached keys with the right causal mask and positions.
# - Compute cache memory, $2 \cdot L \cdot B \cdot H \cdot S \cdot D \cdot$ bytes, and check it
#   against the bytes of the arrays.
# - Measure tokens/s with and without the cache against the sequence length.
#
# **Textbook:** *Machine Learning Systems* ([mlsysbook.ai](https://mlsysbook.ai)), chapter
# "Model Optimizations" (inference-time optimizations; trading memory for compute).
#
# **Prerequisites:** module 13 (the GPT and its `generate`), module 12 (attention and
# `nn.MultiheadAttention`), module 14 (measuring latency).

# %%
# Set-up: test the tinytorch of this workspace (the folder above modules/), not an installed
# copy. Under Jupyter, your edits to the package are reloaded before every cell.
from tito.course.lesson_setup import use_workspace

use_workspace()

# %%
import statistics
import time

import numpy as np

import tinytorch
from tinytorch import nn
from tinytorch.generation import DynamicCache, StaticCache, kv_cache_bytes
from tinytorch.models import GPT, GPTConfig
from tinytorch.models.gpt import attend_to_cache

tinytorch.manual_seed(0)


def check(name: str, condition: bool, detail: str = "") -> None:
    """Print ✓ name, or stop with ✗ and the reason."""
    assert condition, f"✗ {name}: {detail}"
    print(f"✓ {name}")


# %% [markdown]
# ## The idea
#
# **What is recomputed.** In a causal transformer, position $i$ attends to positions
# $0..i$ only. So the key $k_i = x_i W_k$ and value $v_i = x_i W_v$ of position $i$ in every
# layer depend on tokens $0..i$ alone: appending a token never changes them. Without a cache,
# generating token $t + 1$ runs the whole sequence (t positions) through every layer; with a
# cache it runs the one new position, and its query attends over the $t$ cached keys plus its
# own:
#
# $$\text{out}_t = \text{softmax}\!\left(\frac{q_t [k_0 \dots k_t]^T}{\sqrt{D}}\right)
# [v_0 \dots v_t]$$
#
# A step then costs $O(1)$ matrix rows in the linear layers and $O(t)$ in attention, instead
# of $O(t)$ and $O(t^2)$. Generating $N$ tokens drops from $O(N^2)$ rows to $O(N)$.
#
# **Positions.** The new token's position embedding is that of position $S$ (the number of
# cached positions), not 0: `GPT.forward` reads $S$ from `past_key_values.get_seq_length()`.
# When $T > 1$ new tokens arrive at once (the prompt after a cached prefix), new query $i$ sits
# at position $S + i$ and may see keys $0..S + i$: the causal mask shifted right by $S$.
#
# **Two layouts.** `DynamicCache` keeps one tensor per layer and concatenates each step's
# keys onto it: simple, and memory grows with the text, but each step allocates a new array
# and copies all old positions ($O(t)$ bytes). `StaticCache` allocates buffers for
# `max_cache_len` positions up front and writes each step's keys into the next free slots in
# place; the memory of the longest sequence is held from the start, and nothing is copied.
#
# **Memory.** Every layer keeps a key and a value of shape (B, H, S, D), so
# $2 \cdot n_{layer} \cdot B \cdot H \cdot S \cdot D \cdot \text{bytes}$. The interface is
# Hugging Face's: `model(idx, past_key_values=cache, use_cache=True)` returns
# `(logits, loss, cache)`, and `GPT.generate(..., use_cache=True)` is the default.

# %%
gpt = GPT(GPTConfig(vocab_size=65, block_size=64, n_layer=2, n_head=4, n_embd=32)).eval()
with tinytorch.no_grad():
    logits, _, cache = gpt(tinytorch.randint(0, 65, (2, 5)), use_cache=True)
print(f"prefill: logits {logits.shape}, cache of {len(cache)} layers, {cache.get_seq_length()}")
print("layer 0 keys:", cache.key_cache[0].shape, " (B, H, S, D)")

# %% [markdown]
# ## Exercise 1: cache memory
#
# **Write** in `tinytorch/generation/kv_cache.py`: `kv_cache_bytes`,
# `DynamicCache.update`, `StaticCache.update`
#
# - `kv_cache_bytes(n_layer, batch, n_head, seq_len, head_dim, itemsize)`: the formula above.
# - `DynamicCache.update(key, value, layer_idx)`: the first time a layer is seen
#   (`cached is None`), append key and value to `self.key_cache` and `self.value_cache`;
#   afterwards replace the layer's entries by the concatenation along the sequence
#   (`tinytorch.cat(..., dim=2)`). Return the layer's keys and values.
# - `StaticCache.update(key, value, layer_idx)`: write `key._data` and `value._data` into
#   positions `start:end` of the layer's NumPy buffers (`buffer[:, :, start:end] = ...`),
#   advance `self.lengths[layer_idx]`, and return views of positions `0:end` wrapped with
#   `Tensor._from_array` (no copy).

# %%
check("GPT-2 small, 1,024 tokens, float32", kv_cache_bytes(12, 1, 12, 1024, 64, 4) == 75_497_472)
dynamic = DynamicCache()
k1, v1 = tinytorch.randn(2, 4, 3, 8), tinytorch.randn(2, 4, 3, 8)
k2, v2 = tinytorch.randn(2, 4, 1, 8), tinytorch.randn(2, 4, 1, 8)
dynamic.update(k1, v1, 0)
keys, values = dynamic.update(k2, v2, 0)
check("DynamicCache grows 3 + 1 = 4 positions", keys.shape == (2, 4, 4, 8))
check(
    "DynamicCache keeps the old keys, then the new",
    np.array_equal(keys.numpy(), np.concatenate([k1.numpy(), k2.numpy()], axis=2)),
)
check("measured bytes = formula", dynamic.nbytes() == kv_cache_bytes(1, 2, 4, 4, 8, 4))
static = StaticCache(num_layers=1, batch_size=2, num_heads=4, head_dim=8, max_cache_len=16)
buffer = static.key_cache[0]
static.update(k1, v1, 0)
keys, values = static.update(k2, v2, 0)
check("StaticCache returns the 4 filled positions", keys.shape == (2, 4, 4, 8))
check("... as a view of its buffer (no copy)", np.shares_memory(keys.numpy(), buffer))
check(
    "StaticCache stores the same keys",
    np.array_equal(keys.numpy(), np.concatenate([k1.numpy(), k2.numpy()], axis=2)),
)
check("StaticCache holds all 16 positions", static.nbytes() == kv_cache_bytes(1, 2, 4, 16, 8, 4))

# %% [markdown]
# ## Exercise 2: attention over the cache, and the cached generation step
#
# **Write** in `tinytorch/models/gpt.py`: `attend_to_cache`, `GPT.next_token_logits`
#
# - `attend_to_cache(q, k, v)`: q holds the T new queries, k and v all S + T keys and values.
#   With one query, plain `F.scaled_dot_product_attention(q, k, v)`: the newest token sees
#   everything. Otherwise pass a boolean `attn_mask` (True = may attend) of shape (T, S + T):
#   `tinytorch.ones(T, S + T, dtype=tinytorch.bool).tril(diagonal=S)`.
# - `GPT.next_token_logits(idx, cache)` (the cached branch): run only the tokens the cache
#   has not seen, `idx[:, cache.get_seq_length():]` (the whole prompt the first time, then one
#   token), through `self(..., past_key_values=cache, use_cache=True)`; return the last
#   position's logits (B, V) and the cache. `GPT.generate` calls it once per new token.

# %%
q, k, v = (tinytorch.randn(1, 2, 6, 4) for _ in range(3))
full = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True).numpy()
for new in (1, 3):
    cached = attend_to_cache(q[:, :, -new:], k, v).numpy()
    check(f"{new} new queries = the last rows of causal attention",
          np.allclose(cached, full[:, :, -new:], atol=1e-6))  # fmt: skip
prompt = tinytorch.randint(0, 65, (3, 6))  # a batch of three prompts
steps = []
hook = gpt.blocks[0].register_forward_pre_hook(lambda module, args: steps.append(args[0].shape))
cached_tokens = gpt.generate(prompt, 10, top_k=1)
hook.remove()
uncached_tokens = gpt.generate(prompt, 10, top_k=1, use_cache=False)
check("the prompt once, then one token per step", [s[1] for s in steps] == [6] + [1] * 9)
check("greedy tokens identical with and without the cache",
      np.array_equal(cached_tokens.numpy(), uncached_tokens.numpy()))  # fmt: skip
static_tokens = gpt.generate(prompt, 10, top_k=1, cache_implementation="static")
check("... and with the static cache",
      np.array_equal(static_tokens.numpy(), uncached_tokens.numpy()))  # fmt: skip

# %% [markdown]
# ## Systems analysis: tokens per second against sequence length
#
# Measure one generation step at sequence length $L$ on a small GPT (2 blocks, 64 channels,
# 4 heads): without the cache the step runs all $L$ positions; with it, one position over
# $L - 1$ cached keys. The two paths alternate at every length, so a busy machine slows both
# alike; each figure is a median. `benchmarks/kv_cache.py` measures the full target on the
# milestone-05 model (256 new tokens).

# %%
model = GPT(GPTConfig(vocab_size=65, block_size=256, n_layer=2, n_head=4, n_embd=64)).eval()
sequence = tinytorch.randint(0, 65, (1, 256))


def step_seconds(length: int, cached: bool) -> float:
    """Seconds of one step that writes token number ``length``."""
    with tinytorch.no_grad():
        if cached:
            _, _, cache = model(sequence[:, : length - 1], use_cache=True)
            start = time.perf_counter()
            model(sequence[:, length - 1 : length], past_key_values=cache, use_cache=True)
        else:
            start = time.perf_counter()
            model(sequence[:, :length])
    return time.perf_counter() - start


lengths = [16, 64, 128, 256]
rates = {"no cache": [], "cache": []}
for length in lengths:
    times = {"no cache": [], "cache": []}
    for _ in range(3):  # alternate the paths
        times["no cache"].append(step_seconds(length, cached=False))
        times["cache"].append(step_seconds(length, cached=True))
    for name in rates:
        rates[name].append(1 / statistics.median(times[name]))
top = max(max(values) for values in rates.values())
print(f"{'L':>5} {'path':>9} {'tokens/s':>9}  (bar: tokens/s, longest = {top:.0f})")
for i, length in enumerate(lengths):
    for name, values in rates.items():
        print(f"{length:>5} {name:>9} {values[i]:9.1f}  {'#' * round(40 * values[i] / top)}")
    print(f"{'':>5} {'ratio':>9} {rates['cache'][i] / rates['no cache'][i]:8.1f}x")
check("both paths measured at every length", all(len(r) == len(lengths) for r in rates.values()))

# %% [markdown]
# **Whole generations, and the two layouts.** Generate 64 tokens from a 16-token prompt with
# each path, alternating; the cached paths must also give the same tokens.

# %%
start_tokens = sequence[:, :16]
paths = {
    "no cache": {"use_cache": False},
    "dynamic": {"cache_implementation": "dynamic"},
    "static": {"cache_implementation": "static"},
}
seconds = {name: [] for name in paths}
outputs = {}
for _ in range(2):
    for name, options in paths.items():
        start = time.perf_counter()
        outputs[name] = model.generate(start_tokens, 64, top_k=1, **options)
        seconds[name].append(time.perf_counter() - start)
base = 64 / statistics.median(seconds["no cache"])
for name in paths:
    rate = 64 / statistics.median(seconds[name])
    print(f"{name:>9}: {rate:7.1f} tokens/s ({rate / base:4.1f}x)")
reference = outputs["no cache"].numpy()
check(
    "same tokens on every path", all(np.array_equal(o.numpy(), reference) for o in outputs.values())
)

# %% [markdown]
# **Memory, by formula and measured.** The cache of this model after 79 positions, and what
# the same cache would cost for a GPT-2-sized model (12 layers, 12 heads of 64) with a batch
# of 8 and 1,024 tokens.

# %%
with tinytorch.no_grad():
    _, _, grown = model(outputs["dynamic"][:, :-1], use_cache=True)
config = model.config
head_dim = config.n_embd // config.n_head
formula = kv_cache_bytes(config.n_layer, 1, config.n_head, grown.get_seq_length(), head_dim, 4)
print(f"DynamicCache, {grown.get_seq_length()} positions: {grown.nbytes():,} bytes measured, "
      f"{formula:,} by the formula")  # fmt: skip
preallocated = model.new_cache(1, "static", config.block_size)
print(f"StaticCache for block_size={config.block_size}: {preallocated.nbytes():,} bytes, "
      f"held from the first token")  # fmt: skip
check("measured = formula", grown.nbytes() == formula)
gpt2 = kv_cache_bytes(12, 8, 12, 1024, 64, 4)
weights = 124_000_000 * 4
print(f"GPT-2 small, batch 8, 1,024 tokens: {gpt2 / 2**20:.0f} MiB of cache "
      f"against {weights / 2**20:.0f} MiB of weights")  # fmt: skip

# %% [markdown]
# Read the tables. At short lengths the two paths are close (the cached step a little faster):
# a step of this small model is dominated by the fixed Python cost of its few dozen operations,
# not by arithmetic. As $L$ grows the uncached step does work proportional to $L$ (and its
# attention to $L^2$) and its tokens/s falls, while the cached step stays nearly flat: the
# ratio grows with the sequence.
# On a machine busy with other work, a multithreaded BLAS can make the uncached path's larger
# products slower still (threads wait for cores): compare in alternating runs, and see module
# 18 for pinning the threads. The cache is not free: it holds memory linear in layers, batch,
# heads, length and head size, which for large models and batches rivals the weights
# themselves; this is why serving systems quantize caches, share them across heads
# (multi-query and grouped-query attention) and page them. The static layout trades memory held up
# front for steps that never copy; the dynamic layout copies the whole cache every step, which
# is cheap here and grows with $L$.
#
# ## Reflection
#
# 1. Why would a cache be *wrong* for a model with bidirectional (non-causal) attention, such
#    as BERT? What exactly would change when a token is appended?
# 2. Past `block_size`, `generate` drops the cache and runs uncached. Why does sliding the
#    window invalidate every cached key of a model with learned absolute position embeddings,
#    and how do relative schemes such as rotary embeddings change that?
# 3. Compute the cache of a 32-layer model with 32 heads of 128, batch 16, 4,096 tokens, in
#    float16. How would grouped-query attention with 8 key/value heads change it?
# 4. The dynamic cache copies $O(t)$ bytes per step, so $O(N^2)$ over a generation. When does
#    that copying matter, and what does the static cache give up to avoid it?
