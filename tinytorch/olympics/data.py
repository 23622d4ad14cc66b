"""The data of each track, prepared the same way for training and for scoring.

Image tracks hand a model float32 images (N, C, H, W) in [0, 1] and score its highest logit
against int64 labels (N,). The language track reads TinyTalks through one character
vocabulary, ``language_tokenizer()``, so that every model predicts over the same alphabet.
Example::

    >>> split = load_images(get_track("speed"), train=True)   # MNIST, else TinyDigits
    >>> split.dataset, split.images.shape
    ('tinydigits', (1297, 1, 8, 8))
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

import tinytorch
from tinytorch.datasets import CIFAR10, MNIST, DatasetNotFoundError, TinyDigits, TinyTalks
from tinytorch.datasets.tinytalks import SPLITS
from tinytorch.datasets.vision import ImageDataset
from tinytorch.olympics.tracks import Track
from tinytorch.text import CharTokenizer

DataDir = str | os.PathLike | None


@dataclass
class ImageSplit:
    """One split of an image track: ``images`` (N, C, H, W) float32, ``labels`` (N,) int64,
    and the name of the data set they came from."""

    images: tinytorch.Tensor
    labels: tinytorch.Tensor
    dataset: str


def load_images(track: Track, train: bool, data_dir: DataDir = None) -> ImageSplit:
    """The training or test split of an image track, from ``data_dir`` (default: the data
    directory of ``tinytorch.datasets``). The digit tracks read MNIST and fall back to the
    TinyDigits that ship with tinytorch when MNIST is not there."""
    if track.dataset == "cifar10":
        return _split(CIFAR10(root=data_dir, train=train), "cifar10")
    if track.dataset == "mnist":
        try:
            return _split(MNIST(root=data_dir, train=train), "mnist")
        except DatasetNotFoundError:
            if track.fallback_dataset != "tinydigits":
                raise
            return _split(TinyDigits(train=train), "tinydigits")
    raise ValueError(f"track {track.name!r} has no images (its data set is {track.dataset!r})")


def _split(dataset: ImageDataset, name: str) -> ImageSplit:
    """Scale a reader's uint8 images (N, H, W) or (N, H, W, C) to float32 (N, C, H, W)."""
    pixels = dataset.data.numpy()
    pixels = pixels[:, None] if pixels.ndim == 3 else pixels.transpose(0, 3, 1, 2)
    images = np.ascontiguousarray(pixels, dtype=np.float32) / np.float32(255)
    return ImageSplit(tinytorch.from_numpy(images), dataset.targets, name)


def language_tokenizer() -> CharTokenizer:
    """The language track's vocabulary: the special tokens and every character of TinyTalks
    (all splits, so no test character is unknown). Its ``vocab_size`` is the V of the
    logits a language model returns."""
    return CharTokenizer([TinyTalks(split=split).text for split in SPLITS])


def output_classes(track: Track) -> int:
    """K, the number of logits per image (N, K) or per position (1, T, K) that a model on
    ``track`` answers: the data set's classes, or the language vocabulary's size."""
    if track.dataset == "tinytalks":
        return language_tokenizer().vocab_size
    readers = {"cifar10": CIFAR10, "mnist": MNIST}
    return len(readers[track.dataset].classes)  # TinyDigits has MNIST's 10 digits


def download(track: Track, data_dir: DataDir = None) -> None:
    """Fetch both splits of an image track's data set into ``data_dir`` if they are missing
    (checked against their published checksums). TinyTalks and TinyDigits ship with
    tinytorch: nothing to fetch."""
    readers = {"cifar10": CIFAR10, "mnist": MNIST}
    if track.dataset in readers:
        for train in (True, False):
            readers[track.dataset](root=data_dir, train=train, download=True)
