"""Bad inputs that NumPy would explain in its own terms get PyTorch's error type and message
(with tinytorch's advice after it where that helps)."""

import re

import numpy as np
import pytest

import tinytorch
from tests.helpers import torch_or_skip

pytestmark = pytest.mark.module01

# name -> fn(lib): a call that must fail the same way in both libraries
BAD_CALLS = {
    "batched matmul": lambda lib: lib.ones(2, 3, 4) @ lib.ones(3, 4, 5),
    "batched matmul, longer batch": lambda lib: lib.matmul(lib.ones(2, 2, 3, 4), lib.ones(3, 4, 5)),
    "rmatmul batch": lambda lib: lib.ones(3, 2, 4).__rmatmul__(lib.ones(2, 3, 2)),
    "view to a wrong size": lambda lib: lib.ones(2, 3).view(4),
    "view with two -1": lambda lib: lib.ones(2, 3).view(-1, -1),
    "reshape with -1 that does not divide": lambda lib: lib.ones(2, 3).reshape(5, -1),
    "reshape with a negative size": lambda lib: lib.ones(2, 3).reshape(-2, 3),
    "cat of lists": lambda lib: lib.cat([[1, 2], [3]]),
    "cat of a tensor and a list": lambda lib: lib.cat([lib.ones(2), [1.0]]),
    "cat of one tensor": lambda lib: lib.cat(lib.ones(2, 2)),
    "stack of lists": lambda lib: lib.stack([[1, 2], [3, 4]]),
}


def messages(name):
    torch = torch_or_skip()
    with pytest.raises(Exception) as theirs:
        BAD_CALLS[name](torch)
    with pytest.raises(type(theirs.value)) as ours:
        BAD_CALLS[name](tinytorch)
    return str(ours.value), str(theirs.value)


@pytest.mark.parametrize("name", BAD_CALLS)
def test_same_error_type_as_pytorch(name):
    ours, _ = messages(name)
    assert "numpy" not in ours.lower() and "newaxis" not in ours and "array" not in ours


@pytest.mark.parametrize(
    "name",
    [
        "batched matmul",
        "batched matmul, longer batch",
        "view to a wrong size",
        "reshape with -1 that does not divide",
        "cat of lists",
        "cat of a tensor and a list",
        "cat of one tensor",
        "stack of lists",
    ],
)
def test_pytorch_message_is_part_of_ours(name):
    ours, theirs = messages(name)
    assert theirs.lower() in ours.lower(), f"{theirs!r} not in {ours!r}"


def test_only_one_dimension_can_be_inferred():
    ours, theirs = messages("view with two -1")
    assert ours.startswith(theirs)


def test_matmul_message_names_both_shapes():
    with pytest.raises(RuntimeError, match=re.escape("(2, 3, 4) and (3, 4, 5)")):
        tinytorch.ones(2, 3, 4) @ tinytorch.ones(3, 4, 5)


def test_good_reshapes_still_work():
    x = tinytorch.arange(6)
    assert x.view(-1, 3).shape == (2, 3) and x[:1].reshape(()).shape == ()
    assert x.view(2, -1).shape == (2, 3) and tinytorch.ones(0, 3).reshape(0, 3, 1).shape[0] == 0
    np.testing.assert_array_equal(x.view(3, 2).numpy(), np.arange(6).reshape(3, 2))
