"""TinyDigits: 1,797 handwritten digits of 8x8 pixels that ship inside the package.

Small enough to train an MLP on in seconds, real enough to need one. Built by
``datasets/tinydigits/build.py`` from the UCI optical digits (via scikit-learn); see
``datasets/tinydigits/DATASHEET.md``. Example::

    >>> train, test = TinyDigits(train=True), TinyDigits(train=False)
    >>> len(train), len(test)
    (1297, 500)
    >>> image, label = test[0]          # image: (1, 8, 8) float32 in [0, 1]
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources

import numpy as np

from tinytorch.datasets.vision import ImageDataset


class TinyDigits(ImageDataset):
    """8x8 grey digits 0-9; train: 1,297 images, test: 500 (50 of each digit).

    Args:
        train: the training split if True, else the test split.
        transform, target_transform: applied to each image Tensor (1, 8, 8) and label.
    """

    classes = [str(digit) for digit in range(10)]

    def __init__(
        self,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        split = "train" if train else "test"
        source = resources.files("tinytorch.datasets").joinpath("data/tinydigits.npz")
        with source.open("rb") as file:
            arrays = np.load(file)
            images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        super().__init__(images, labels, self.classes, transform, target_transform)
