# %% [markdown]
# # Module 16: Compression
#
# A trained network holds more weights than it needs. This module removes them in four ways
# and measures what each buys: **pruning** (zero the least important weights with a mask, as
# `torch.nn.utils.prune` does), **channel removal** (cut whole filters so the model really
# gets smaller and faster), **knowledge distillation** (train a small student to imitate a
# large teacher) and **low-rank factorization** (replace a weight matrix by two thin ones).
# Then you save a pruned model so that its zeros cost bits, not floats.
#
# ## Learning objectives
#
# - Reparametrise a weight as `weight = weight_orig * weight_mask` with a forward pre-hook,
#   and explain why pruned weights stay zero during fine-tuning.
# - Compute L1 (magnitude) masks, compose them when pruning twice, and prune globally.
# - Remove output channels of a layer and the matching inputs of the next one, and measure
#   why this is faster while masking is not.
# - Derive the KL divergence's gradient and Hinton's distillation loss with temperature.
# - Factorise a `Linear` by truncated SVD and read a rank/accuracy curve.
# - Store a sparse tensor as a bitmask plus values and count the bytes on disk.
#
# **Textbook:** *Machine Learning Systems* ([mlsysbook.ai](https://mlsysbook.ai)), chapter
# "Model Optimizations" (pruning, knowledge distillation, low-rank factorization).
#
# **Prerequisites:** module 15 (quantization: the other half of model optimization), with
# layers (03), autograd (05), training (07) and convolutions (09) underneath.

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
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.autograd import gradcheck
from tinytorch.compression import (
    distillation_loss,
    factorize_linears,
    from_bitmask,
    load_sparse,
    prune_channels,
    save_sparse,
    to_bitmask,
    truncated_svd,
)
from tinytorch.datasets import TinyDigits
from tinytorch.models import lenet5, mlp_classifier
from tinytorch.nn.utils import prune
from tinytorch.ops.divergence import KLDiv

rng = np.random.default_rng(0)


def check(name: str, condition: bool, detail: str = "") -> None:
    """Print ✓ name, or stop with ✗ and the reason."""
    assert condition, f"✗ {name}: {detail}"
    print(f"✓ {name}")


# %% [markdown]
# ## The idea
#
# **Masks.** Pruning parameter `weight` of a layer moves it to `weight_orig`, adds a buffer
# `weight_mask` $M \in \{0, 1\}$ and recomputes `weight` $= W_{orig} \odot M$ in a forward
# pre-hook before every forward. Autograd records the product, so
# $\partial L / \partial W_{orig} = \partial L / \partial W \odot M$: pruned weights get no
# gradient and stay zero while the rest are fine-tuned. **L1 (magnitude) pruning** with
# amount $a$ zeroes the $k = \mathrm{round}(a \cdot n)$ weights of smallest $|w|$. Pruning
# twice **composes**: the second amount is a fraction of the weights still kept, so 50% then
# 50% leaves 25%. **Global** pruning ranks the weights of all layers together.
#
# **Structured vs unstructured.** A mask with scattered zeros leaves every multiply in place:
# a dense matmul does not skip zeros. Removing whole output channels (filter $c$ of a conv,
# row $c$ of a `Linear`) together with input channel $c$ of the next layer shrinks both
# matrices, and the saving is real.
#
# **Distillation.** With temperature $T$, $p_T = \mathrm{softmax}(z_t / T)$ (teacher),
# $q_T = \mathrm{softmax}(z_s / T)$ (student), and
# $L = \alpha T^2 \, \mathrm{KL}(p_T \,\|\, q_T) + (1 - \alpha)\, \mathrm{CE}(z_s, y)$ with
# $\mathrm{KL}(p \| q) = \sum_i p_i (\log p_i - \log q_i)$ and $0 \log 0 = 0$. Given
# log-probabilities $x = \log q$, $\partial \mathrm{KL} / \partial x_i = -p_i$; through the
# softmax, $\partial \mathrm{KL}(p_T \| q_T) / \partial z_s = (q_T - p_T) / T$, so the $T^2$
# keeps the soft term's weight independent of $T$.
#
# **Low rank.** $W = U S V^T$; keeping the $r$ largest singular values gives the best rank-$r$
# approximation (Eckart-Young), split as $W \approx (U_r \sqrt{S_r})(\sqrt{S_r} V_r^T)$: two
# `Linear`s with $r (m + n)$ weights instead of $m n$.
#
# **Sparse files.** A bitmask (1 bit per entry) plus the nonzero values costs
# $n/8 + 4\,\mathrm{nnz}$ bytes in float32 against $4n$ dense: 7.6x less at 90% sparsity.

