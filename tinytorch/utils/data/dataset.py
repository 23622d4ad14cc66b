"""Datasets: anything with ``len(dataset)`` and ``dataset[i]`` returning one sample.

``TensorDataset`` wraps tensors that share their first dimension; ``Subset`` and
``ConcatDataset`` select and join datasets; ``random_split`` cuts one into random parts::

    >>> data = TensorDataset(tinytorch.randn(100, 3), tinytorch.arange(100))
    >>> data[0]                               # (features (3,), label ())
    >>> train, val = random_split(data, [0.8, 0.2])
    >>> len(train), len(val)
    (80, 20)
"""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import tinytorch
from tinytorch.random import Generator


class Dataset:
    """Base class of map-style datasets: subclasses define ``__getitem__`` and ``__len__``.

    ``dataset_a + dataset_b`` is their ``ConcatDataset``.
    """

    def __getitem__(self, index: Any) -> Any:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are slices of tensors along their first dimension.

    Args:
        *tensors: tensors with the same size N of dimension 0.

    Shapes: tensors (N, ...) each; ``dataset[i]`` is a tuple of their rows ``t[i]``.
    An index may also be a list or tensor of indices: then each row is a batch (B, ...).

    Example::

        >>> data = TensorDataset(tinytorch.zeros(5, 2), tinytorch.arange(5))
        >>> x, y = data[3]                    # x: (2,), y: tensor(3)
    """

    def __init__(self, *tensors: tinytorch.Tensor) -> None:
        sizes = [tensor.shape[0] if tensor.dim() > 0 else None for tensor in tensors]
        if not tensors or any(size is None or size != sizes[0] for size in sizes):
            raise ValueError(
                "Size mismatch between tensors: TensorDataset needs at least one tensor and "
                f"the same size of dimension 0 in all of them, got shapes "
                f"{[tuple(tensor.shape) for tensor in tensors]}"
            )
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple[tinytorch.Tensor, ...]:
        # BEGIN SOLUTION 08
        return tuple(tensor[index] for tensor in self.tensors)
        # END SOLUTION

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``subset[i]`` is
    ``dataset[indices[i]]``.

    Example::

        >>> evens = Subset(data, range(0, len(data), 2))
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index: int) -> Any:
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several datasets one after the other: indices 0..len(a)-1 go to ``a``, then ``b``, ...

    ``cumulative_sizes[k]`` is the total length of the first k+1 datasets.

    Example::

        >>> both = ConcatDataset([train, extra])     # len(both) == len(train) + len(extra)
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which > 0 else 0
        return self.datasets[which][index - start]


def random_split(
    dataset: Dataset,
    lengths: Sequence[int | float],
    generator: Generator | None = None,
) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random subsets of the given lengths.

    ``lengths`` are either sizes that add up to ``len(dataset)``, or fractions that add up to 1:
    each part then gets ``floor(fraction * len(dataset))`` samples, and the samples left over
    go one each to the first parts. ``generator`` makes the split reproducible.

    Example::

        >>> train, val = random_split(range(10), [0.7, 0.3])     # 7 and 3 samples
        >>> a, b = random_split(range(10), [4, 6], generator=Generator().manual_seed(0))
    """
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        lengths = _lengths_from_fractions(lengths, len(dataset))
    if sum(lengths) != len(dataset):
        raise ValueError(
            "Sum of input lengths does not equal the length of the input dataset! "
            f"Got lengths {list(lengths)} for a dataset of length {len(dataset)}"
        )
    # BEGIN SOLUTION 08
    order = tinytorch.randperm(len(dataset), generator=generator).tolist()
    parts, start = [], 0
    for length in lengths:
        parts.append(Subset(dataset, order[start : start + length]))
        start += length
    return parts
    # END SOLUTION


def _lengths_from_fractions(fractions: Sequence[float], total: int) -> list[int]:
    """Sizes of the parts of ``total`` samples split by ``fractions`` (which add up to 1)."""
    for i, fraction in enumerate(fractions):
        if not 0 <= fraction <= 1:
            raise ValueError(f"Fraction at index {i} is not between 0 and 1")
    lengths = [math.floor(total * fraction) for fraction in fractions]
    for i in range(total - sum(lengths)):
        lengths[i % len(lengths)] += 1
    for i, length in enumerate(lengths):
        if length == 0:
            warnings.warn(
                f"Length of split at index {i} is 0. This might result in an empty dataset.",
                stacklevel=3,
            )
    return lengths
