"""Image transforms: ToTensor, Normalize, RandomHorizontalFlip, RandomCrop, Compose (module 08)."""

import numpy as np
import pytest

import tinytorch
from tests.helpers import assert_close, torch_or_skip
from tinytorch.utils.data.transforms import (
    Compose,
    Normalize,
    RandomCrop,
    RandomHorizontalFlip,
    ToTensor,
)

pytestmark = pytest.mark.module08


def images(*shape: int) -> tinytorch.Tensor:
    """Distinct float32 values 0, 1, 2, ... in the given shape."""
    return tinytorch.arange(int(np.prod(shape)), dtype=tinytorch.float32).reshape(*shape)


def test_to_tensor_hwc_uint8_to_chw_unit_range() -> None:
    pic = np.array([[[0, 51, 255], [102, 204, 0]]], dtype=np.uint8)  # (H=1, W=2, C=3)
    out = ToTensor()(pic)
    assert out.shape == (3, 1, 2)
    assert out.dtype == tinytorch.float32
    np.testing.assert_allclose(out.detach().numpy()[:, 0, :], [[0.0, 0.4], [0.2, 0.8], [1.0, 0.0]])


def test_to_tensor_grayscale_and_batches() -> None:
    assert ToTensor()(np.zeros((4, 5), np.uint8)).shape == (1, 4, 5)
    batch = np.random.randint(0, 256, size=(6, 4, 5, 3)).astype(np.uint8)
    out = ToTensor()(batch)
    assert out.shape == (6, 3, 4, 5)
    np.testing.assert_allclose(out.detach().numpy()[2, 1], batch[2, :, :, 1] / 255, rtol=1e-6)


def test_to_tensor_keeps_float_values() -> None:
    out = ToTensor()(np.full((2, 2, 1), 7.5))
    assert out.dtype == tinytorch.float64
    assert out.detach().numpy().tolist() == [[[7.5, 7.5], [7.5, 7.5]]]


def test_to_tensor_needs_an_array() -> None:
    with pytest.raises(TypeError, match="pic should be a NumPy ndarray"):
        ToTensor()([[1, 2]])


def test_to_tensor_rejects_wrong_rank() -> None:
    with pytest.raises(ValueError, match=r"Got shape \(3,\)"):
        ToTensor()(np.zeros(3, np.uint8))


def test_normalize_per_channel_by_hand() -> None:
    image = images(2, 1, 2)  # channel 0: [0, 1], channel 1: [2, 3]
    out = Normalize(mean=(1.0, 2.0), std=(0.5, 4.0))(image)
    np.testing.assert_allclose(out.detach().numpy(), [[[-2.0, 0.0]], [[0.0, 0.25]]])
    assert out.dtype == tinytorch.float32
    assert image.detach().numpy()[0, 0, 0] == 0.0  # the input is untouched


def test_normalize_batch_and_inplace() -> None:
    batch = images(3, 2, 2, 2)
    expected = (batch.detach().numpy() - 1.0) / 2.0
    out = Normalize(mean=(1.0,), std=(2.0,), inplace=True)(batch)
    assert out is batch
    np.testing.assert_allclose(batch.detach().numpy(), expected)