# %%
w_hand = tinytorch.tensor([[0.5, -0.1, 0.3], [-0.8, 0.05, 0.2]])
mask_hand = np.array([[1, 0, 1], [1, 0, 0]], dtype=np.float32)  # the 3 smallest |w| go
print("weights:\n", w_hand.numpy(), "\nmask by hand (amount 0.5 of 6 = 3):\n", mask_hand)

# %% [markdown]
# ## Exercise 1: masks, their composition, global pruning
#
# **Write** in `tinytorch/nn/utils/prune.py`: `BasePruningMethod.apply_mask`,
# `L1Unstructured.compute_mask`, `combine_masks`
#
# - `BasePruningMethod.apply_mask`: `getattr(module, name + "_orig") * getattr(module,
#   name + "_mask")` (the name is `self._tensor_name`): the forward pre-hook calls it.
# - `L1Unstructured.compute_mask`: `k = units_to_prune(self.amount, t.numel())`; copy the
#   default mask and set 0 at the `k` entries of smallest $|t|$ (`np.argsort` with
#   `kind="stable"`, on the flattened array).
# - `combine_masks`: select the part of `t` the old mask keeps (unstructured: the entries
#   where it is 1; structured: the slices along `method.dim` not all zero; global:
#   everything), compute the method's mask on that part only, and write it back into a copy
#   of the old mask.


# %%
def the_hook(module: nn.Module):
    """The (only) forward pre-hook of ``module``."""
    return next(iter(module._forward_pre_hooks.values()))


layer = nn.Linear(3, 2)
with tinytorch.no_grad():
    layer.weight.copy_(w_hand)
prune.l1_unstructured(layer, "weight", amount=0.5)
check("L1 mask matches the hand computation", np.array_equal(layer.weight_mask.numpy(), mask_hand))
check(
    "state_dict keys are PyTorch's",
    list(layer.state_dict()) == ["bias", "weight_orig", "weight_mask"],
)
check("the hook is the pruning method", isinstance(the_hook(layer), prune.L1Unstructured))
layer(tinytorch.randn(4, 3)).sum().backward()
check("pruned weights get zero gradient", not layer.weight_orig.grad.numpy()[mask_hand == 0].any())
prune.l1_unstructured(layer, "weight", amount=0.5)  # half of the 3 kept: round(1.5) = 2
check("pruning twice composes: 1 weight left", layer.weight_mask.sum().item() == 1)
check("the hook is now a PruningContainer", len(the_hook(layer)) == 2)

tinytorch.manual_seed(0)
wide, narrow = nn.Linear(20, 10), nn.Linear(10, 2)
with tinytorch.no_grad():
    narrow.weight.mul_(5.0)  # larger weights: global ranking should spare this layer
prune.global_unstructured([(wide, "weight"), (narrow, "weight")], prune.L1Unstructured, amount=0.5)
kept_wide, kept_narrow = wide.weight_mask.mean().item(), narrow.weight_mask.mean().item()
print(f"global 50%: kept {kept_wide:.0%} of the wide layer, {kept_narrow:.0%} of the narrow one")
check("global pruning prunes the small-weight layer more", kept_wide < 0.5 < kept_narrow)
prune.remove(wide, "weight")
check("remove: weight is a parameter again", list(wide.state_dict()) == ["bias", "weight"])

