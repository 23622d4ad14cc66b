"""Products, running (cumulative) reductions, sorting, histograms, std_mean and NumPy's
keyword names against PyTorch (forward and backward over a zoo of shapes) and against finite
differences in float64."""

import numpy as np
import pytest

import tinytorch
from tests.helpers import assert_both_raise, check_op, random_array
from tinytorch.autograd import gradcheck

pytestmark = pytest.mark.module05

SCAN_SHAPES = [(), (1,), (5,), (3, 1), (2, 3, 4)]

# name -> fn(lib, a, dim): one dimension ``dim`` of ``a``
ALONG_DIM = {
    "cumsum": lambda lib, a, dim: lib.cumsum(a, dim),
    "cumsum_method": lambda lib, a, dim: a.cumsum(dim=dim),
    "cumprod": lambda lib, a, dim: lib.cumprod(a, dim),
    "logcumsumexp": lambda lib, a, dim: lib.logcumsumexp(a, dim),
    "cummax": lambda lib, a, dim: lib.cummax(a, dim).values,
    "cummin": lambda lib, a, dim: a.cummin(dim)[0],
    "prod_dim": lambda lib, a, dim: lib.prod(a, dim),
    "prod_keepdim": lambda lib, a, dim: a.prod(dim, keepdim=True),
    "prod_all": lambda lib, a, dim: a.prod(),
    "sort": lambda lib, a, dim: lib.sort(a, dim).values,
    "sort_descending": lambda lib, a, dim: a.sort(dim, descending=True)[0],
}

INDICES = {
    "cummax": lambda lib, a, dim: lib.cummax(a, dim).indices,
    "cummin": lambda lib, a, dim: a.cummin(dim)[1],
    "sort": lambda lib, a, dim: lib.sort(a, dim=dim).indices,
    "sort_descending": lambda lib, a, dim: a.sort(dim, descending=True).indices,
    "argsort": lambda lib, a, dim: lib.argsort(a, dim),
}


@pytest.mark.parametrize("dim", [0, -1])
@pytest.mark.parametrize("shape", SCAN_SHAPES, ids=str)
@pytest.mark.parametrize("name", ALONG_DIM)
def test_along_dim_against_pytorch(name, shape, dim):
    check_op(lambda lib, a: ALONG_DIM[name](lib, a, dim), random_array(shape), atol=1e-4)


@pytest.mark.parametrize("name", ALONG_DIM)
def test_along_dim_on_transposed_input(name):
    check_op(lambda lib, a: ALONG_DIM[name](lib, a.mT, 1), random_array((2, 3, 4)), atol=1e-4)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", INDICES)
def test_indices_against_pytorch(name, dim):
    check_op(lambda lib, a: INDICES[name](lib, a, dim), random_array((3, 4, 2)))


@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_running_extremes_take_the_last_index_on_ties(name):
    values = np.array([[1.0, 3.0, 3.0, 2.0, 3.0], [0.0, 0.0, 5.0, 5.0, -1.0]], np.float32)
    check_op(lambda lib, a: INDICES[name](lib, a, 1), values)
    check_op(lambda lib, a: ALONG_DIM[name](lib, a, 1), values)


@pytest.mark.parametrize("name", ["prod_dim", "prod_all", "cumprod"])
def test_products_with_zeros(name):
    values = random_array((3, 4))
    values[0, 1] = values[2, 0] = values[2, 3] = 0.0
    values[1, :2] = 0.0
    check_op(lambda lib, a: ALONG_DIM[name](lib, a, 1), values)
    check_op(lambda lib, a: ALONG_DIM[name](lib, a, 0), values)


def test_logcumsumexp_keeps_small_early_terms():
    values = np.array([-200.0, 0.0, 300.0, -1000.0], np.float32)
    check_op(lambda lib, a: a.logcumsumexp(0), values)


@pytest.mark.parametrize("dim", [0, 1])
@pytest.mark.parametrize("name", ALONG_DIM)
def test_gradcheck(name, dim):
    values = np.random.standard_normal((3, 4)) + np.arange(12).reshape(3, 4) * 1e-2
    x = tinytorch.tensor(values, dtype=tinytorch.float64, requires_grad=True)
    assert gradcheck(lambda a: ALONG_DIM[name](tinytorch, a, dim), [x])


