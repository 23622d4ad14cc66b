"""Module 08 against NumPy: collated batches, loader batches and image transforms.

No PyTorch needed. ``default_collate`` stacks the samples' leaves along a new first dim
(keeping NumPy dtypes; Python ints become int64, floats float64) and recurses into tuples,
lists and dicts; a loader's batch i holds the samples order[i B : (i + 1) B]; ``ToTensor``
maps an (H, W, C) uint8 image to (C, H, W) float32 / 255, ``Normalize`` to (x - mean) / std
per channel.
"""

import numpy as np
import pytest

import tinytorch
from tests.helpers import as_numpy, random_array
from tinytorch.utils.data import DataLoader, TensorDataset, default_collate, random_split
from tinytorch.utils.data.transforms import Compose, Normalize, RandomCrop, ToTensor

pytestmark = pytest.mark.module08

# id -> (two samples, their batch with every leaf as a NumPy array)
COLLATED = {
    "python ints": ([3, 4], np.array([3, 4], np.int64)),
    "python floats": ([0.5, 1.5], np.array([0.5, 1.5], np.float64)),
    "numpy float32 scalars": ([np.float32(1), np.float32(2)], np.float32([1, 2])),
    "numpy int32 scalars": ([np.int32(1), np.int32(2)], np.int32([1, 2])),
    "uint8 images": (
        [np.zeros((2, 3), np.uint8), np.full((2, 3), 7, np.uint8)],
        np.stack([np.zeros((2, 3), np.uint8), np.full((2, 3), 7, np.uint8)]),
    ),
    "pairs": ([(1, 0.5), (2, 1.5)], [np.int64([1, 2]), np.float64([0.5, 1.5])]),
    "dicts": (
        [{"x": 1, "y": [0.5, True]}, {"x": 2, "y": [1.5, False]}],
        {"x": np.int64([1, 2]), "y": [np.float64([0.5, 1.5]), np.array([True, False])]},
    ),
}


def assert_same_batch(batch, expected) -> None:
    """Same containers, and at every leaf a tensor of the expected dtype and values."""
    if isinstance(expected, dict):
        assert isinstance(batch, dict) and batch.keys() == expected.keys()
        for key in expected:
            assert_same_batch(batch[key], expected[key])
    elif isinstance(expected, list):
        assert isinstance(batch, list) and len(batch) == len(expected)
        for part, expected_part in zip(batch, expected, strict=True):
            assert_same_batch(part, expected_part)
    else:
        assert isinstance(batch, tinytorch.Tensor), f"expected a tensor, got {type(batch)}"
        assert as_numpy(batch).dtype == expected.dtype
        np.testing.assert_array_equal(as_numpy(batch), expected)


@pytest.mark.parametrize("name", COLLATED)
def test_default_collate_stacks_every_leaf(name: str) -> None:
    samples, expected = COLLATED[name]
    assert_same_batch(default_collate(samples), expected)


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("shuffle", [False, True])
def test_loader_batches_are_slices_of_the_sample_order(shuffle: bool, drop_last: bool) -> None:
    features, labels = random_array((11, 3)), np.arange(11) * 10
    dataset = TensorDataset(tinytorch.tensor(features), tinytorch.tensor(labels))
    loader = DataLoader(dataset, batch_size=4, shuffle=shuffle, drop_last=drop_last)
    batches = list(loader)
    order = np.concatenate([as_numpy(y) for _, y in batches]) // 10  # the samples' indices
    assert len(batches) == (2 if drop_last else 3)
    assert len(order) == (8 if drop_last else 11) and len(set(order.tolist())) == len(order)
    if not shuffle:
        np.testing.assert_array_equal(order, np.arange(len(order)))
    for start, (x, y) in zip(range(0, 11, 4), batches, strict=False):
        indices = order[start : start + 4]
        np.testing.assert_array_equal(as_numpy(x), features[indices])
        np.testing.assert_array_equal(as_numpy(y), labels[indices])


def test_random_split_parts_are_disjoint_rows_of_the_dataset() -> None:
    features = random_array((10, 2))
    parts = random_split(TensorDataset(tinytorch.tensor(features)), [6, 4])
    rows = [[as_numpy(part[i][0]) for i in range(len(part))] for part in parts]
    assert [len(r) for r in rows] == [6, 4]
    found = sorted(np.flatnonzero((features == row).all(axis=1))[0] for r in rows for row in r)
    assert found == list(range(10))


def test_to_tensor_then_normalize_is_the_numpy_formula() -> None:
    image = np.random.randint(0, 256, (5, 4, 3)).astype(np.uint8)  # (H, W, C)
    mean, std = [0.5, 0.4, 0.3], [0.2, 0.25, 0.5]
    out = Compose([ToTensor(), Normalize(mean, std)])(image)
    chw = image.transpose(2, 0, 1).astype(np.float32) / 255
    expected = (chw - np.float32(mean)[:, None, None]) / np.float32(std)[:, None, None]
    np.testing.assert_allclose(as_numpy(out), expected, rtol=1e-5, atol=1e-6)


def test_random_crop_is_a_window_of_the_padded_image() -> None:
    image = random_array((3, 6, 5))
    out = as_numpy(RandomCrop(4, padding=1)(tinytorch.tensor(image)))
    padded = np.pad(image, ((0, 0), (1, 1), (1, 1)))
    windows = [padded[:, top : top + 4, left : left + 4] for top in range(5) for left in range(4)]
    assert out.shape == (3, 4, 4)
    assert any(np.array_equal(out, window) for window in windows)