# %% [markdown]
# ## Exercise 2: removing channels
#
# **Write** in `tinytorch/compression/channels.py`: `channels_to_keep`, `shrink`
#
# - `channels_to_keep`: the L1 norm of each output channel (`np.abs(w).reshape(out, -1)`
#   summed), keep the `out - round(amount * out)` largest (at least one), sorted ascending.
# - `shrink`: a deep copy of the layer whose `weight` is `weight[out_keep][:, in_keep]` (as a
#   new `Parameter`) and whose bias is `bias[out_keep]`.
#
# `prune_channels` walks a `Sequential` with them; after a `Flatten`, channel $c$ of a conv
# becomes the features $c \cdot HW \ldots (c+1) HW - 1$ of the next `Linear`.

# %%
tinytorch.manual_seed(1)
lenet = lenet5(28)
small = prune_channels(lenet, 0.5)
print(small)
masked = copy.deepcopy(lenet)
parametric = [m for m in masked if isinstance(m, (nn.Conv2d, nn.Linear))]
for m in parametric[:-1]:  # the same channels, pruned with masks (bias included)
    prune.ln_structured(m, "weight", amount=0.5, n=1, dim=0)
    kept = m.weight_mask.numpy().reshape(m.weight.shape[0], -1).any(axis=1)
    prune.custom_from_mask(m, "bias", mask=tinytorch.tensor(kept.astype(np.float32)))
x28 = tinytorch.randn(32, 1, 28, 28)
with tinytorch.no_grad():
    same = np.allclose(small(x28).numpy(), masked(x28).numpy(), atol=1e-5)
check("the smaller dense model computes what the masked model computes", same)


def count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def latency_ms(models: list[nn.Module], x: tinytorch.Tensor, rounds: int = 7) -> list[float]:
    """Median forward time of each model in ms, the models taking turns every round."""
    times: list[list[float]] = [[] for _ in models]
    with tinytorch.no_grad():
        for _ in range(rounds):
            for model, record in zip(models, times, strict=True):
                start = time.perf_counter()
                model(x)
                record.append((time.perf_counter() - start) * 1e3)
    return [float(np.median(record)) for record in times]


tinytorch.set_num_threads(1)  # one BLAS thread: BLAS threads on a busy machine wait for each other
dense_ms, masked_ms, small_ms = latency_ms([lenet, masked, small], x28)
print(f"LeNet-5, batch 32: dense {dense_ms:.2f} ms, masked {masked_ms:.2f} ms, channels removed")
print(f"  {small_ms:.2f} ms; parameters {count(lenet):,} -> {count(small):,}")
check("removing channels makes the model smaller", count(small) < count(lenet) / 2)

# %% [markdown]
# ## Exercise 3: the KL divergence and the distillation loss
#
# **Write** in `tinytorch/ops/divergence.py`: `KLDiv.forward`, `KLDiv.backward`
#
# Forward: $p$ = `target` (or $e^{target}$ with `log_target`), loss $= p (\log p - x)$ with
# 0 where $p = 0$ (use `np.errstate` to silence $\log 0$), reduced by `reduce_divergence`.
# Backward: $\bar x = -p \, \bar L / c$ with $c$ = `reduction_count`; for the target,
# $(\log p + 1 - x)\,\bar L / c$ (times $p$ with `log_target`; NaN where $p = 0$).
#
# **Write** in `tinytorch/compression/distillation.py`: `distillation_loss`
#
# `log_softmax` of both score sets divided by $T$ (the teacher's detached), `F.kl_div` with
# `reduction="batchmean", log_target=True`, then $\alpha T^2 \mathrm{KL} + (1-\alpha)$ CE.

