"""Creating tensors and reading them back: creation functions, attributes, conversions."""

import numpy as np
import pytest

import tinytorch
from tests.helpers import assert_close, torch_or_skip

pytestmark = pytest.mark.module01

SIZES = [(), (0,), (3,), (2, 3), (2, 1, 4)]


@pytest.mark.parametrize("size", SIZES, ids=str)
@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_sized_creation_matches_pytorch_shape_and_dtype(name, size):
    torch = torch_or_skip()
    for args in ((size,), size) if size else ((size,),):
        ours, theirs = getattr(tinytorch, name)(*args), getattr(torch, name)(*args)
        assert ours.shape == tuple(theirs.shape)
        assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    assert getattr(tinytorch, name)(size, dtype=tinytorch.float64).dtype == tinytorch.float64


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.zeros(2, 3),
        lambda lib: lib.ones([2, 2], dtype=lib.int64),
        lambda lib: lib.full((2, 3), 1.5),
        lambda lib: lib.full((2,), 7),
        lambda lib: lib.full((2,), True),
        lambda lib: lib.full((2,), 2.0, dtype=lib.float64),
        lambda lib: lib.zeros_like(lib.ones(2, dtype=lib.int32)),
        lambda lib: lib.ones_like(lib.ones(2, 3), dtype=lib.float16),
        lambda lib: lib.full_like(lib.ones(2, dtype=lib.int64), 3),
        lambda lib: lib.empty_like(lib.ones(3, 2)).shape,
        lambda lib: lib.arange(5),
        lambda lib: lib.arange(2, 11, 3),
        lambda lib: lib.arange(0, 1, 0.1),
        lambda lib: lib.arange(5.0),
        lambda lib: lib.arange(10, 0, -2),
        lambda lib: lib.arange(4, dtype=lib.float32),
        lambda lib: lib.linspace(0, 1, 5),
        lambda lib: lib.linspace(-2, 2, steps=7, dtype=lib.float64),
        lambda lib: lib.eye(3),
        lambda lib: lib.eye(2, 4, dtype=lib.int64),
        lambda lib: lib.tensor(3.5),
        lambda lib: lib.tensor(7),
        lambda lib: lib.tensor(True),
        lambda lib: lib.tensor([]),
        lambda lib: lib.tensor([1, 2.5]),
        lambda lib: lib.tensor([[1, 2], [3, 4]]),
        lambda lib: lib.tensor([[1, 2]], dtype=lib.float32),
        lambda lib: lib.tensor(np.arange(3.0)),
        lambda lib: lib.tensor(np.arange(3, dtype=np.int32)),
        lambda lib: lib.tensor(np.array([True, False])),
        lambda lib: lib.as_tensor([1.0, 2.0], dtype=lib.float64),
        lambda lib: lib.from_numpy(np.ones((2, 2), dtype=np.float16)),
    ],
)
def test_creation_matches_pytorch(call):
    torch = torch_or_skip()
    ours, theirs = call(tinytorch), call(torch)
    if isinstance(theirs, torch.Size):
        assert ours == tuple(theirs)
    else:
        assert_close(ours, theirs, atol=1e-6)


def test_from_numpy_and_as_tensor_share_memory_tensor_copies():
    array = np.zeros(3, dtype=np.float32)
    shared, also_shared, copied = (
        tinytorch.from_numpy(array),
        tinytorch.as_tensor(array),
        tinytorch.tensor(array),
    )
    array[0] = 5.0
    assert shared[0].item() == also_shared[0].item() == 5.0
    assert copied[0].item() == 0.0
    assert shared.numpy() is array


def test_from_numpy_refuses_other_objects():
    with pytest.raises(TypeError):
        tinytorch.from_numpy([1.0, 2.0])


def test_randint_forms_and_range():
    tinytorch.manual_seed(3)
    values = tinytorch.randint(2, 5, (1000,))
    assert values.dtype == tinytorch.int64 and values.shape == (1000,)
    assert values.min().item() == 2 and values.max().item() == 4
    assert tinytorch.randint(10, (2, 3)).shape == (2, 3)
    assert tinytorch.randint(10, size=(4,)).max().item() < 10
    assert tinytorch.randint(0, 3, size=(2,), dtype=tinytorch.int32).dtype == tinytorch.int32


