"""Build TinyDigits (``tinytorch/datasets/data/tinydigits.npz``) from scikit-learn's digits.

scikit-learn is needed here only, never at run time::

    pip install scikit-learn
    python datasets/tinydigits/build.py

The output is the same on every run: the split uses a fixed seed, and the file is written
with fixed contents. See DATASHEET.md beside this script for what the data is.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

TEST_PER_CLASS = 50
SEED = 1958
OUTPUT = Path(__file__).resolve().parents[2] / "tinytorch" / "datasets" / "data" / "tinydigits.npz"


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """Ink counts 0..16 -> grey levels 0..255 (16 becomes 255), rounded, as uint8."""
    return np.rint(pixels * (255 / 16)).astype(np.uint8)


def balanced_split(labels: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Indices (train, test): ``TEST_PER_CLASS`` random test images per class, the rest train."""
    train, test = [], []
    for digit in range(10):
        indices = rng.permutation(np.flatnonzero(labels == digit))
        test.append(indices[:TEST_PER_CLASS])
        train.append(indices[TEST_PER_CLASS:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def main() -> None:
    digits = load_digits()
    images = to_uint8(digits.images)  # (1797, 8, 8)
    labels = digits.target.astype(np.uint8)  # (1797,)
    train, test = balanced_split(labels, np.random.default_rng(SEED))
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        OUTPUT,
        train_images=images[train],
        train_labels=labels[train],
        test_images=images[test],
        test_labels=labels[test],
    )
    sha256 = hashlib.sha256(OUTPUT.read_bytes()).hexdigest()
    print(f"wrote {OUTPUT}: {len(train)} train, {len(test)} test, sha256 {sha256}")


if __name__ == "__main__":
    main()