# %%
p = tinytorch.tensor([[0.0, 0.25, 0.75]], dtype=tinytorch.float64)
q = tinytorch.tensor([[0.2, 0.3, 0.5]], dtype=tinytorch.float64)
by_hand = 0.25 * np.log(0.25 / 0.3) + 0.75 * np.log(0.75 / 0.5)  # 0 log 0 counts 0
kl = F.kl_div(q.log(), p, reduction="sum")
check("KL(p || q) matches the hand computation (0 log 0 = 0)", np.isclose(kl.item(), by_hand))
x_leaf = tinytorch.tensor(np.log(rng.dirichlet(np.ones(4), 3)), requires_grad=True)
p_leaf = tinytorch.tensor(rng.dirichlet(np.ones(4), 3), requires_grad=True)
gradcheck(lambda a, b: KLDiv.apply(a, b, "batchmean", False), (x_leaf, p_leaf))
print("✓ KLDiv backward matches finite differences (input and target)")
student = tinytorch.tensor(rng.standard_normal((3, 5)), requires_grad=True)
teacher = tinytorch.tensor(rng.standard_normal((3, 5)))
distillation_loss(
    student, teacher, tinytorch.tensor([0, 1, 2]), temperature=2.0, alpha=1.0
).backward()
gap = (F.softmax(student.detach() / 2.0, 1) - F.softmax(teacher / 2.0, 1)).numpy()
check("soft gradient = T^2 (q_T - p_T) / T / N", np.allclose(student.grad.numpy(), 2.0 * gap / 3))

# %% [markdown]
# A training loop: a teacher MLP learns TinyDigits; then a student with about 6x fewer
# parameters learns twice with the same seed, batches and epochs, once from the labels alone
# and once from the teacher's softened scores as well ($T = 2$, $\alpha = 0.5$: the setting
# that `benchmarks/compression.py --fast` picks on a validation split of TinyDigits).
#
# Whether the teacher helps depends on the experiment, and the benchmark shows both cases.
# On MNIST the teacher (784-256-128-10, 98.3% on the test split) knows far more than 3,000
# labelled images teach a 784-32-16-10 student (9.1x fewer parameters): over seeds 0-2 the
# student reaches 91.01% ± 0.28 alone and 92.82% ± 0.26 distilled, +1.82 points, where
# soft targets act as a regulariser on the small training set ($T = 8$, $\alpha = 0.9$,
# picked on a validation split). On TinyDigits the teacher (97.6%) is barely better than what
# the data allow, and distillation does not help: with 300 labelled images, -0.87 points
# over three seeds that themselves spread over 3 points. The single seed below is no test.

# %%
train_set, test_set = TinyDigits(train=True), TinyDigits(train=False)
train_x = train_set.data.numpy().reshape(len(train_set), -1).astype(np.float32) / 255
train_y = train_set.targets.numpy()
test_x = tinytorch.tensor(
    test_set.data.numpy().reshape(len(test_set), -1) / 255, dtype=tinytorch.float32
)
test_y = test_set.targets.numpy()


def fit(model, epochs, lr=3e-3, seed=0, teacher_scores=None):
    """Adam on cross-entropy, or on the distillation loss when teacher scores are given."""
    tinytorch.manual_seed(seed)
    shuffler = np.random.default_rng(seed)
    optimizer = tinytorch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        order = shuffler.permutation(len(train_y))
        for start in range(0, len(order), 64):
            batch = order[start : start + 64]
            scores = model(tinytorch.tensor(train_x[batch]))
            labels = tinytorch.tensor(train_y[batch])
            if teacher_scores is None:
                loss = F.cross_entropy(scores, labels)
            else:
                soft = tinytorch.tensor(teacher_scores[batch])
                loss = distillation_loss(scores, soft, labels, temperature=2.0, alpha=0.5)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model


def accuracy(model) -> float:
    with tinytorch.no_grad():
        return float((model(test_x).numpy().argmax(1) == test_y).mean())


tinytorch.manual_seed(0)
teacher_mlp = fit(mlp_classifier(64, 128), epochs=12)
with tinytorch.no_grad():
    teacher_scores = teacher_mlp(tinytorch.tensor(train_x)).numpy()
