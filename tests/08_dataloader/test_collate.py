"""default_collate and default_convert: batches built like PyTorch's (module 08)."""

from collections import namedtuple

import numpy as np
import pytest

import tinytorch
from tests.helpers import as_numpy, torch_or_skip
from tinytorch.utils.data import default_collate, default_convert

pytestmark = pytest.mark.module08

Point = namedtuple("Point", ["x", "y"])

# Batches of two samples, each a different kind of leaf or container.
SAMPLE_PAIRS = {
    "python ints": [3, 4],
    "python floats": [0.5, 1.5],
    "python bools": [True, False],
    "numpy float32 scalars": [np.float32(1), np.float32(2)],
    "numpy int32 scalars": [np.int32(1), np.int32(2)],
    "numpy uint8 images": [np.zeros((2, 3), np.uint8), np.ones((2, 3), np.uint8)],
    "numpy float64 arrays": [np.arange(3.0), np.arange(3.0) + 1],
    "tuples": [(1, 0.5), (2, 1.5)],
    "lists": [[1, 2], [3, 4]],
    "dicts": [{"x": 1, "y": [0.5, True]}, {"x": 2, "y": [1.5, False]}],
}


def as_nested_numpy(batch):
    """A batch with every tensor replaced by (dtype, values), for comparisons."""
    if isinstance(batch, dict):
        return {key: as_nested_numpy(value) for key, value in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch).__name__, [as_nested_numpy(value) for value in batch]
    if hasattr(batch, "numpy"):
        values = as_numpy(batch)
        return values.dtype, values.tolist()
    return batch


@pytest.mark.parametrize("name", SAMPLE_PAIRS)
def test_default_collate_matches_torch(name: str) -> None:
    torch = torch_or_skip()
    samples = SAMPLE_PAIRS[name]
    ours = default_collate(samples)
    theirs = torch.utils.data.default_collate(samples)
    assert as_nested_numpy(ours) == as_nested_numpy(theirs)


def test_default_collate_dtypes_of_python_numbers() -> None:
    assert default_collate([1, 2]).dtype == tinytorch.int64
    assert default_collate([1.0, 2.0]).dtype == tinytorch.float64
    assert default_collate([True, False]).dtype == tinytorch.bool


def test_default_collate_stacks_tensors() -> None:
    batch = default_collate([tinytorch.zeros(2, 3), tinytorch.ones(2, 3)])
    assert batch.shape == (2, 2, 3)
    assert batch.dtype == tinytorch.float32
    assert batch[1].sum().item() == 6


def test_default_collate_tuple_becomes_list_of_batches() -> None:
    features, labels = default_collate([(tinytorch.zeros(4), 1), (tinytorch.ones(4), 0)])
    assert features.shape == (2, 4)
    assert labels.tolist() == [1, 0]


def test_default_collate_keeps_namedtuples_and_strings() -> None:
    batch = default_collate([Point(1, "a"), Point(2, "b")])
    assert isinstance(batch, Point)
    assert batch.x.tolist() == [1, 2]
    assert batch.y == ["a", "b"]


def test_default_collate_uneven_sequences() -> None:
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal"):
        default_collate([[1, 2], [3]])


def test_default_collate_unsupported_type() -> None:
    with pytest.raises(TypeError, match="batch must contain tensors.*found <class 'object'>"):
        default_collate([object(), object()])


def test_default_collate_string_arrays() -> None:
    with pytest.raises(TypeError, match="batch must contain tensors.*found <U1"):
        default_collate([np.array(["a"]), np.array(["b"])])


def test_default_convert_turns_arrays_into_tensors() -> None:
    sample = default_convert({"x": np.zeros(2, np.float32), "pair": (np.int64(3), "name")})
    assert sample["x"].dtype == tinytorch.float32
    assert sample["pair"][0].item() == 3
    assert sample["pair"][1] == "name"
