# %% [markdown]
# # Module 08: DataLoader
#
# A training loop eats batches: tensors of B samples stacked along a new first axis, in a new
# random order every epoch. In this module you write the pieces that produce them: a dataset
# of tensors, a random split, the collate function that stacks samples, the loader that ties
# them together (with a fast path that skips per-sample Python work), and image transforms.
#
# ## Learning objectives
#
# - Separate *what* a sample is (`Dataset`) from *which* samples and in what order (sampler)
#   and *how* they become a batch (`collate_fn`).
# - Shuffle once per epoch, split a dataset reproducibly, batch with or without `drop_last`.
# - Collate nested samples (tuples, dicts, numbers, arrays) into batches of the same structure.
# - Write vectorised transforms that treat a whole batch of images in one NumPy call.
# - Measure the input pipeline: batches per second, per-sample fetching vs one fancy index.
#
# **Textbook:** *Machine Learning Systems* ([mlsysbook.ai](https://mlsysbook.ai)), chapter
# "Data Engineering" (data pipelines, preprocessing, feeding the model).
#
# **Prerequisites:** module 01 (tensors, indexing, `stack`) and module 07 (the training loop
# that consumes the batches).

# %%
# Set-up: test the tinytorch of this workspace (the folder above modules/), not an installed
# copy. Under Jupyter, your edits to the package are reloaded before every cell.
from tito.course.lesson_setup import use_workspace

use_workspace()

# %%
import time

import numpy as np

import tinytorch
from tinytorch.utils.data import DataLoader, Dataset, TensorDataset, random_split
from tinytorch.utils.data.dataloader import default_collate
from tinytorch.utils.data.transforms import Normalize, RandomCrop, RandomHorizontalFlip, ToTensor


def check(name: str, condition: bool, detail: str = "") -> None:
    """Print ✓ name, or stop with ✗ and the reason."""
    assert condition, f"✗ {name}: {detail}"
    print(f"✓ {name}")


# %% [markdown]
# ## The idea
#
# An epoch over $N$ samples with batch size $B$ is $\lceil N / B \rceil$ batches
# ($\lfloor N / B \rfloor$ with `drop_last`, which drops a short last batch). Shuffling draws
# a new permutation of $0..N-1$ every epoch, so consecutive batches are not correlated with
# the order the data was stored in. Collation turns a list of $B$ samples, each
# `(x of shape S, label)`, into `[X of shape (B, *S), labels of shape (B,)]`: the structure of
# one sample, with every leaf stacked.
#
# Worked example: $N = 10$, $B = 4$ gives batches of 4, 4, 2 (3 batches), or 4, 4 with
# `drop_last`.

# %%
features = tinytorch.arange(20, dtype=tinytorch.float32).reshape(10, 2)
labels = tinytorch.arange(10)
data = TensorDataset(features, labels)
sizes = [len(x) for x, _ in DataLoader(data, batch_size=4)]
sizes_dropped = [len(x) for x, _ in DataLoader(data, batch_size=4, drop_last=True)]
print("batch sizes:", sizes, " with drop_last:", sizes_dropped)
check("ceil(10 / 4) = 3 batches, floor = 2 with drop_last", sizes == [4, 4, 2], str(sizes))

# %% [markdown]
# ## Exercise 1: datasets and splits
#
# **Write** in `tinytorch/utils/data/dataset.py`: `TensorDataset.__getitem__`,
# `random_split`
#
# - `TensorDataset.__getitem__(index)`: the tuple of `tensor[index]` over its tensors. An
#   integer gives one sample; a list of indices gives a whole batch in one indexing call.
# - `random_split(dataset, lengths, generator)`: the lengths are already whole numbers when
#   your code runs. Draw `tinytorch.randperm(len(dataset), generator=generator)` and cut it
#   into consecutive pieces, each a `Subset`.

# %%
x3, y3 = data[3]
check("data[3] is one sample", x3.tolist() == [6.0, 7.0] and y3.item() == 3)
xb, yb = data[[0, 9]]
check("data[[0, 9]] is a batch of two", xb.shape == (2, 2) and yb.tolist() == [0, 9])
parts = random_split(data, [0.7, 0.3], generator=tinytorch.Generator().manual_seed(0))
again = random_split(data, [0.7, 0.3], generator=tinytorch.Generator().manual_seed(0))
seen = sorted(parts[0][i][1].item() for i in range(7)) + [p[1].item() for p in parts[1]]
check("random_split: 7 + 3 samples", [len(p) for p in parts] == [7, 3])
check("random_split: every sample exactly once", sorted(seen) == list(range(10)))
check("random_split: same generator seed, same split", parts[0].indices == again[0].indices)

