"""The DataLoader: iterate over a dataset in batches, and ``default_collate``, which builds them.

Each epoch the batch sampler hands out lists of indices; the loader fetches those samples and
merges them with ``collate_fn``. A batch keeps the structure of one sample, with every leaf
stacked along a new first dimension of size B::

    >>> loader = DataLoader(TensorDataset(tinytorch.randn(10, 3), tinytorch.arange(10)),
    ...                     batch_size=4, shuffle=True)
    >>> len(loader)                           # ceil(10 / 4) batches per epoch
    3
    >>> features, labels = next(iter(loader))  # features (4, 3) float32, labels (4,) int64
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

import tinytorch
from tinytorch.random import Generator
from tinytorch.utils.data.dataset import Dataset, TensorDataset
from tinytorch.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

_UNSUPPORTED = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists"


def default_collate(batch: Sequence[Any]) -> Any:
    """Merge a list of B samples into one batch with the structure of a single sample.

    ================================  ==============================================
    samples are                       batch is
    ================================  ==============================================
    Tensors of shape S                ``tinytorch.stack``: shape (B, *S)
    NumPy arrays / NumPy scalars      a Tensor (B, *S) of the same dtype
    Python ``bool`` / ``int``         a bool / int64 Tensor (B,)
    Python ``float``                  a float64 Tensor (B,)  (as in PyTorch)
    ``str`` / ``bytes``               the list of them, unchanged
    dicts                             a dict: each key collated over the samples
    tuples / lists                    a list: each position collated (namedtuples stay)
    ================================  ==============================================

    Example::

        >>> default_collate([(tinytorch.zeros(3), 1), (tinytorch.ones(3), 0)])
        [tensor of shape (2, 3), tensor([1, 0])]
    """
    # BEGIN SOLUTION 08
    first = batch[0]
    if isinstance(first, tinytorch.Tensor):
        return tinytorch.stack(list(batch))
    if isinstance(first, (str, bytes)):
        return list(batch)
    if isinstance(first, (np.ndarray, np.generic)):
        if first.dtype.kind in "USOV":  # strings, objects: no tensor type holds them
            raise TypeError(f"{_UNSUPPORTED}; found {first.dtype}")
        return tinytorch.from_numpy(np.stack(batch))
    if isinstance(first, float):
        return tinytorch.tensor(list(batch), dtype=tinytorch.float64)
    if isinstance(first, int):  # bool is an int: tensor() keeps bool, makes int64 of the rest
        return tinytorch.tensor(list(batch))
    if isinstance(first, Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in first}
    if isinstance(first, Sequence):
        if any(len(sample) != len(first) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(samples) for samples in zip(*batch, strict=True)]
        return type(first)(*fields) if hasattr(first, "_fields") else fields
    raise TypeError(f"{_UNSUPPORTED}; found {type(first)}")
    # END SOLUTION


def default_convert(sample: Any) -> Any:
    """Turn the NumPy arrays and NumPy scalars inside one sample into Tensors.

    The ``collate_fn`` used when ``batch_size=None`` (no batching): the structure (dicts,
    tuples, lists) is kept, everything else is returned unchanged.

    Example::

        >>> default_convert({"x": np.zeros(2), "name": "a"})
        {'x': tensor([0., 0.], dtype=tinytorch.float64), 'name': 'a'}
    """
    if isinstance(sample, (np.ndarray, np.generic)) and sample.dtype.kind not in "USOV":
        return tinytorch.from_numpy(np.asarray(sample))
    if isinstance(sample, Mapping):
        return {key: default_convert(value) for key, value in sample.items()}
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(default_convert(value) for value in sample))
    if isinstance(sample, (tuple, list)):
        return type(sample)(default_convert(value) for value in sample)
    return sample


class DataLoader:
    """Iterate over ``dataset`` in batches, in order or shuffled; every ``for`` is a new epoch.

    Args:
        dataset: a map-style dataset (``len`` and ``dataset[i]``).
        batch_size: samples per batch; ``None`` yields the samples one by one, unbatched.
        shuffle: visit the samples in a new random order every epoch.
        sampler: the order of the indices, instead of ``shuffle``.
        batch_sampler: yields whole lists of indices, instead of ``batch_size``, ``shuffle``,
            ``sampler`` and ``drop_last``.
        num_workers: accepted for PyTorch scripts; tinytorch always loads in this process.
        collate_fn: merges a list of samples into a batch; default ``default_collate``.
        pin_memory, persistent_workers: accepted for PyTorch scripts; no effect on the CPU.
        drop_last: drop the last batch when it has fewer than ``batch_size`` samples.
        generator: the random stream of ``shuffle``; default the global one.

    ``len(loader)`` is the number of batches: ``ceil(N / batch_size)``, or
    ``N // batch_size`` with ``drop_last``.

    Example::

        >>> loader = DataLoader(dataset, batch_size=32, shuffle=True, drop_last=True)
        >>> for epoch in range(3):
        ...     for inputs, targets in loader:    # inputs (32, ...), targets (32, ...)
        ...         ...
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = False,
        sampler: Sampler | None = None,
        batch_sampler: Sampler | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        generator: Generator | None = None,
        *,
        persistent_workers: bool = False,
    ) -> None:
        _check_options(batch_size, bool(shuffle), sampler, batch_sampler, num_workers, drop_last)
        if sampler is None and shuffle:
            sampler = RandomSampler(dataset, generator=generator)
        elif sampler is None:
            sampler = SequentialSampler(dataset)
        if batch_sampler is not None:  # it decides the batch size
            batch_size, drop_last = None, False
        elif batch_size is not None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.collate_fn = collate_fn
        self.generator = generator

    def __iter__(self) -> Iterator[Any]:
        """One epoch: a collated batch per index list (one converted sample per index when
        ``batch_size=None``)."""
        # BEGIN SOLUTION 08
        if self.batch_sampler is None:
            for index in self.sampler:
                yield self.collate_fn(self.dataset[index])
        else:
            for indices in self.batch_sampler:
                yield self._fetch(indices)
        # END SOLUTION

    def _fetch(self, indices: list[int]) -> Any:
        """The batch of the samples at ``indices``.

        Fast path: for a plain ``TensorDataset`` with the default ``collate_fn``, one fancy
        index per tensor (``tensor[indices]``) gives the very batch that fetching B samples
        and stacking them would, without a Python loop over the samples.
        """
        # BEGIN SOLUTION 08
        if type(self.dataset) is TensorDataset and self.collate_fn is default_collate:
            return list(self.dataset[indices])
        return self.collate_fn([self.dataset[index] for index in indices])
        # END SOLUTION

    def __len__(self) -> int:
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)


def _check_options(
    batch_size: int | None,
    shuffle: bool,
    sampler: Sampler | None,
    batch_sampler: Sampler | None,
    num_workers: int,
    drop_last: bool,
) -> None:
    """Raise ``ValueError`` for DataLoader options that contradict each other, as PyTorch."""
    if num_workers < 0:
        raise ValueError(
            "num_workers option should be non-negative; "
            "use num_workers=0 to disable multiprocessing."
        )
    if sampler is not None and shuffle:
        raise ValueError("sampler option is mutually exclusive with shuffle")
    if batch_sampler is not None and (
        batch_size != 1 or shuffle or sampler is not None or drop_last
    ):
        raise ValueError(
            "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
            "and drop_last"
        )
    if batch_sampler is None and batch_size is None and drop_last:
        raise ValueError(
            "batch_size=None option disables auto-batching and is mutually exclusive with drop_last"
        )
