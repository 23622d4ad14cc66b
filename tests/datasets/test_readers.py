"""Readers of the standard formats (on small synthetic files) and the shipped datasets."""

from __future__ import annotations

import gzip
import io
import pickle
import tarfile

import numpy as np
import pytest

from tinytorch.datasets import CIFAR10, MNIST, FashionMNIST, TinyDigits
from tinytorch.datasets.cifar import read_python_batch
from tinytorch.datasets.mnist import read_idx


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` (uint8) in the IDX format: magic, sizes as big-endian uint32, values."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.tobytes()


def write_mnist(folder, images: np.ndarray, labels: np.ndarray, compress: bool) -> None:
    folder.mkdir(parents=True)
    for stem, array in (("t10k-images-idx3-ubyte", images), ("t10k-labels-idx1-ubyte", labels)):
        data = idx_bytes(array)
        if compress:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / stem).write_bytes(data)


@pytest.mark.parametrize("compress", [True, False])
def test_mnist_reads_idx_files(tmp_path, compress):
    images = np.random.randint(0, 256, size=(5, 28, 28), dtype=np.uint8)
    labels = np.array([0, 9, 4, 4, 1], dtype=np.uint8)
    write_mnist(tmp_path / "mnist", images, labels, compress)
    test = MNIST(root=tmp_path, train=False, transform=lambda image: image * 2)
    image, label = test[1]
    assert len(test) == 5 and label == 9
    assert image.shape == (1, 28, 28)
    np.testing.assert_allclose(image.numpy()[0], images[1] / 255 * 2, rtol=1e-6)
    assert test.targets.tolist() == [0, 9, 4, 4, 1]


def test_fashion_mnist_reads_its_own_folder(tmp_path):
    images, labels = np.zeros((2, 28, 28), np.uint8), np.array([8, 9], np.uint8)
    write_mnist(tmp_path / "fashion-mnist", images, labels, compress=True)
    test = FashionMNIST(root=tmp_path, train=False)
    assert [test.classes[label] for _, label in (test[0], test[1])] == ["Bag", "Ankle boot"]


def test_read_idx_rejects_a_wrong_header_and_a_short_file(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x00\x00\x0d\x01" + bytes(8))
    with pytest.raises(ValueError, match="not an IDX file of unsigned bytes"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(idx_bytes(np.zeros((4, 2), np.uint8))[:-1])
    with pytest.raises(ValueError, match=r"shape \(4, 2\)"):
        read_idx(tmp_path / "short")


def cifar_batch(count: int, first_label: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixels (count, 3072) where each image's red plane holds its index, and labels."""
    pixels = np.zeros((count, 3, 1024), dtype=np.uint8)
    pixels[:, 0] = np.arange(count, dtype=np.uint8)[:, None]
    labels = (np.arange(count) + first_label) % 10
    return pixels.reshape(count, 3072), labels


def binary_batch(count: int, first_label: int) -> bytes:
    pixels, labels = cifar_batch(count, first_label)
    return np.hstack([labels[:, None].astype(np.uint8), pixels]).tobytes()


BATCHES = [f"data_batch_{number}" for number in range(1, 6)] + ["test_batch"]


def check_cifar(root) -> None:
    train, test = CIFAR10(root=root, train=True), CIFAR10(root=root, train=False)
    assert len(train) == 10 and len(test) == 2
    assert train.data.shape == (10, 32, 32, 3)
    image, label = test[1]
    assert image.shape == (3, 32, 32) and label == 6
    assert np.allclose(image.numpy()[0], 1 / 255) and np.allclose(image.numpy()[1:], 0)
    assert train.classes[label] == "frog"


def test_cifar_reads_the_binary_batches(tmp_path):
    folder = tmp_path / "cifar-10" / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    for name in BATCHES:
        (folder / f"{name}.bin").write_bytes(binary_batch(2, first_label=5))
    check_cifar(tmp_path)


def test_cifar_reads_the_binary_archive_without_unpacking(tmp_path):
    (tmp_path / "cifar-10").mkdir()
    with tarfile.open(tmp_path / "cifar-10" / "cifar-10-binary.tar.gz", "w:gz") as archive:
        for name in BATCHES:
            data = binary_batch(2, first_label=5)
            member = tarfile.TarInfo(f"cifar-10-batches-bin/{name}.bin")
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    check_cifar(tmp_path)
    assert [path.name for path in (tmp_path / "cifar-10").iterdir()] == ["cifar-10-binary.tar.gz"]


@pytest.mark.parametrize("protocol", [2, 4])
def test_cifar_reads_the_python_batches(tmp_path, protocol):
    folder = tmp_path / "cifar-10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in BATCHES:
        pixels, labels = cifar_batch(2, first_label=5)
        batch = {"batch_label": name, "labels": labels.tolist(), "data": pixels}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=protocol))
    check_cifar(tmp_path)


class _RunsCode:
    def __reduce__(self):
        return (print, ("a pickle may call any function while it loads",))


def test_python_batches_cannot_run_code(tmp_path):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({"data": _RunsCode(), "labels": []}))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load builtins.print"):
        read_python_batch(path)


def test_cifar_rejects_a_truncated_batch(tmp_path):
    folder = tmp_path / "cifar-10" / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    (folder / "test_batch.bin").write_bytes(binary_batch(2, first_label=0)[:-1])
    with pytest.raises(ValueError, match="whole 3073-byte records"):
        CIFAR10(root=tmp_path, train=False)


def test_tinydigits_ships_a_balanced_split():
    train, test = TinyDigits(train=True), TinyDigits(train=False)
    assert (len(train), len(test)) == (1297, 500)
    assert np.bincount(test.targets.numpy()).tolist() == [50] * 10
    assert np.bincount(train.targets.numpy()).min() >= 124
    image, label = train[0]
    assert image.shape == (1, 8, 8) and 0 <= label <= 9
    assert 0.0 <= image.min().item() and image.max().item() <= 1.0