def test_gradcheck_of_products_with_zeros():
    values = np.array([[0.0, 2.0, 0.0, 1.5], [3.0, 0.0, -1.0, 0.5]])
    x = tinytorch.tensor(values, requires_grad=True)
    assert gradcheck(lambda a: a.cumprod(1) * a.prod(1, keepdim=True), [x])


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "prod_dim", "prod_all", "sort"])
@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_])
def test_integer_scans_and_products_give_int64(dtype, name):
    values = np.array([[1, 0, 1], [1, 1, 1]]).astype(dtype)
    check_op(lambda lib, a: ALONG_DIM[name](lib, a, 1), values)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, (0, 1)], ids=str)
@pytest.mark.parametrize("name", ["std_mean", "var_mean"])
def test_std_mean_and_var_mean(name, dim, keepdim):
    def pair(lib, a):
        spread, mean = getattr(lib, name)(a, dim, keepdim=keepdim)
        return spread * 2 + mean

    check_op(pair, random_array((3, 4)))
    check_op(lambda lib, a: getattr(lib, name)(a, dim=1, correction=0)[0], random_array((3, 4)))


# name -> fn(lib, a): a reduction called with NumPy's keyword names
NUMPY_NAMES = {
    "sum": lambda lib, a: a.sum(axis=1, keepdims=True),
    "sum_function": lambda lib, a: lib.sum(a, axis=(0, 1)),
    "mean": lambda lib, a: lib.mean(a, axis=0, keepdims=True),
    "std": lambda lib, a: a.std(axis=1),
    "var": lambda lib, a: lib.var(a, axis=1, keepdims=True),
    "max": lambda lib, a: a.max(axis=1).values,
    "min": lambda lib, a: lib.min(a, axis=0, keepdims=True)[0],
    "argmax": lambda lib, a: a.argmax(axis=1),
    "argmin": lambda lib, a: lib.argmin(a, axis=0, keepdims=True),
    "prod": lambda lib, a: a.prod(axis=1, keepdims=True),
    "logsumexp": lambda lib, a: lib.logsumexp(a, axis=1),
    "any": lambda lib, a: (a > 0).any(axis=1),
    "all": lambda lib, a: lib.all(a > 0, axis=0, keepdims=True),
    "norm": lambda lib, a: a.norm(dim=1, keepdim=True),
}


@pytest.mark.parametrize("name", NUMPY_NAMES)
def test_numpy_keyword_names(name):
    check_op(NUMPY_NAMES[name], random_array((3, 4)))


@pytest.mark.parametrize(
    ("bins", "low", "high"), [(4, 0, 0), (5, -1.0, 1.0), (3, 0.5, 0.5), (1, -9.0, 9.0)]
)
def test_histc(bins, low, high):
    values = random_array((50,))
    values[:5] = [0.0, 1.0, -1.0, 0.5, 2.0]  # on bin edges and outside [low, high]
    check_op(lambda lib, a: lib.histc(a, bins, low, high), values, grad=False)
    check_op(lambda lib, a: a.histc(bins=bins, min=low, max=high), values, grad=False)


def test_histc_of_constant_input_uses_a_unit_range():
    check_op(lambda lib, a: lib.histc(a, bins=3), np.full(4, 2.0, np.float32), grad=False)


@pytest.mark.parametrize("density", [False, True])
def test_histogram(density):
    values, weight = random_array((40,)), random_array((40,), positive=True)
    edges = np.array([-2.0, -0.5, 0.0, 0.3, 2.0], np.float32)

    def both(lib, a, w, edges):
        hist, bin_edges = lib.histogram(a, bins=5, range=(-1.0, 1.0), density=density)
        by_edges = a.histogram(edges, weight=w, density=density)
        return lib.cat([hist, bin_edges, by_edges.hist, by_edges.bin_edges])

    check_op(both, values, weight, edges, grad=False)
    check_op(lambda lib, a: lib.histogram(a, 6).bin_edges, values, grad=False)


def test_bad_inputs_raise_like_pytorch():
    assert_both_raise(lambda lib, a: a.cumsum(2), random_array((2, 3)))
    assert_both_raise(lambda lib, a: a.sort(dim=-3), random_array((2, 3)))
    assert_both_raise(lambda lib, a: lib.histc(a, bins=3, min=2.0, max=1.0), random_array((5,)))
    assert_both_raise(lambda lib, a: lib.histc(a, bins=0), random_array((5,)))
