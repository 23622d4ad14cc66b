"""Downloads: resumed with HTTP Range, checked by checksum, never partial under the final name."""

from __future__ import annotations

import gzip
import hashlib
import socket

import numpy as np
import pytest

from tinytorch.datasets import MNIST, ChecksumError, DatasetNotFoundError, data_root
from tinytorch.datasets.download import download_file

CONTENT = bytes(range(256)) * 1000  # 256 kB: several progress-bar steps


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def unused_url() -> str:
    """The URL of a port on 127.0.0.1 where nothing listens: a stand-in for being offline."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def idx_sizes(*sizes: int) -> bytes:
    return np.array(sizes, dtype=">u4").tobytes()


def test_download_verifies_and_renames(file_server, tmp_path):
    file_server.files["blob.bin"] = CONTENT
    path = download_file([file_server.url], "blob.bin", tmp_path, sha256(CONTENT), progress=False)
    assert path == tmp_path / "blob.bin"
    assert path.read_bytes() == CONTENT
    assert not (tmp_path / "blob.bin.part").exists()


def test_download_resumes_a_partial_file_with_a_range_request(file_server, tmp_path):
    file_server.files["blob.bin"] = CONTENT
    (tmp_path / "blob.bin.part").write_bytes(CONTENT[:100_000])
    download_file([file_server.url], "blob.bin", tmp_path, sha256(CONTENT), progress=False)
    assert file_server.ranges == ["bytes=100000-"]
    assert (tmp_path / "blob.bin").read_bytes() == CONTENT


def test_download_tries_the_next_mirror(file_server, tmp_path):
    file_server.files["blob.bin"] = CONTENT
    mirrors = [unused_url(), file_server.url]
    download_file(mirrors, "blob.bin", tmp_path, sha256(CONTENT), progress=False)
    assert (tmp_path / "blob.bin").read_bytes() == CONTENT


def test_checksum_mismatch_keeps_nothing(file_server, tmp_path):
    file_server.files["blob.bin"] = CONTENT
    with pytest.raises(ChecksumError, match="sha256 checksum"):
        download_file([file_server.url], "blob.bin", tmp_path, sha256(b"other"), progress=False)
    assert list(tmp_path.iterdir()) == []


def test_offline_error_says_where_to_put_the_file(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="by hand") as error:
        download_file([unused_url()], "blob.bin", tmp_path, sha256(CONTENT), progress=False)
    assert str(tmp_path / "blob.bin") in str(error.value)
    assert not (tmp_path / "blob.bin").exists()


def test_missing_files_without_download_name_the_folder(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="download=True") as error:
        MNIST(root=tmp_path)
    assert str(tmp_path / "mnist") in str(error.value)


def test_mnist_downloads_from_a_mirror(file_server, tmp_path, monkeypatch):
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    files = {
        "train-images-idx3-ubyte.gz": gzip.compress(b"\0\0\x08\x03" + idx_sizes(2, 28, 28)
                                                    + images.tobytes()),
        "train-labels-idx1-ubyte.gz": gzip.compress(b"\0\0\x08\x01" + idx_sizes(2) + b"\x03\x07"),
    }  # fmt: skip
    file_server.files.update(files)
    monkeypatch.setattr(MNIST, "mirrors", (file_server.url,))
    monkeypatch.setattr(MNIST, "checksums", {name: sha256(data) for name, data in files.items()})
    train = MNIST(root=tmp_path, download=True)
    assert train.targets.tolist() == [3, 7]
    assert np.array_equal(train.data.numpy(), images)


def test_data_root_order(monkeypatch, tmp_path):
    monkeypatch.setenv("TINYTORCH_DATA", str(tmp_path / "from-env"))
    assert data_root(tmp_path / "given") == tmp_path / "given"
    assert data_root() == tmp_path / "from-env"
    monkeypatch.delenv("TINYTORCH_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data_root() == tmp_path / ".tinytorch" / "data"
