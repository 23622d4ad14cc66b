"""Samplers: the order in which a DataLoader visits a dataset.

A sampler is an iterable of dataset indices; a ``BatchSampler`` groups them into lists::

    >>> list(SequentialSampler(range(5)))
    [0, 1, 2, 3, 4]
    >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
    [[0, 1], [2, 3], [4]]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Sized

import numpy as np

from tinytorch.random import Generator, rng

DRAW_BLOCK = 4096  # indices drawn at once by RandomSampler with replacement


class Sampler:
    """Base class of samplers: subclasses define ``__iter__`` (and usually ``__len__``).

    ``data_source`` is accepted for scripts written for older PyTorch versions and not used.
    """

    def __init__(self, data_source: Sized | None = None) -> None:
        pass

    def __iter__(self) -> Iterator:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """Indices 0, 1, ..., len(data_source) - 1, in order, every epoch."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Indices in a random order, a new one each epoch.

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw each index independently (repeats possible) instead of permuting.
        num_samples: how many indices per epoch; default ``len(data_source)``. Without
            replacement, more than ``len(data_source)`` chains several permutations.
        generator: where the randomness comes from; default the global generator, which
            ``tinytorch.manual_seed`` seeds.

    Example::

        >>> sorted(RandomSampler(range(4)))
        [0, 1, 2, 3]
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Generator | None = None,
    ) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(
                f"replacement should be a boolean value, but got replacement={replacement}"
            )
        if not _is_positive_int(self.num_samples):
            raise ValueError(
                "num_samples should be a positive integer value, "
                f"but got num_samples={self.num_samples}"
            )

    @property
    def num_samples(self) -> int:
        """Indices per epoch (follows the dataset's length unless given)."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        """The epoch's indices, drawn lazily a block at a time: memory stays small for any
        ``num_samples``. One seed is drawn from ``generator`` when the epoch starts (as in
        PyTorch), so the order does not depend on other draws made during the epoch."""
        epoch_seed = int(rng(self.generator).integers(2**63))
        return itertools.islice(self._draws(np.random.default_rng(epoch_seed)), self.num_samples)

    def _draws(self, epoch_rng: np.random.Generator) -> Iterator[int]:
        """Endless indices: blocks of independent draws, or one permutation after another."""
        n = len(self.data_source)
        while True:
            if self.replacement:
                block = epoch_rng.integers(0, n, size=min(self.num_samples, DRAW_BLOCK))
            else:
                block = epoch_rng.permutation(n)
            yield from map(int, block)

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size``.

    The last list is shorter when the length is not a multiple of ``batch_size``, unless
    ``drop_last`` drops it. ``len`` is ``N // batch_size`` with ``drop_last``, else
    ``ceil(N / batch_size)``.

    Example::

        >>> list(BatchSampler(range(5), batch_size=2, drop_last=True))
        [[0, 1], [2, 3]]
    """

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not _is_positive_int(batch_size):
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        indices = iter(self.sampler)
        while batch := list(itertools.islice(indices, self.batch_size)):
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return math.ceil(len(self.sampler) / self.batch_size)


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
