"""Flip, roll, diagonal, scatter, scatter_reduce, nonzero, masked_select, repeat_interleave,
unfold, einsum, mm and bmm against PyTorch (forward and backward) and against finite
differences in float64."""

import numpy as np
import pytest

import tinytorch
from tests.helpers import assert_both_raise, check_op, random_array
from tinytorch.autograd import gradcheck

pytestmark = pytest.mark.module05

ROWS = np.array([[2, 0], [1, 3], [0, 0]])  # an index into a (3, 4) tensor along dim 1
DISTINCT_ROWS = np.array([[2, 0], [1, 3], [3, 1]])
COLUMNS = np.array([[2, 0, 1, 1], [0, 2, 2, 1]])  # an index into a (3, 4) tensor along dim 0

# name -> (fn(lib, *inputs), inputs: a shape for a random float tensor, or a fixed array)
CASES = {
    "flip": (lambda lib, a: a.flip(0, 2), [(2, 3, 4)]),
    "flip_list": (lambda lib, a: lib.flip(a, [-1]), [(5,)]),
    "flip_scalar": (lambda lib, a: a.flip([]), [()]),
    "roll_flat": (lambda lib, a: a.roll(2), [(3, 4)]),
    "roll_dims": (lambda lib, a: lib.roll(a, (1, -2), (0, 2)), [(2, 3, 4)]),
    "roll_one_dim": (lambda lib, a: a.roll(-1, 1), [(3, 4)]),
    "roll_scalar": (lambda lib, a: a.roll(1), [()]),
    "diagonal": (lambda lib, a: a.diagonal(), [(3, 4)]),
    "diagonal_above": (lambda lib, a: lib.diagonal(a, 1), [(3, 4)]),
    "diagonal_below": (lambda lib, a: a.diagonal(offset=-1), [(3, 4)]),
    "diagonal_batched": (lambda lib, a: a.diagonal(0, 1, 2), [(2, 3, 4)]),
    "diagonal_reversed_dims": (lambda lib, a: lib.diagonal(a, 1, dim1=2, dim2=0), [(3, 2, 3)]),
    "scatter": (lambda lib, a, i, s: a.scatter(1, i, s), [(3, 4), DISTINCT_ROWS, (3, 2)]),
    "scatter_dim0": (lambda lib, a, i, s: lib.scatter(a, 0, i, s), [(3, 4), COLUMNS[:1], (1, 4)]),
    "scatter_value": (lambda lib, a, i: a.scatter(1, i, -2.5), [(3, 4), ROWS]),
    "masked_select": (lambda lib, a, m: a.masked_select(m), [(3, 4), np.array([1, 0, 0, 1]) > 0]),
    "masked_select_mask_wider": (
        lambda lib, a, m: lib.masked_select(a, m),
        [(4,), np.array([[1, 0, 1, 1], [0, 1, 1, 0]]) > 0],
    ),
    "repeat_interleave": (lambda lib, a: a.repeat_interleave(2), [(2, 3)]),
    "repeat_interleave_dim": (lambda lib, a: lib.repeat_interleave(a, 3, dim=1), [(2, 3)]),
    "repeat_interleave_counts": (
        lambda lib, a, r: a.repeat_interleave(r, dim=0),
        [(3, 2), np.array([2, 0, 3])],
    ),
    "unfold": (lambda lib, a: a.unfold(1, 3, 2), [(2, 7)]),
    "unfold_dim0": (lambda lib, a: a.unfold(0, 2, 1), [(4, 3, 2)]),
    "unfold_scalar": (lambda lib, a: a.unfold(0, 1, 1), [()]),
    "movedim": (lambda lib, a: lib.movedim(a, 0, -1), [(2, 3, 4)]),
    "mm": (lambda lib, a, b: lib.mm(a, b), [(2, 3), (3, 4)]),
    "mm_transposed": (lambda lib, a, b: a.T.mm(b.T), [(3, 2), (4, 3)]),
    "bmm": (lambda lib, a, b: lib.bmm(a, b), [(5, 2, 3), (5, 3, 4)]),
    "einsum_matmul": (lambda lib, a, b: lib.einsum("ij,jk->ik", a, b), [(2, 3), (3, 4)]),
    "einsum_implicit": (lambda lib, a, b: lib.einsum("ij,jk", a, b), [(2, 3), (3, 4)]),
    "einsum_batched": (lambda lib, a, b: lib.einsum("bij,bjk->bik", a, b), [(5, 2, 3), (5, 3, 4)]),
    "einsum_attention": (
        lambda lib, q, k: lib.einsum("bhqd, bhkd -> bhqk", q, k),
        [(2, 3, 4, 5), (2, 3, 6, 5)],
    ),
    "einsum_ellipsis": (
        lambda lib, a, b: lib.einsum("...ij,...jk->...ik", a, b),
        [(2, 1, 3, 4), (5, 4, 2)],
    ),
    "einsum_outer": (lambda lib, a, b: lib.einsum("i,j->ij", a, b), [(3,), (4,)]),
    "einsum_list": (lambda lib, a, b: lib.einsum("i,i->", [a, b]), [(3,), (3,)]),
    "einsum_sum_rows": (lambda lib, a: lib.einsum("ij->j", a), [(3, 4)]),
    "einsum_transpose": (lambda lib, a: lib.einsum("ijk->kij", a), [(2, 3, 4)]),
    "einsum_trace": (lambda lib, a: lib.einsum("ii", a), [(3, 3)]),
    "einsum_diagonal": (lambda lib, a: lib.einsum("ii->i", a), [(3, 3)]),
    "einsum_summed_alone": (lambda lib, a, b: lib.einsum("ij,k->ik", a, b), [(2, 3), (4,)]),
    "einsum_three": (
        lambda lib, a, b, c: lib.einsum("ij,jk,kl->il", a, b, c),
        [(2, 3), (3, 4), (4, 2)],
    ),
}

