"""Random number generation: one seedable default generator, and ``Generator`` objects.

``tinytorch.manual_seed(s)`` makes every random function (``rand``, ``randn``, ``randint``,
``randperm``, dropout masks, weight initialisation, DataLoader shuffling) repeat exactly.
A ``Generator`` passed as ``generator=`` gives one consumer its own reproducible stream::

    >>> g = tinytorch.Generator().manual_seed(0)
    >>> order = tinytorch.randperm(5, generator=g)
"""

from __future__ import annotations

import numpy as np


class Generator:
    """A seedable source of random numbers backed by ``numpy.random.Generator`` (PCG64).

    The NumPy generator is ``rng``; framework code draws from it directly.
    """

    def __init__(self, device: str = "cpu") -> None:
        self._seed = int(np.random.SeedSequence().entropy % 2**63)
        self.rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from ``seed``; returns the generator, as PyTorch does."""
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Reseed from fresh entropy and return the new seed."""
        return self.manual_seed(int(np.random.SeedSequence().entropy % 2**63)).initial_seed()

    def initial_seed(self) -> int:
        """The seed the current stream started from."""
        return self._seed


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator, so that every random operation repeats exactly."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator from fresh entropy; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed of the default generator's current stream."""
    return default_generator.initial_seed()


def rng(generator: Generator | None = None) -> np.random.Generator:
    """The NumPy generator to draw from: ``generator``'s, or the default one."""
    return (generator or default_generator).rng
