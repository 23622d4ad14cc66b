"""Image transforms with torchvision's names: conversion, normalisation and augmentation.

Images are Tensors of shape (C, H, W), or batches (N, C, H, W). On a batch, the random
transforms draw independently for each image (torchvision draws once per call), so a whole
batch from the DataLoader can be augmented in one vectorised call::

    >>> augment = Compose([RandomCrop(32, padding=4), RandomHorizontalFlip(),
    ...                    Normalize(mean=(0.49, 0.48, 0.45), std=(0.25, 0.24, 0.26))])
    >>> images = ToTensor()(uint8_images)     # (N, 32, 32, 3) uint8 -> (N, 3, 32, 32) float32
    >>> augment(images).shape
    (N, 3, 32, 32)

Randomness comes from ``tinytorch.random``, so ``tinytorch.manual_seed`` repeats it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import tinytorch
from tinytorch.random import rng


class Compose:
    """Apply ``transforms`` one after the other.

    Example::

        >>> to_input = Compose([ToTensor(), Normalize((0.5,), (0.5,))])   # [0, 255] -> [-1, 1]
    """

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, image: Any) -> Any:
        for transform in self.transforms:
            image = transform(image)
        return image

    def __repr__(self) -> str:
        lines = "".join(f"    {transform!r}\n" for transform in self.transforms)
        return f"Compose(\n{lines})"


class ToTensor:
    """NumPy image(s) with channels last -> float Tensor with channels first.

    Shapes: (H, W) -> (1, H, W); (H, W, C) -> (C, H, W); a batch (N, H, W, C) -> (N, C, H, W).
    ``uint8`` pixels in [0, 255] become ``float32`` in [0, 1]; other dtypes keep their values.

    Example::

        >>> ToTensor()(np.full((2, 2, 3), 255, dtype=np.uint8))   # (3, 2, 2), all 1.0
    """

    def __call__(self, pic: np.ndarray) -> tinytorch.Tensor:
        if not isinstance(pic, np.ndarray):
            raise TypeError(f"pic should be a NumPy ndarray. Got {type(pic)}")
        if pic.ndim not in (2, 3, 4):
            raise ValueError(
                f"pic should be (H, W), (H, W, C) or (N, H, W, C). Got shape {pic.shape}"
            )
        # BEGIN SOLUTION 08
        if pic.ndim == 2:
            pic = pic[:, :, None]  # (H, W, 1)
        channels_first = np.moveaxis(pic, -1, -3)  # (..., H, W, C) -> (..., C, H, W)
        if pic.dtype == np.uint8:
            return tinytorch.from_numpy(channels_first.astype(np.float32) / np.float32(255))
        return tinytorch.from_numpy(np.ascontiguousarray(channels_first))
        # END SOLUTION

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """Per channel ``(x - mean[c]) / std[c]`` of a float image (C, H, W) or batch (N, C, H, W).

    Args:
        mean, std: one value per channel (or one value for all channels).
        inplace: overwrite the input's values instead of returning a new Tensor.

    Example::

        >>> Normalize(mean=(0.5,), std=(0.25,))(tinytorch.ones(1, 2, 2))   # all 2.0
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def __call__(self, tensor: tinytorch.Tensor) -> tinytorch.Tensor:
        images = _images_of(tensor)
        if not tensor.dtype.is_floating_point:
            raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
        mean = np.asarray(self.mean, dtype=images.dtype).reshape(-1, 1, 1)  # (C, 1, 1)
        std = np.asarray(self.std, dtype=images.dtype).reshape(-1, 1, 1)  # (C, 1, 1)
        if (std == 0).any():
            raise ValueError(f"std evaluated to zero, leading to division by zero. Got {self.std}")
        # BEGIN SOLUTION 08
        if self.inplace:
            images -= mean
            images /= std
            return tensor
        return tinytorch.Tensor._from_array((images - mean) / std)
        # END SOLUTION

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


class RandomHorizontalFlip:
    """Mirror an image left-right with probability ``p``: (..., W) reversed along W.

    On a batch (N, C, H, W) each image is flipped or not on its own coin.

    Example::

        >>> RandomHorizontalFlip(p=1.0)(tinytorch.tensor([[[1.0, 2.0, 3.0]]]))
        tensor([[[3., 2., 1.]]])
    """

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, tensor: tinytorch.Tensor) -> tinytorch.Tensor:
        batch = _as_batch(_images_of(tensor))  # (N, C, H, W)
        # BEGIN SOLUTION 08
        flip = rng().random(len(batch)) < self.p  # (N,) one coin per image
        flipped = batch.copy()
        flipped[flip] = batch[flip, :, :, ::-1]
        # END SOLUTION
        return _like(tensor, flipped)

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


