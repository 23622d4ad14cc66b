"""``ImageDataset``: the base of every image reader (TinyDigits, MNIST, CIFAR-10).

A reader loads all images into memory once, as ``uint8`` arrays, and hands them out one at a
time as torchvision's datasets do::

    >>> image, label = dataset[0]       # image: float32 Tensor (C, H, W) in [0, 1]; label: int

For whole-dataset work without a Python loop, ``dataset.data`` holds every image as a
``uint8`` Tensor (N, H, W) or (N, H, W, C) and ``dataset.targets`` every label (N,) int64.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import tinytorch
from tinytorch.utils.data import Dataset
from tinytorch.utils.data.transforms import ToTensor


class ImageDataset(Dataset):
    """Images and their class labels, held in memory.

    Args:
        images: ``uint8`` array (N, H, W) for grey images or (N, H, W, C) for colour.
        labels: integer array (N,) of class indices.
        classes: the name of each class, by index.
        transform: applied to each image Tensor (C, H, W) before it is returned.
        target_transform: applied to each label before it is returned.
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        classes: list[str],
        transform: Callable[[tinytorch.Tensor], Any] | None = None,
        target_transform: Callable[[int], Any] | None = None,
    ) -> None:
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self._images = np.ascontiguousarray(images, dtype=np.uint8)
        self._labels = np.asarray(labels, dtype=np.int64)
        self.classes = classes
        self.transform = transform
        self.target_transform = target_transform

    @property
    def data(self) -> tinytorch.Tensor:
        """Every image, ``uint8`` (N, H, W) or (N, H, W, C)."""
        return tinytorch.from_numpy(self._images)

    @property
    def targets(self) -> tinytorch.Tensor:
        """Every label, int64 (N,)."""
        return tinytorch.from_numpy(self._labels)

    def __len__(self) -> int:
        return len(self._labels)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image = ToTensor()(self._images[index])  # (C, H, W) float32 in [0, 1]
        label = int(self._labels[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} images, {len(self.classes)} classes)"