# %% [markdown]
# ## Exercise 2: collation
#
# **Write** in `tinytorch/utils/data/dataloader.py`: `default_collate`
#
# Look at the first sample and recurse: Tensors are `tinytorch.stack`ed; NumPy arrays and
# scalars are stacked with `np.stack` and wrapped with `tinytorch.from_numpy` (raise
# `TypeError` for string or object arrays); Python floats become a float64 tensor and ints
# (and bools) a tensor; strings and bytes stay a list; a dict collates each key; a tuple or
# list collates each position (after checking every sample has the same length) and returns
# a list, except that a namedtuple keeps its type.

# %%
batch = default_collate([(tinytorch.zeros(3), 1), (tinytorch.ones(3), 0)])
check(
    "tuples of (tensor, int) -> [tensor (2, 3), tensor (2,)]",
    batch[0].shape == (2, 3) and batch[1].tolist() == [1, 0],
)
nested = default_collate(
    [
        {"x": np.ones(2, np.float32), "id": "a", "w": 0.5},
        {"x": np.zeros(2, np.float32), "id": "b", "w": 1.5},
    ]
)
check("dicts collate per key", nested["x"].shape == (2, 2) and nested["id"] == ["a", "b"])
check("Python floats become float64, as in PyTorch", nested["w"].dtype == tinytorch.float64)

# %% [markdown]
# ## Exercise 3: the loader
#
# **Write** in `tinytorch/utils/data/dataloader.py`: `DataLoader.__iter__`,
# `DataLoader._fetch`
#
# - `__iter__` is a generator: one epoch. Without a batch sampler (`batch_size=None`) yield
#   `collate_fn(dataset[index])` for each index of `self.sampler`; otherwise yield
#   `self._fetch(indices)` for each list of indices from `self.batch_sampler`. A new `for`
#   loop is a new epoch, and a shuffling sampler draws a new order each time.
# - `_fetch(indices)`: the general path collates `[dataset[i] for i in indices]`. Fast path:
#   when the dataset is exactly a `TensorDataset` and `collate_fn` is `default_collate`,
#   `list(dataset[indices])` gives the same batch with one fancy index per tensor.

# %%
tinytorch.manual_seed(0)
shuffled = DataLoader(data, batch_size=4, shuffle=True)
epoch1 = [y.tolist() for _, y in shuffled]
epoch2 = [y.tolist() for _, y in shuffled]
print("epoch 1 labels:", epoch1, "\nepoch 2 labels:", epoch2)
check("an epoch visits every sample once", sorted(sum(epoch1, [])) == list(range(10)))
check("each epoch has its own order", epoch1 != epoch2)


class PerSample(Dataset):
    """The same data as ``data``, but a plain Dataset: one Python call per sample."""

    def __init__(self, source: TensorDataset) -> None:
        self.source = source

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int):
        return self.source[index]


fast = [x.detach().numpy() for x, _ in DataLoader(data, batch_size=4)]
slow = [x.detach().numpy() for x, _ in DataLoader(PerSample(data), batch_size=4)]
check(
    "fast path and per-sample path give the same batches",
    all(np.array_equal(a, b) for a, b in zip(fast, slow, strict=True)),
)
unbatched = list(DataLoader(data, batch_size=None))
check(
    "batch_size=None yields single samples", len(unbatched) == 10 and unbatched[0][0].shape == (2,)
)

# %% [markdown]
# ## Exercise 4: image transforms
#
# **Write** in `tinytorch/utils/data/transforms.py`: `ToTensor.__call__`,
# `Normalize.__call__`, `RandomHorizontalFlip.__call__`, `RandomCrop.__call__`
#
# Images are channels-first tensors (C, H, W) or batches (N, C, H, W).
#
# - `ToTensor`: add a channel axis to (H, W); move channels first with `np.moveaxis`;
#   `uint8` in [0, 255] becomes `float32` in [0, 1], other dtypes keep their values.
# - `Normalize`: `(images - mean) / std` with `mean`, `std` shaped (C, 1, 1); in place with
#   `-=` and `/=` when `inplace`.
# - `RandomHorizontalFlip`: one coin per image (`rng().random(N) < p`); reverse the last
#   axis of the chosen images.
# - `RandomCrop` (after the padding the code above it does): draw a top and a left corner per
#   image with `rng().integers`, then cut all N windows with one advanced index built from
#   broadcast `np.arange` grids, shapes (N, 1, 1, 1), (1, C, 1, 1), (N, 1, h, 1), (N, 1, 1, w).