class RandomCrop:
    """Cut a random (h, w) window out of an image, after optionally padding its borders.

    Args:
        size: ``(h, w)`` of the output, or one int for a square.
        padding: added around the image first: an int for all four sides, ``(x, y)`` for
            left/right and top/bottom, or ``(left, top, right, bottom)``.
        fill: the value of constant padding.
        padding_mode: ``"constant"``, ``"edge"``, ``"reflect"`` or ``"symmetric"``.

    Shapes: (C, H, W) -> (C, h, w); a batch (N, C, H, W) -> (N, C, h, w), each image with
    its own window.

    Example::

        >>> RandomCrop(32, padding=4)(tinytorch.zeros(3, 32, 32)).shape   # the CIFAR recipe
        (3, 32, 32)
    """

    def __init__(
        self,
        size: int | Sequence[int],
        padding: int | Sequence[int] | None = None,
        fill: float = 0,
        padding_mode: str = "constant",
    ) -> None:
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.padding = padding
        self.fill = fill
        self.padding_mode = padding_mode

    def __call__(self, tensor: tinytorch.Tensor) -> tinytorch.Tensor:
        batch = _as_batch(_images_of(tensor))  # (N, C, H, W)
        if self.padding is not None:
            batch = self._pad(batch)  # (N, C, H + top + bottom, W + left + right)
        (height, width), (out_height, out_width) = batch.shape[-2:], self.size
        if out_height > height or out_width > width:
            raise ValueError(
                f"Required crop size {self.size} is larger than input image size "
                f"{(height, width)} (after padding)"
            )
        # BEGIN SOLUTION 08
        n, c = len(batch), batch.shape[1]
        tops = rng().integers(0, height - out_height + 1, size=n)  # (N,)
        lefts = rng().integers(0, width - out_width + 1, size=n)  # (N,)
        rows = tops[:, None] + np.arange(out_height)  # (N, h)
        cols = lefts[:, None] + np.arange(out_width)  # (N, w)
        crops = batch[
            np.arange(n)[:, None, None, None],  # (N, 1, 1, 1)
            np.arange(c)[None, :, None, None],  # (1, C, 1, 1)
            rows[:, None, :, None],  # (N, 1, h, 1)
            cols[:, None, None, :],  # (N, 1, 1, w)
        ]  # (N, C, h, w)
        # END SOLUTION
        return _like(tensor, crops)

    def _pad(self, batch: np.ndarray) -> np.ndarray:
        """``batch`` (N, C, H, W) with ``self.padding`` added around H and W."""
        padding = self.padding
        if isinstance(padding, int):
            padding = (padding,) * 4
        elif len(padding) == 2:
            padding = (padding[0], padding[1]) * 2
        left, top, right, bottom = padding
        widths = ((0, 0), (0, 0), (top, bottom), (left, right))
        if self.padding_mode == "constant":
            return np.pad(batch, widths, mode="constant", constant_values=self.fill)
        return np.pad(batch, widths, mode=self.padding_mode)

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


def _images_of(tensor: tinytorch.Tensor) -> np.ndarray:
    """The array of an image (C, H, W) or batch (N, C, H, W), after checking that it is one."""
    if not isinstance(tensor, tinytorch.Tensor):
        raise TypeError(f"img should be a Tensor. Got {type(tensor)}")
    if tensor.dim() not in (3, 4):
        raise ValueError(
            f"expected an image (C, H, W) or a batch (N, C, H, W), got shape {tuple(tensor.shape)}"
        )
    return tensor._data


def _as_batch(images: np.ndarray) -> np.ndarray:
    """(C, H, W) -> (1, C, H, W); a batch (N, C, H, W) is returned as it is."""
    return images if images.ndim == 4 else images[None]


def _like(tensor: tinytorch.Tensor, batch: np.ndarray) -> tinytorch.Tensor:
    """Wrap ``batch`` (N, C, H, W) as a Tensor with as many dimensions as ``tensor``."""
    return tinytorch.Tensor._from_array(batch if tensor.dim() == 4 else batch[0])
