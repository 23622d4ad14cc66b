"""Datasets: two that ship with TinyTorch, and readers of three classic ones.

- ``TinyDigits``: 8x8 handwritten digits, inside the package (no download).
- ``TinyTalks``: question-answer pairs for character-level language models, inside the package.
- ``MNIST``, ``FashionMNIST``: the standard IDX files; ``CIFAR10``: the standard batches.
  They read from a data directory: the ``root`` argument, else ``$TINYTORCH_DATA``, else
  ``~/.tinytorch/data``; ``download=True`` fetches missing files, verified by checksum.

Image datasets return ``(image, label)`` with ``image`` a float32 Tensor (C, H, W) in [0, 1]::

    >>> from tinytorch.datasets import TinyDigits
    >>> loader = tinytorch.utils.data.DataLoader(TinyDigits(train=True), batch_size=64)
"""

from tinytorch.datasets.cifar import CIFAR10
from tinytorch.datasets.download import ChecksumError, DatasetNotFoundError, data_root
from tinytorch.datasets.mnist import MNIST, FashionMNIST
from tinytorch.datasets.tinydigits import TinyDigits
from tinytorch.datasets.tinytalks import TinyTalks
from tinytorch.datasets.vision import ImageDataset

__all__ = [
    "CIFAR10",
    "ChecksumError",
    "DatasetNotFoundError",
    "FashionMNIST",
    "ImageDataset",
    "MNIST",
    "TinyDigits",
    "TinyTalks",
    "data_root",
]
