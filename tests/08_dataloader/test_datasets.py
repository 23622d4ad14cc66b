"""Datasets: TensorDataset, Subset, ConcatDataset, random_split (module 08)."""

import numpy as np
import pytest

import tinytorch
from tests.helpers import torch_or_skip
from tinytorch.utils.data import ConcatDataset, Dataset, Subset, TensorDataset, random_split

pytestmark = pytest.mark.module08


def make_dataset(n: int = 6) -> TensorDataset:
    return TensorDataset(tinytorch.arange(2 * n).reshape(n, 2), tinytorch.arange(n) * 10)


def test_tensor_dataset_sample_is_a_row_of_each_tensor() -> None:
    x, y = make_dataset()[2]
    assert x.tolist() == [4, 5]
    assert y.item() == 20
    assert len(make_dataset(6)) == 6


def test_tensor_dataset_list_index_gives_a_batch() -> None:
    x, y = make_dataset()[[0, 3]]
    assert x.shape == (2, 2)
    assert y.tolist() == [0, 30]


def test_tensor_dataset_size_mismatch_names_the_shapes() -> None:
    with pytest.raises(ValueError, match=r"Size mismatch.*\(3, 2\).*\(4,\)"):
        TensorDataset(tinytorch.zeros(3, 2), tinytorch.zeros(4))


def test_tensor_dataset_needs_a_tensor() -> None:
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()


def test_dataset_base_class_requires_getitem() -> None:
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]


def test_subset_maps_indices() -> None:
    subset = Subset(make_dataset(), [5, 1])
    assert len(subset) == 2
    assert subset[0][1].item() == 50
    assert subset[1][1].item() == 10


def test_concat_dataset_indexes_across_parts() -> None:
    both = ConcatDataset([range(3), range(10, 14)])
    assert len(both) == 7
    assert both.cumulative_sizes == [3, 7]
    assert [both[i] for i in range(7)] == [0, 1, 2, 10, 11, 12, 13]
    assert both[-1] == 13
    assert both[-7] == 0


def test_dataset_addition_concatenates() -> None:
    both = make_dataset(2) + make_dataset(3)
    assert isinstance(both, ConcatDataset)
    assert len(both) == 5


def test_concat_dataset_negative_index_too_large() -> None:
    with pytest.raises(ValueError, match="absolute value of index"):
        ConcatDataset([range(3)])[-4]


def test_concat_dataset_needs_a_dataset() -> None:
    with pytest.raises(ValueError, match="empty iterable"):
        ConcatDataset([])


def test_random_split_lengths_are_disjoint_and_cover() -> None:
    parts = random_split(range(10), [3, 7])
    assert [len(part) for part in parts] == [3, 7]
    seen = [index for part in parts for index in part]
    assert sorted(seen) == list(range(10))


@pytest.mark.parametrize(
    ("fractions", "lengths"),
    [([0.5, 0.5], [6, 5]), ([0.3, 0.3, 0.4], [4, 3, 4]), ([0.1, 0.9], [2, 9])],
)
def test_random_split_fractions_give_leftovers_to_the_first_parts(fractions, lengths) -> None:
    parts = random_split(range(11), fractions)
    assert [len(part) for part in parts] == lengths


def test_random_split_fraction_lengths_match_torch() -> None:
    torch = torch_or_skip()
    for fractions in ([0.5, 0.5], [0.3, 0.3, 0.4], [0.1, 0.2, 0.7], [1 / 3] * 3):
        for n in (7, 10, 31):
            theirs = torch.utils.data.random_split(range(n), fractions)
            ours = random_split(range(n), fractions)
            assert [len(part) for part in ours] == [len(part) for part in theirs]


def test_random_split_same_generator_seed_same_split() -> None:
    def split() -> list[list[int]]:
        generator = tinytorch.Generator().manual_seed(7)
        return [list(part) for part in random_split(range(20), [0.5, 0.5], generator=generator)]

    assert split() == split()
    assert split()[0] != list(range(10))


def test_random_split_follows_manual_seed() -> None:
    tinytorch.manual_seed(3)
    first = list(random_split(range(20), [10, 10])[0])
    tinytorch.manual_seed(3)
    assert list(random_split(range(20), [10, 10])[0]) == first


def test_random_split_wrong_sum() -> None:
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(range(10), [3, 3])


def test_random_split_fraction_out_of_range() -> None:
    with pytest.raises(ValueError, match="Fraction at index 0 is not between 0 and 1"):
        random_split(range(10), [-0.5, 0.5, 1.0])


def test_random_split_warns_about_empty_parts() -> None:
    with pytest.warns(UserWarning) as record:
        parts = random_split(range(2), [0.9, 0.05, 0.05])
    assert [len(part) for part in parts] == [2, 0, 0]
    assert [str(warning.message)[:26] for warning in record] == [
        "Length of split at index 1",
        "Length of split at index 2",
    ]


def test_subset_of_split_reads_the_dataset() -> None:
    data = make_dataset(8)
    train, _ = random_split(data, [0.5, 0.5])
    x, y = train[0]
    assert np.array_equal(x.detach().numpy(), data[train.indices[0]][0].detach().numpy())
    assert y.item() == 10 * train.indices[0]