tinytorch.manual_seed(1)
alone = fit(mlp_classifier(64, 32), epochs=6, seed=1)
tinytorch.manual_seed(1)
taught = fit(mlp_classifier(64, 32), epochs=6, seed=1, teacher_scores=teacher_scores)
print(f"teacher {count(teacher_mlp):,} parameters: {accuracy(teacher_mlp):.1%}")
print(f"student {count(alone):,} parameters, labels only: {accuracy(alone):.1%}, distilled: ")
print(f"  {accuracy(taught):.1%} (one seed here; benchmarks/compression.py averages three)")
check("teacher learned the digits", accuracy(teacher_mlp) > 0.9)
check("the student is >= 4x smaller", count(teacher_mlp) >= 4 * count(alone))

# %% [markdown]
# ## Exercise 4: low-rank factorization
#
# **Write** in `tinytorch/compression/low_rank.py`: `truncated_svd`
#
# `np.linalg.svd(weight, full_matrices=False)` gives $U$, $s$, $V^T$; return
# $U_r \sqrt{s_r}$ (out, r) and $\sqrt{s_r} V_r^T$ (r, in). `factorize_linear` builds the two
# layers from them and `factorize_linears` replaces every `Linear` that gets smaller.

# %%
w_test = rng.standard_normal((6, 4))
outer, inner = truncated_svd(w_test, 4)
check("full rank reproduces W", np.allclose(outer @ inner, w_test))
singular = np.linalg.svd(w_test, compute_uv=False)
outer, inner = truncated_svd(w_test, 2)
check(
    "rank-2 error = sqrt(s3^2 + s4^2) (Eckart-Young)",
    np.isclose(np.linalg.norm(w_test - outer @ inner), np.sqrt((singular[2:] ** 2).sum())),
)
print(f"{'rank':>6}{'parameters':>12}{'test accuracy':>15}")
curve = {}
for rank in (2, 4, 8, 16, 32):
    factored = factorize_linears(copy.deepcopy(teacher_mlp), rank)
    curve[rank] = accuracy(factored)
    print(f"{rank:>6}{count(factored):>12,}{curve[rank]:>15.1%}")
check("accuracy recovers as the rank grows", curve[32] > curve[2])

# %% [markdown]
# ## Exercise 5: sparse files
#
# **Write** in `tinytorch/compression/sparse.py`: `to_bitmask`, `from_bitmask`
#
# `to_bitmask`: flatten, `nonzero = flat != 0`, return `np.packbits(nonzero)` and
# `flat[nonzero]`. `from_bitmask`: `np.unpackbits(bits, count=size)` as booleans, scatter
# the values into zeros, reshape.

# %%
sparse_demo = np.array([[0.0, 1.5, 0.0, 0.0], [0.0, 0.0, -2.0, 0.0]], dtype=np.float32)
bits, values = to_bitmask(sparse_demo)
check("8 entries pack into one byte", bits.dtype == np.uint8 and bits.size == 1)
check("round trip", np.array_equal(from_bitmask(bits, values, (2, 4)), sparse_demo))

pruned_mlp = copy.deepcopy(teacher_mlp)
linears = [(m, "weight") for m in pruned_mlp if isinstance(m, nn.Linear)]
prune.global_unstructured(linears, prune.L1Unstructured, amount=0.9)
before_tuning = accuracy(pruned_mlp)
fit(pruned_mlp, epochs=5, seed=2)
with tempfile.TemporaryDirectory() as folder:
    dense_file, sparse_file = os.path.join(folder, "dense.tt"), os.path.join(folder, "sparse.tt")
    tinytorch.save(teacher_mlp.state_dict(), dense_file)
    save_sparse(pruned_mlp, sparse_file)
    dense_bytes, sparse_bytes = os.path.getsize(dense_file), os.path.getsize(sparse_file)
    restored = mlp_classifier(64, 128)
    restored.load_state_dict(load_sparse(sparse_file))