REDUCES = ["sum", "prod", "mean", "amax", "amin"]


def inputs(spec, dtype=np.float32):
    return [random_array(s, dtype) if isinstance(s, tuple) else s for s in spec]


@pytest.mark.parametrize("name", CASES)
def test_against_pytorch(name):
    fn, spec = CASES[name]
    check_op(fn, *inputs(spec), atol=1e-4)


@pytest.mark.parametrize("name", CASES)
def test_gradcheck(name):
    fn, spec = CASES[name]
    arrays = inputs(spec, np.float64)
    tensors = [tinytorch.tensor(a, requires_grad=a.dtype == np.float64) for a in arrays]
    assert gradcheck(lambda *xs: fn(tinytorch, *xs), tensors)


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", REDUCES)
@pytest.mark.parametrize(("dim", "index"), [(1, ROWS), (0, COLUMNS)], ids=["dim1", "dim0"])
def test_scatter_reduce(reduce, include_self, dim, index):
    def fn(lib, a, i, s):
        return lib.scatter_reduce(a, dim, i, s, reduce, include_self=include_self)

    a, src = random_array((3, 4)), random_array(index.shape)
    check_op(fn, a, index, src, atol=1e-4)
    a64 = tinytorch.tensor(a.astype(np.float64), requires_grad=True)
    src64 = tinytorch.tensor(src.astype(np.float64), requires_grad=True)
    assert gradcheck(lambda a, s: fn(tinytorch, a, tinytorch.tensor(index), s), [a64, src64])


@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_prod_with_zeros(include_self):
    a, src = random_array((3, 4)), random_array((3, 2))
    a[0, 0] = src[0, 1] = src[1, 0] = src[2, 0] = src[2, 1] = 0.0

    def fn(lib, a, i, s):
        return a.scatter_reduce(1, i, s, "prod", include_self=include_self)

    check_op(fn, a, ROWS, src, atol=1e-4)


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["amax", "amin"])
def test_scatter_reduce_ties_share_the_gradient(reduce, include_self):
    a = np.array([[1.0, 2.0, 2.0, 0.0]], np.float32)
    src = np.array([[2.0, 2.0, 0.0, 1.0]], np.float32)
    index = np.array([[1, 1, 3, 0]])

    def fn(lib, a, i, s):
        return a.scatter_reduce(1, i, s, reduce, include_self=include_self)

    check_op(fn, a, index, src)


@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_scatter_with_reduce(reduce):
    # PyTorch has no gradient for this older form; tinytorch's is scatter_reduce's
    fn = lambda lib, a, i: a.scatter(1, i, 1.5, reduce=reduce)  # noqa: E731
    check_op(fn, random_array((3, 4)), ROWS, grad=False)


def test_scatter_reduce_of_integers():
    a, src = np.arange(12).reshape(3, 4), np.arange(6).reshape(3, 2) - 3
    for reduce in REDUCES:
        check_op(lambda lib, a, i, s: a.scatter_reduce(1, i, s, reduce), a, ROWS, src)  # noqa: B023


@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 1, 3)], ids=str)
def test_nonzero(shape):
    values = random_array(shape) * (np.random.uniform(size=shape) > 0.5)
    check_op(lambda lib, a: lib.nonzero(a), values, grad=False)
    check_op(lambda lib, a: lib.stack(a.nonzero(as_tuple=True)), values, grad=False)


def test_repeat_interleave_of_counts_alone():
    check_op(lambda lib, r: lib.repeat_interleave(r), np.array([1, 0, 2]))


def test_nelement():
    assert tinytorch.ones(2, 3).nelement() == 6
    assert tinytorch.tensor(1.0).nelement() == 1


def test_bad_inputs_raise_like_pytorch():
    a, ab = random_array((3, 4)), random_array((2, 3, 4))
    assert_both_raise(lambda lib, a: a.scatter(1, lib.tensor([[5]]), 1.0), a)
    assert_both_raise(lambda lib, a: a.scatter(1, lib.tensor([[0.0]]), 1.0), a)
    assert_both_raise(lambda lib, a: a.scatter_reduce(0, lib.tensor([[0]]), a, "foo"), a)
    assert_both_raise(lambda lib, a: a.unfold(1, 5, 1), a)
    assert_both_raise(lambda lib, a: a.masked_select(a), a)
    assert_both_raise(lambda lib, a: a.diagonal(0, 1, 1), a)
    assert_both_raise(lambda lib, a: a.roll((1, 2), 0), a)
    assert_both_raise(lambda lib, a, b: lib.mm(a, b), ab, a)
    assert_both_raise(lambda lib, a: lib.mm(a, a), a)
    assert_both_raise(lambda lib, a: lib.bmm(a, a), ab)
    assert_both_raise(lambda lib, a: lib.einsum("ij,jk->ik", a), a)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(3x4"):
        tinytorch.mm(tinytorch.tensor(a), tinytorch.tensor(a))
    with pytest.raises(RuntimeError, match="first two dimensions of batch2"):
        tinytorch.bmm(tinytorch.tensor(ab), tinytorch.ones(3, 4, 5))


@pytest.mark.parametrize(
    "name", ["flip", "roll_dims", "diagonal_batched", "unfold_dim0", "einsum_batched", "bmm"]
)
def test_on_transposed_inputs(name):
    fn, spec = CASES[name]
    arrays = [random_array(tuple(reversed(shape))) for shape in spec]
    check_op(lambda lib, *xs: fn(lib, *(x.permute(*reversed(range(x.ndim))) for x in xs)), *arrays)
