"""Fixtures of the capstone: a small trained digits submission and cheap track settings.

The fresh-process evaluations are the cost of these tests, so the submission is trained once
per session and the tracks are shrunk with ``dataclasses.replace``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import tinytorch
from tinytorch import nn
from tinytorch.olympics.data import load_images
from tinytorch.olympics.submission import write_submission
from tinytorch.olympics.tracks import Track, get_track

DIGITS_MODEL_CODE = '''"""A linear classifier of 8x8 TinyDigits."""
from tinytorch import nn


def build_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
'''


def quick(name: str, **changes) -> Track:
    """Track ``name`` with a few latency queries and test samples: seconds, not minutes."""
    settings = {"latency_queries": 16, "latency_max_s": 5.0, "eval_samples": 200}
    return dataclasses.replace(get_track(name), **(settings | changes))


def train_digits_model() -> nn.Module:
    """The model of ``DIGITS_MODEL_CODE`` trained on TinyDigits: about 96% test accuracy."""
    tinytorch.manual_seed(0)
    split = load_images(get_track("speed"), train=True, data_dir=Path("/nonexistent"))
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    optimizer = tinytorch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(30):
        loss = nn.functional.cross_entropy(model(split.images), split.labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


@pytest.fixture(scope="session")
def digits_submission(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A valid open-division speed submission (read it, never change it)."""
    directory = tmp_path_factory.mktemp("olympics") / "linear"
    model = train_digits_model()
    techniques = ["architecture_change"]
    write_submission(directory, model, DIGITS_MODEL_CODE, track="speed", division="open",
                     name="linear", techniques=techniques)  # fmt: skip
    return directory


@pytest.fixture(scope="session")
def empty_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory without MNIST, so the digit tracks score TinyDigits."""
    return tmp_path_factory.mktemp("data")


def write_cifar(data_dir: Path, count: int, batches: tuple[str, ...] = ("test_batch",)):
    """CIFAR-10 batches in the binary format under ``data_dir/cifar-10``: each record is a
    label byte, then 3 x 32 x 32 pixel bytes. Returns the pixels (count, 3072) and labels
    (count,) written to each batch."""
    generator = np.random.default_rng(0)
    labels = generator.integers(0, 10, size=count, dtype=np.uint8)
    pixels = generator.integers(0, 256, size=(count, 3 * 32 * 32), dtype=np.uint8)
    folder = data_dir / "cifar-10" / "cifar-10-batches-bin"
    folder.mkdir(parents=True, exist_ok=True)
    for name in batches:
        (folder / f"{name}.bin").write_bytes(np.column_stack([labels, pixels]).tobytes())
    return pixels, labels