def test_random_values_have_the_right_distribution():
    tinytorch.manual_seed(0)
    uniform, normal = tinytorch.rand(20000), tinytorch.randn(20000)
    assert 0 <= uniform.min().item() and uniform.max().item() < 1
    assert abs(uniform.mean().item() - 0.5) < 0.01
    assert abs(normal.mean().item()) < 0.03 and abs(normal.std().item() - 1) < 0.03


@pytest.mark.parametrize("name", ["rand", "randn", "randperm"])
def test_manual_seed_repeats_random_streams(name):
    tinytorch.manual_seed(42)
    first = getattr(tinytorch, name)(6)
    tinytorch.manual_seed(42)
    assert getattr(tinytorch, name)(6).equal(first)
    assert not getattr(tinytorch, name)(6).equal(first)


def test_generator_gives_its_own_stream():
    generator = tinytorch.Generator().manual_seed(7)
    first = tinytorch.randn(4, generator=generator)
    generator.manual_seed(7)
    assert tinytorch.randn(4, generator=generator).equal(first)


def test_requires_grad_at_creation():
    for make in (tinytorch.zeros, tinytorch.ones, tinytorch.rand, tinytorch.randn):
        x = make(2, requires_grad=True)
        assert x.requires_grad and x.is_leaf and x.grad is None
    assert tinytorch.tensor([1.0], requires_grad=True).requires_grad


def test_attributes_and_conversions():
    x = tinytorch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.shape == (2, 3) and x.size() == (2, 3) and x.size(1) == 3 and x.size(-2) == 2
    assert x.dim() == 2 and x.ndim == 2 and x.numel() == 6 and len(x) == 2
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert x[1, 2].item() == 6.0 and isinstance(x[1, 2].item(), float)
    assert isinstance(tinytorch.tensor(3).item(), int)
    assert isinstance(x.numpy(), np.ndarray) and x.numpy().dtype == np.float32
    assert x.dtype == tinytorch.float32 and x.device == "cpu" and x.is_floating_point()
    assert float(x[0, 0]) == 1.0 and int(x[1, 1]) == 5
    assert [row.tolist() for row in x] == x.tolist()


def test_item_needs_one_element():
    with pytest.raises(RuntimeError, match="6 elements"):
        tinytorch.ones(2, 3).item()


def test_detach_shares_memory_clone_copies():
    x = tinytorch.ones(3, requires_grad=True)
    detached, cloned = x.detach(), x.clone()
    assert not detached.requires_grad and detached.is_leaf
    with tinytorch.no_grad():
        x[0] = 4.0
    assert detached[0].item() == 4.0 and cloned[0].item() == 1.0


def test_repr_looks_like_pytorch():
    assert repr(tinytorch.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(tinytorch.tensor([1, 2])) == "tensor([1, 2])"
    assert "dtype=tinytorch.float64" in repr(tinytorch.zeros(1, dtype=tinytorch.float64))
    assert "requires_grad=True" in repr(tinytorch.zeros(1, requires_grad=True))


@pytest.mark.parametrize(
    ("value", "spec"),
    [(2.5, ".4f"), (2.5, ""), (-1.25, "8.3e"), (7, "04d"), (7, ""), (True, "")],
    ids=str,
)
def test_format_of_a_scalar_tensor_is_its_number(value, spec):
    """``f"{loss:.4f}"``, as training loops print losses, formats the number as PyTorch does."""
    torch = torch_or_skip()
    assert format(tinytorch.tensor(value), spec) == format(torch.tensor(value), spec)


def test_format_of_a_larger_tensor_takes_no_spec():
    torch = torch_or_skip()
    ours, theirs = tinytorch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])
    assert f"{ours}" == str(ours)
    with pytest.raises(TypeError):
        format(theirs, ".2f")
    with pytest.raises(TypeError):
        format(ours, ".2f")
