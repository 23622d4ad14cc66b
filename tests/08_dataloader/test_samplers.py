"""Samplers: SequentialSampler, RandomSampler, BatchSampler (module 08)."""

import itertools
import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinytorch
from tests.helpers import torch_or_skip
from tinytorch.utils.data import BatchSampler, RandomSampler, Sampler, SequentialSampler

pytestmark = pytest.mark.module08


def test_sequential_sampler_counts_up() -> None:
    sampler = SequentialSampler(range(4))
    assert list(sampler) == [0, 1, 2, 3]
    assert len(sampler) == 4


def test_sampler_base_class_requires_iter() -> None:
    with pytest.raises(NotImplementedError):
        iter(Sampler())


def test_random_sampler_is_a_permutation_of_python_ints() -> None:
    order = list(RandomSampler(range(50)))
    assert sorted(order) == list(range(50))
    assert order != list(range(50))
    assert all(type(index) is int for index in order)


def test_random_sampler_new_order_each_epoch() -> None:
    sampler = RandomSampler(range(50))
    assert list(sampler) != list(sampler)


def test_random_sampler_same_seed_same_order() -> None:
    def order() -> list[int]:
        return list(RandomSampler(range(30), generator=tinytorch.Generator().manual_seed(1)))

    assert order() == order()


def test_random_sampler_with_replacement() -> None:
    sampler = RandomSampler(range(5), replacement=True, num_samples=200)
    draws = list(sampler)
    assert len(draws) == len(sampler) == 200
    assert set(draws) == set(range(5))


def test_random_sampler_more_samples_than_data_chains_permutations() -> None:
    draws = list(RandomSampler(range(4), num_samples=10))
    assert sorted(draws[:4]) == sorted(draws[4:8]) == [0, 1, 2, 3]
    assert len(draws) == 10


@pytest.mark.parametrize("replacement", [True, False])
def test_random_sampler_draws_lazily_for_any_num_samples(replacement) -> None:
    """10^13 samples would take 74 GiB if drawn at once; the first batches need kilobytes."""
    sampler = RandomSampler(range(1000), replacement=replacement, num_samples=10**13)
    assert len(sampler) == 10**13
    tracemalloc.start()
    first = list(itertools.islice(sampler, 5000))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2**20, f"drawing 5000 indices used {peak} bytes"
    assert len(first) == 5000 and set(first) <= set(range(1000))
    if not replacement:
        assert sorted(first[:1000]) == list(range(1000))


def test_random_sampler_order_does_not_depend_on_draws_during_the_epoch() -> None:
    def order(draw_between: bool) -> list[int]:
        tinytorch.manual_seed(5)
        indices = []
        for index in RandomSampler(range(20), replacement=True, num_samples=40):
            indices.append(index)
            if draw_between:
                tinytorch.rand(3)  # as dropout or augmentation would
        return indices

    assert order(draw_between=False) == order(draw_between=True)


def test_random_sampler_replacement_must_be_bool() -> None:
    with pytest.raises(TypeError, match="replacement should be a boolean value"):
        RandomSampler(range(3), replacement=1)


@pytest.mark.parametrize("num_samples", [0, -2, 2.5])
def test_random_sampler_num_samples_must_be_positive_int(num_samples) -> None:
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        RandomSampler(range(3), num_samples=num_samples)


def test_batch_sampler_groups_indices() -> None:
    assert list(BatchSampler(range(5), 2, False)) == [[0, 1], [2, 3], [4]]
    assert list(BatchSampler(range(5), 2, True)) == [[0, 1], [2, 3]]
    assert list(BatchSampler(range(4), 2, True)) == [[0, 1], [2, 3]]


@pytest.mark.parametrize("batch_size", [0, -1, 1.5, True])
def test_batch_sampler_batch_size_must_be_positive_int(batch_size) -> None:
    with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
        BatchSampler(range(3), batch_size, False)


def test_batch_sampler_drop_last_must_be_bool() -> None:
    with pytest.raises(ValueError, match="drop_last should be a boolean value"):
        BatchSampler(range(3), 2, 0)


@given(n=st.integers(0, 40), batch_size=st.integers(1, 12), drop_last=st.booleans())
def test_batch_sampler_matches_torch(n: int, batch_size: int, drop_last: bool) -> None:
    torch = torch_or_skip()
    theirs = torch.utils.data.BatchSampler(range(n), batch_size, drop_last)
    ours = BatchSampler(range(n), batch_size, drop_last)
    assert list(ours) == list(theirs)
    assert len(ours) == len(theirs)