def test_normalize_matches_torch_formula() -> None:
    torch = torch_or_skip()
    values = np.random.rand(4, 3, 5, 5).astype(np.float32)
    mean, std = (0.49, 0.48, 0.45), (0.25, 0.24, 0.26)
    ours = Normalize(mean, std)(tinytorch.from_numpy(values))
    theirs = (torch.from_numpy(values) - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(
        3, 1, 1
    )
    assert_close(ours, theirs, atol=1e-6, rtol=1e-6)


def test_normalize_needs_a_float_tensor() -> None:
    with pytest.raises(TypeError, match="Input tensor should be a float tensor"):
        Normalize((0.0,), (1.0,))(tinytorch.zeros(1, 2, 2, dtype=tinytorch.uint8))


def test_normalize_zero_std() -> None:
    with pytest.raises(ValueError, match="std evaluated to zero"):
        Normalize((0.0, 0.0), (1.0, 0.0))(images(2, 2, 2))


def test_transforms_need_a_tensor() -> None:
    with pytest.raises(TypeError, match="img should be a Tensor"):
        RandomHorizontalFlip()(np.zeros((1, 2, 2)))


def test_transforms_need_an_image_or_batch() -> None:
    with pytest.raises(ValueError, match=r"got shape \(2, 2\)"):
        RandomHorizontalFlip()(images(2, 2))


def test_flip_always_and_never() -> None:
    image = images(2, 2, 3)
    flipped = RandomHorizontalFlip(p=1.0)(image)
    np.testing.assert_array_equal(flipped.detach().numpy(), image.detach().numpy()[:, :, ::-1])
    np.testing.assert_array_equal(
        RandomHorizontalFlip(p=0.0)(image).detach().numpy(), image.detach().numpy()
    )


def test_flip_batch_draws_per_image() -> None:
    batch = images(64, 1, 2, 3)
    out = RandomHorizontalFlip()(batch).detach().numpy()
    kept = [np.array_equal(o, b) for o, b in zip(out, batch.detach().numpy(), strict=True)]
    mirrored = [
        np.array_equal(o, b[:, :, ::-1]) for o, b in zip(out, batch.detach().numpy(), strict=True)
    ]
    # Each image is either kept or mirrored, and both happen in a batch of 64.
    assert all(k != m for k, m in zip(kept, mirrored, strict=True))
    assert 0 < sum(mirrored) < 64


def test_crop_is_a_window_of_the_image() -> None:
    image = images(2, 5, 6)
    out = RandomCrop((3, 4))(image).detach().numpy()
    assert out.shape == (2, 3, 4)
    top, left = divmod(int(out[0, 0, 0]), 6)  # the value at (row, col) is row * 6 + col
    np.testing.assert_array_equal(out, image.detach().numpy()[:, top : top + 3, left : left + 4])


def test_crop_batch_gets_one_window_per_image() -> None:
    batch = images(32, 1, 8, 8)
    out = RandomCrop(4)(batch).detach().numpy()
    assert out.shape == (32, 1, 4, 4)
    corners = set()
    for n in range(32):
        top, left = divmod(int(out[n, 0, 0, 0]) - n * 64, 8)
        np.testing.assert_array_equal(
            out[n], batch.detach().numpy()[n, :, top : top + 4, left : left + 4]
        )
        corners.add((top, left))
    assert len(corners) > 1


def test_crop_with_padding_fill_and_modes() -> None:
    image = images(1, 2, 2) + 1
    padded = RandomCrop(4, padding=1, fill=-1)(image).detach().numpy()
    border = [-1, -1, -1, -1]
    np.testing.assert_array_equal(padded[0], [border, [-1, 1, 2, -1], [-1, 3, 4, -1], border])
    edge = RandomCrop((2, 4), padding=(1, 0), padding_mode="edge")(image).detach().numpy()
    np.testing.assert_array_equal(edge[0], [[1, 1, 2, 2], [3, 3, 4, 4]])
    sides = (
        RandomCrop((3, 3), padding=(1, 0, 0, 1))(image).detach().numpy()
    )  # left, top, right, bottom
    np.testing.assert_array_equal(sides[0], [[0, 1, 2], [0, 3, 4], [0, 0, 0]])


def test_crop_larger_than_image() -> None:
    with pytest.raises(ValueError, match="Required crop size"):
        RandomCrop(5)(images(1, 4, 4))


def test_random_transforms_follow_manual_seed() -> None:
    augment = Compose([RandomCrop(4, padding=2), RandomHorizontalFlip()])
    batch = images(8, 3, 6, 6)
    tinytorch.manual_seed(11)
    first = augment(batch).detach().numpy()
    tinytorch.manual_seed(11)
    np.testing.assert_array_equal(augment(batch).detach().numpy(), first)


def test_compose_applies_in_order() -> None:
    pipeline = Compose([ToTensor(), Normalize((0.5,), (0.5,))])
    out = pipeline(np.array([[0, 255]], dtype=np.uint8))
    np.testing.assert_allclose(out.detach().numpy(), [[[-1.0, 1.0]]])
    assert "Normalize" in repr(pipeline)