check("the sparse file loads into a plain dense model", accuracy(restored) == accuracy(pruned_mlp))

# %% [markdown]
# ## Systems analysis: what each technique buys
#
# Every number below was measured just now: accuracies on the TinyDigits test split, bytes
# of the files written above, times of interleaved forward passes.

# %%
x_digits = test_x
dense_t, pruned_t = latency_ms([teacher_mlp, pruned_mlp], x_digits, rounds=15)
print(f"{'model':<34}{'params':>9}{'file bytes':>12}{'accuracy':>10}")
print(f"{'MLP 64-128-64-10, dense':<34}{count(teacher_mlp):>9,}{dense_bytes:>12,}"
      f"{accuracy(teacher_mlp):>10.1%}")  # fmt: skip
print(f"{'90% pruned, before fine-tuning':<34}{'':>9}{'':>12}{before_tuning:>10.1%}")
print(f"{'90% pruned + 5 epochs (sparse file)':<34}{'10%':>9}{sparse_bytes:>12,}"
      f"{accuracy(pruned_mlp):>10.1%}")  # fmt: skip
print(f"forward, 500 digits: dense {dense_t:.3f} ms, 90% masked {pruned_t:.3f} ms")
print(f"LeNet-5 batch 32: dense {dense_ms:.2f} ms, masked {masked_ms:.2f} ms, channels removed "
      f"{small_ms:.2f} ms ({dense_ms / small_ms:.1f}x)")  # fmt: skip
check("the sparse file is >= 4x smaller than the dense one", dense_bytes >= 4 * sparse_bytes)

# %% [markdown]
# Read the table. Masked pruning shrinks the *file* (once the zeros are stored as bits) but
# not the *time*: a dense matmul multiplies zeros as fast as anything else, so the masked
# MLP and LeNet run as slowly as the dense ones. Sparse kernels pay off only at very high
# sparsity, or on hardware built for fixed patterns (2:4 sparsity on recent GPUs). Removing
# channels shrinks the matmuls themselves: LeNet's second convolution with half its inputs
# and half its filters does a quarter of the work. Distillation and low rank change the
# architecture, so their savings are real too; the price is accuracy, bought back by
# fine-tuning or a teacher. `benchmarks/compression.py` measures all of it on MNIST; on the
# project's shared 2-core machine, with one BLAS thread, it measured:
#
# - the MLP pruned to 90% and fine-tuned: 98.34% -> 98.04%, in a file 7.4x smaller;
# - LeNet-5 with 60% of the channels of every layer but the last removed and three
#   epochs of fine-tuning: 98.70% -> 97.84%, 6.4x fewer parameters, a forward pass about
#   2x faster at batch 64 and at batch 256, but only 1.14x for a single image. One image
#   costs about 0.14 ms of per-layer Python and NumPy calls (argument checks, dispatch,
#   small allocations) whatever the number of channels: fewer channels remove arithmetic,
#   not calls;
# - distillation: +1.82 points for a student 9.1x smaller than its teacher, trained on
#   3,000 labelled images (91.01% ± 0.28 alone, 92.82% ± 0.26 distilled, three seeds).
#
# ## Reflection
#
# 1. Why does global pruning usually beat pruning every layer by the same amount? Which
#    layers of the MLP lost the most weights, and why?
# 2. At what sparsity does a bitmask file beat a dense one? CSR stores a 4-byte column index
#    per nonzero: at what sparsity does it beat the bitmask?
# 3. Why does a masked model run no faster, and what would a kernel need to exploit the
#    zeros? Why are whole channels easier?
# 4. Distillation multiplies the soft term by $T^2$. What happens to the student's training
#    if you forget it and raise $T$ from 1 to 10?
# 5. The rank curve flattens above some rank. What does that say about the singular values
#    of the trained weights, and how would you pick a rank per layer?
