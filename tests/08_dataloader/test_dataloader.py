"""DataLoader: batching, shuffling, lengths, option errors (module 08)."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tinytorch
from tests.helpers import assert_close, torch_or_skip
from tinytorch.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    SequentialSampler,
    TensorDataset,
)

pytestmark = pytest.mark.module08


def make_dataset(n: int = 10) -> TensorDataset:
    return TensorDataset(tinytorch.randn(n, 3), tinytorch.arange(n))


class Squares(Dataset):
    """A plain map-style dataset: sample i is (i, i * i as float, an array)."""

    def __len__(self) -> int:
        return 7

    def __getitem__(self, index: int):
        return index, float(index * index), np.full(2, index, dtype=np.float32)


def labels_of(loader: DataLoader) -> list[int]:
    return [label for _, labels in loader for label in labels.tolist()]


def test_batches_have_the_right_shapes_and_dtypes() -> None:
    batches = list(DataLoader(make_dataset(10), batch_size=4))
    assert [tuple(x.shape) for x, _ in batches] == [(4, 3), (4, 3), (2, 3)]
    assert isinstance(batches[0], list)
    assert batches[0][0].dtype == tinytorch.float32
    assert batches[0][1].dtype == tinytorch.int64


def test_default_batch_size_is_one() -> None:
    x, y = next(iter(DataLoader(make_dataset(3))))
    assert x.shape == (1, 3)
    assert y.shape == (1,)


def test_len_with_and_without_drop_last() -> None:
    assert len(DataLoader(make_dataset(10), batch_size=4)) == 3
    assert len(DataLoader(make_dataset(10), batch_size=4, drop_last=True)) == 2
    assert len(list(DataLoader(make_dataset(10), batch_size=4, drop_last=True))) == 2


def test_unshuffled_order_is_sequential() -> None:
    assert labels_of(DataLoader(make_dataset(10), batch_size=3)) == list(range(10))


def test_shuffle_sees_every_sample_once_per_epoch() -> None:
    loader = DataLoader(make_dataset(50), batch_size=8, shuffle=True)
    first, second = labels_of(loader), labels_of(loader)
    assert sorted(first) == sorted(second) == list(range(50))
    assert first != list(range(50))
    assert first != second


def test_shuffle_same_seed_same_order() -> None:
    def order() -> list[int]:
        generator = tinytorch.Generator().manual_seed(5)
        return labels_of(
            DataLoader(make_dataset(20), batch_size=6, shuffle=True, generator=generator)
        )

    assert order() == order()
    tinytorch.manual_seed(1)
    seeded = labels_of(DataLoader(make_dataset(20), batch_size=6, shuffle=True))
    tinytorch.manual_seed(1)
    assert labels_of(DataLoader(make_dataset(20), batch_size=6, shuffle=True)) == seeded


def test_features_stay_with_their_labels_when_shuffled() -> None:
    data = make_dataset(12)
    for x, y in DataLoader(data, batch_size=5, shuffle=True):
        assert np.array_equal(
            x.detach().numpy(), data.tensors[0].detach().numpy()[y.detach().numpy()]
        )


def test_fast_path_equals_sample_by_sample_collate() -> None:
    class SlowTensorDataset(TensorDataset):
        """Same data, but not the exact TensorDataset type: no fast path."""

    tensors = (tinytorch.randn(9, 2, 2), tinytorch.arange(9), tinytorch.rand(9) > 0.5)
    fast = list(DataLoader(TensorDataset(*tensors), batch_size=4))
    slow = list(DataLoader(SlowTensorDataset(*tensors), batch_size=4))
    for fast_batch, slow_batch in zip(fast, slow, strict=True):
        assert type(fast_batch) is type(slow_batch) is list
        for ours, reference in zip(fast_batch, slow_batch, strict=True):
            assert ours.dtype == reference.dtype
            assert np.array_equal(ours.detach().numpy(), reference.detach().numpy())


def test_plain_dataset_collates_numbers_and_arrays() -> None:
    indices, squares, arrays = next(iter(DataLoader(Squares(), batch_size=3)))
    assert indices.dtype == tinytorch.int64
    assert squares.dtype == tinytorch.float64
    assert squares.tolist() == [0.0, 1.0, 4.0]
    assert arrays.shape == (3, 2)
    assert arrays.dtype == tinytorch.float32


def test_batch_size_none_yields_converted_samples() -> None:
    loader = DataLoader(Squares(), batch_size=None)
    assert len(loader) == 7
    index, square, array = list(loader)[3]
    assert (index, square) == (3, 9.0)
    assert isinstance(array, tinytorch.Tensor)


def test_custom_collate_fn_sees_the_samples() -> None:
    loader = DataLoader(Squares(), batch_size=2, collate_fn=lambda samples: len(samples))
    assert list(loader) == [2, 2, 2, 1]


def test_batch_sampler_option() -> None:
    batch_sampler = BatchSampler(SequentialSampler(range(5)), 2, False)
    loader = DataLoader(make_dataset(5), batch_sampler=batch_sampler)
    assert loader.batch_size is None
    assert len(loader) == 3
    assert labels_of(loader) == [0, 1, 2, 3, 4]


def test_sampler_option() -> None:
    loader = DataLoader(make_dataset(5), batch_size=2, sampler=[4, 3, 2, 1, 0])
    assert labels_of(loader) == [4, 3, 2, 1, 0]


def test_num_workers_is_accepted() -> None:
    assert labels_of(DataLoader(make_dataset(4), batch_size=2, num_workers=2)) == [0, 1, 2, 3]


def test_sequential_batches_match_torch() -> None:
    torch = torch_or_skip()
    features, labels = np.random.rand(11, 3).astype(np.float32), np.arange(11)
    ours = DataLoader(
        TensorDataset(tinytorch.from_numpy(features), tinytorch.from_numpy(labels)), batch_size=4
    )
    theirs = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(features), torch.from_numpy(labels)),
        batch_size=4,
    )
    assert len(ours) == len(theirs)
    for (x, y), (their_x, their_y) in zip(ours, theirs, strict=True):
        assert_close(x, their_x, atol=0, rtol=0)
        assert_close(y, their_y, atol=0, rtol=0)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(0, 30),
    batch_size=st.integers(1, 9),
    drop_last=st.booleans(),
    shuffle=st.booleans(),
)
def test_batch_sizes_and_len_property(n, batch_size, drop_last, shuffle) -> None:
    assume(n > 0 or not shuffle)  # like PyTorch, a RandomSampler refuses an empty dataset
    loader = DataLoader(
        TensorDataset(tinytorch.arange(n)), batch_size, shuffle=shuffle, drop_last=drop_last
    )
    sizes = [len(batch) for (batch,) in loader]
    full, rest = divmod(n, batch_size)
    expected = [batch_size] * full + ([rest] if rest and not drop_last else [])
    assert sizes == expected
    assert len(loader) == len(expected)


def test_negative_num_workers() -> None:
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(make_dataset(), num_workers=-1)


def test_sampler_and_shuffle_are_exclusive() -> None:
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(make_dataset(), sampler=SequentialSampler(range(10)), shuffle=True)


@pytest.mark.parametrize(
    "options",
    [{"batch_size": 2}, {"shuffle": True}, {"sampler": [0]}, {"drop_last": True}],
)
def test_batch_sampler_is_exclusive_with_batching_options(options) -> None:
    batch_sampler = BatchSampler(range(10), 2, False)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(make_dataset(), batch_sampler=batch_sampler, **options)


def test_no_batching_and_drop_last_are_exclusive() -> None:
    with pytest.raises(ValueError, match="batch_size=None option disables auto-batching"):
        DataLoader(make_dataset(), batch_size=None, drop_last=True)


def test_option_errors_match_torch() -> None:
    torch = torch_or_skip()
    bad_options = [
        {"num_workers": -1},
        {"sampler": [0], "shuffle": True},
        {"batch_sampler": [[0]], "batch_size": 2},
        {"batch_size": None, "drop_last": True},
    ]
    for options in bad_options:
        with pytest.raises(ValueError) as theirs:
            torch.utils.data.DataLoader(range(3), **options)
        with pytest.raises(ValueError) as ours:
            DataLoader(range(3), **options)
        assert str(ours.value) == str(theirs.value)


def test_accepts_pytorch_cpu_options_in_pytorch_order() -> None:
    dataset = TensorDataset(tinytorch.arange(10))
    loader = DataLoader(
        dataset, 4, False, None, None, 0, None, True, True, persistent_workers=False
    )
    assert [len(batch) for (batch,) in loader] == [4, 4]