# %%
pixels = np.arange(2 * 4 * 4 * 3, dtype=np.uint8).reshape(2, 4, 4, 3)  # (N, H, W, C)
images = ToTensor()(pixels)
check(
    "ToTensor: (N, H, W, C) uint8 -> (N, C, H, W) float32 in [0, 1]",
    images.shape == (2, 3, 4, 4)
    and images.dtype == tinytorch.float32
    and np.isclose(images.detach().numpy()[1, 2, 3, 1], pixels[1, 3, 1, 2] / 255),
)
normalized = Normalize(mean=(0.1, 0.2, 0.3), std=(0.5, 0.5, 0.5))(images)
expected = (images.detach().numpy() - np.array([0.1, 0.2, 0.3])[:, None, None]) / 0.5
check("Normalize per channel", np.allclose(normalized.detach().numpy(), expected, atol=1e-6))
flipped = RandomHorizontalFlip(p=1.0)(images)
check(
    "RandomHorizontalFlip(p=1) mirrors every image",
    np.array_equal(flipped.detach().numpy(), images.detach().numpy()[..., ::-1]),
)
tinytorch.manual_seed(0)
crops = RandomCrop(2)(images).detach().numpy()
windows = [
    images.detach().numpy()[n, :, i : i + 2, j : j + 2]
    for n in range(2)
    for i in range(3)
    for j in range(3)
]
check(
    "RandomCrop(2) cuts a 2 x 2 window of each image",
    crops.shape == (2, 3, 2, 2)
    and all(any(np.array_equal(crop, w) for w in windows) for crop in crops),
)
padded = RandomCrop(4, padding=1)(images)
check("RandomCrop with padding keeps the size", padded.shape == (2, 3, 4, 4))

# %% [markdown]
# ## Systems analysis
#
# A loader that cannot keep up starves the model. Below, measured live on a synthetic dataset
# of 4,096 samples of 3 x 16 x 16 float32 "images": batches per second (and samples per
# second) for one epoch with the `TensorDataset` fast path and with the per-sample `Dataset`
# above, at several batch sizes, and the cost of augmenting a batch with the transforms.

# %%
tinytorch.manual_seed(0)
n_samples = 4096
images_all = tinytorch.randn(n_samples, 3, 16, 16)
labels_all = tinytorch.randint(0, 10, (n_samples,))
tensor_data = TensorDataset(images_all, labels_all)
per_sample = PerSample(tensor_data)


def epoch_seconds(dataset, batch_size: int, repeats: int = 2) -> float:
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _batch in loader:
            pass
        times.append(time.perf_counter() - start)
    return min(times)


print(
    f"{'batch':>6}{'batches':>9}{'fast batch/s':>14}{'per-sample batch/s':>20}"
    f"{'fast samples/s':>16}{'speed-up':>10}"
)
speedups = []
for batch_size in (8, 64, 512):
    n_batches = -(-n_samples // batch_size)
    t_fast = epoch_seconds(tensor_data, batch_size)
    t_slow = epoch_seconds(per_sample, batch_size, repeats=1)
    speedups.append(t_slow / t_fast)
    print(
        f"{batch_size:>6}{n_batches:>9}{n_batches / t_fast:>14,.0f}{n_batches / t_slow:>20,.0f}"
        f"{n_samples / t_fast:>16,.0f}{t_slow / t_fast:>10.1f}x"
    )
print(f"Smallest speed-up of the fast path: {min(speedups):.1f}x (timings vary run to run).")

augment_batch = images_all[:256]
crop, flip = RandomCrop(16, padding=2), RandomHorizontalFlip()
norm = Normalize(mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
start = time.perf_counter()
for _ in range(5):
    norm(flip(crop(augment_batch)))
per_batch = (time.perf_counter() - start) / 5
print(
    f"\ncrop + flip + normalize of a (256, 3, 16, 16) batch: {per_batch * 1e3:.2f} ms "
    f"({256 / per_batch:,.0f} images/s)"
)

# %% [markdown]
# Read the table: the per-sample path pays Python overhead for every sample (a `__getitem__`
# call, small tensors, a `stack`), so its samples per second hardly changes with the batch
# size, while the fast path pays once per batch and gains from larger batches. Compare those
# rates with how many samples per second your training step can consume.
#
# ## Reflection
#
# 1. Why does `_fetch` take the fast path only when the dataset is exactly a `TensorDataset`
#    and `collate_fn` is the default? Give a subclass or a collate function that would
#    break if it took the fast path anyway.
# 2. In your table, at which batch size does the fast path stop gaining? What limits it
#    there: Python, memory copies, or something else?
# 3. Shuffling draws a new permutation every epoch. What goes wrong in training if the data
#    is sorted by label and never shuffled?
# 4. The random transforms draw one coin per image on a batch, where torchvision draws once
#    per call. Why does that matter when you augment whole batches at a time?
