"""MNIST and Fashion-MNIST from their standard IDX files.

An IDX file is a big-endian header followed by raw values::

    bytes 0-1   zero
    byte  2     value type (0x08: unsigned byte)
    byte  3     number of dimensions D
    D x 4 bytes size of each dimension (big-endian uint32)
    then        the values, row-major

``train-images-idx3-ubyte`` is (60000, 28, 28), ``train-labels-idx1-ubyte`` is (60000,).
Files may be gzip-compressed (``.gz``, as published) or not. Example::

    >>> train = MNIST(train=True, download=True)     # ~/.tinytorch/data/mnist/
    >>> image, label = train[0]                       # (1, 28, 28) float32, 5
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tinytorch.datasets.download import DatasetNotFoundError, data_root, download_file
from tinytorch.datasets.vision import ImageDataset

_UNSIGNED_BYTE = 0x08


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file of unsigned bytes (gzip-compressed if its name ends in ``.gz``)."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as file:
        raw = file.read()
    if len(raw) < 4 or raw[0:2] != b"\x00\x00" or raw[2] != _UNSIGNED_BYTE:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes")
    ndim = raw[3]
    shape = tuple(np.frombuffer(raw, dtype=">u4", count=ndim, offset=4).tolist())
    values = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if values.size != np.prod(shape):
        raise ValueError(f"{path}: header says shape {shape}, but holds {values.size} values")
    return values.reshape(shape)


class MNIST(ImageDataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28 grey.

    Args:
        root: the data directory (default: ``$TINYTORCH_DATA``, else ``~/.tinytorch/data``);
            the files are read from its ``mnist/`` folder.
        train: the training set if True, else the test set.
        transform, target_transform: applied to each image Tensor (1, 28, 28) and label.
        download: fetch missing files from the mirrors (checked against their MD5).
    """

    folder = "mnist"
    mirrors = (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://yann.lecun.com/exdb/mnist/",
    )
    checksums = {
        "train-images-idx3-ubyte.gz": "md5:f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "md5:d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "md5:9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "md5:ec29112dd5afa0611ce80d1b7f02629c",
    }
    classes = [str(digit) for digit in range(10)]

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = False,
    ) -> None:
        self.root = data_root(root) / self.folder
        prefix = "train" if train else "t10k"
        images = read_idx(self._find(f"{prefix}-images-idx3-ubyte", download))
        labels = read_idx(self._find(f"{prefix}-labels-idx1-ubyte", download))
        super().__init__(images, labels, self.classes, transform, target_transform)

    def _find(self, stem: str, download: bool) -> Path:
        """The file ``stem`` or ``stem.gz`` under the root, downloaded if asked and missing."""
        for candidate in (self.root / stem, self.root / f"{stem}.gz"):
            if candidate.exists():
                return candidate
        filename = f"{stem}.gz"
        if download:
            return download_file(self.mirrors, filename, self.root, self.checksums[filename])
        raise DatasetNotFoundError(
            f"{type(self).__name__}: {filename} not found in {self.root}. Pass download=True, "
            f"or put the files there by hand (from {self.mirrors[0]})."
        )


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: MNIST's format and sizes, with 10 kinds of clothing.

    Same arguments as ``MNIST``; files are read from the ``fashion-mnist/`` folder.
    """

    folder = "fashion-mnist"
    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
    checksums = {
        "train-images-idx3-ubyte.gz": "md5:8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "md5:25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "md5:bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "md5:bb300cfdad3c16e7a12a480ee83cd310",
    }
    classes = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]  # fmt: skip
