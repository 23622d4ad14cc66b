"""CIFAR-10: 60,000 colour images of 32x32 pixels in 10 classes (50,000 train, 10,000 test).

We download the *binary* version (``cifar-10-binary.tar.gz``), because reading it runs no
code: each batch file is a run of 3,073-byte records::

    byte 0        the label, 0-9
    bytes 1-3072  the pixels: 1024 red, then 1024 green, then 1024 blue, each 32x32 row-major

The archive is read in place, without unpacking it. Where the *python* version is already on
disk (``cifar-10-batches-py/``, as torchvision leaves it), its batches are pickles of dicts of
NumPy arrays; we read them with an unpickler that refuses everything except NumPy's array
reconstruction, because a plain ``pickle.load`` runs whatever code a file names. Example::

    >>> train = CIFAR10(train=True, download=True)    # ~/.tinytorch/data/cifar-10/
    >>> image, label = train[0]                        # (3, 32, 32) float32, 6
"""

from __future__ import annotations

import codecs
import os
import pickle
import tarfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tinytorch.datasets.download import DatasetNotFoundError, data_root, download_file
from tinytorch.datasets.vision import ImageDataset

_RECORD_BYTES = 1 + 3 * 32 * 32
_TRAIN_BATCHES = [f"data_batch_{number}" for number in range(1, 6)]
_TEST_BATCHES = ["test_batch"]


class CIFAR10(ImageDataset):
    """The CIFAR-10 images; ``data`` is uint8 (N, 32, 32, 3), items are (3, 32, 32) float32.

    Args:
        root: the data directory (default: ``$TINYTORCH_DATA``, else ``~/.tinytorch/data``);
            files are read from its ``cifar-10/`` folder: ``cifar-10-batches-bin/``,
            ``cifar-10-batches-py/`` or the archive ``cifar-10-binary.tar.gz``.
        train: the five training batches if True, else the test batch.
        transform, target_transform: applied to each image Tensor and label.
        download: fetch the binary archive if no version is on disk (checked by MD5).
    """

    folder = "cifar-10"
    archive = "cifar-10-binary.tar.gz"
    mirrors = ("https://www.cs.toronto.edu/~kriz/",)
    checksum = "md5:c32a1d4ab5d03f1284b67883e8d87530"
    classes = [
        "airplane", "automobile", "bird", "cat", "deer",
        "dog", "frog", "horse", "ship", "truck",
    ]  # fmt: skip

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = False,
    ) -> None:
        self.root = data_root(root) / self.folder
        batches = _TRAIN_BATCHES if train else _TEST_BATCHES
        images, labels = zip(*(self._read_batch(name, download) for name in batches))
        images = np.concatenate(images).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        super().__init__(images, np.concatenate(labels), self.classes, transform,
                         target_transform)  # fmt: skip

    def _read_batch(self, name: str, download: bool) -> tuple[np.ndarray, np.ndarray]:
        """Pixels (B, 3072) uint8 and labels (B,) of batch ``name``, from whichever version."""
        binary = self.root / "cifar-10-batches-bin" / f"{name}.bin"
        python = self.root / "cifar-10-batches-py" / name
        if binary.exists():
            return parse_binary_batch(binary.read_bytes())
        if python.exists():
            return read_python_batch(python)
        archive = self.root / self.archive
        if not archive.exists() and not download:
            raise DatasetNotFoundError(
                f"CIFAR10: no data in {self.root}. Pass download=True, or put "
                f"{self.archive} there by hand (from {self.mirrors[0]})."
            )
        download_file(self.mirrors, self.archive, self.root, self.checksum)
        with tarfile.open(archive) as tar:
            member = tar.extractfile(f"cifar-10-batches-bin/{name}.bin")
            if member is None:
                raise ValueError(f"{archive}: cifar-10-batches-bin/{name}.bin is not a file")
            return parse_binary_batch(member.read())


def parse_binary_batch(raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Split the records of a binary batch into pixels (B, 3072) uint8 and labels (B,)."""
    if len(raw) % _RECORD_BYTES:
        raise ValueError(f"a CIFAR-10 batch is whole {_RECORD_BYTES}-byte records, got {len(raw)}")
    records = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _RECORD_BYTES)
    return records[:, 1:], records[:, 0].astype(np.int64)


def read_python_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Pixels (B, 3072) uint8 and labels (B,) of a python-version batch, without running code."""
    with path.open("rb") as file:
        batch = _NumPyOnlyUnpickler(file, encoding="latin1").load()
    return np.asarray(batch["data"], dtype=np.uint8), np.asarray(batch["labels"], np.int64)


class _NumPyOnlyUnpickler(pickle.Unpickler):
    """An unpickler that can rebuild NumPy arrays and nothing else.

    A pickle names the functions it calls while loading; ``find_class`` is asked for each one.
    Plain dicts, lists, strings and numbers need no function at all.
    """

    _rebuild_array = np.zeros(0).__reduce__()[0]  # NumPy's own ndarray reconstructor
    allowed = {
        ("numpy.core.multiarray", "_reconstruct"): _rebuild_array,  # NumPy 1 pickles
        ("numpy._core.multiarray", "_reconstruct"): _rebuild_array,  # NumPy 2 pickles
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): codecs.encode,  # how protocol-2 pickles of Python 3 hold bytes
    }

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in self.allowed:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: a CIFAR-10 batch holds only NumPy arrays"
            )
        return self.allowed[(module, name)]
