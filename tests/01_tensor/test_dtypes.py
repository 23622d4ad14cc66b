"""Result dtypes against PyTorch: promotion between tensors and with Python numbers."""

import numpy as np
import pytest

import tinytorch
from tests.helpers import check_op

pytestmark = pytest.mark.module01

INTS = np.array([[3, -7, 0], [5, 2, -1]])
FLOATS = np.array([[0.5, -2.25, 3.0], [1.5, -0.5, 4.0]], dtype=np.float32)
BOOLS = np.array([[True, False, True], [False, False, True]])

DTYPES = {
    "float32": np.float32,
    "float64": np.float64,
    "float16": np.float16,
    "int64": np.int64,
    "int32": np.int32,
    "int8": np.int8,
    "uint8": np.uint8,
    "bool": np.bool_,
}

WITH_SCALAR = {
    "add_int": lambda lib, a: a + 2,
    "add_float": lambda lib, a: a + 1.5,
    "radd_float": lambda lib, a: 0.5 + a,
    "mul_int": lambda lib, a: a * 3,
    "mul_float": lambda lib, a: a * 0.5,
    "rsub_float": lambda lib, a: 2.5 - a,
    "div_int": lambda lib, a: a / 2,
    "rdiv_int": lambda lib, a: 12 / (a.abs() + 1),
    "pow_int": lambda lib, a: a.abs() ** 2,
    "pow_float": lambda lib, a: a.abs() ** 0.5,
    "rpow_int": lambda lib, a: 2 ** a.abs(),
    "floordiv": lambda lib, a: a // 2,
    "mod": lambda lib, a: a % 3,
    "sum": lambda lib, a: a.sum(),
    "sum_dim": lambda lib, a: a.sum(1),
    "sum_dtype": lambda lib, a: a.sum(dtype=lib.float64),
    "max": lambda lib, a: a.max(),
    "argmax": lambda lib, a: a.argmax(),
    "exp": lambda lib, a: a.exp(),
    "sqrt": lambda lib, a: a.abs().sqrt(),
    "abs": lambda lib, a: a.abs(),
    "neg": lambda lib, a: -a,
    "clamp": lambda lib, a: a.clamp(0, 2),
    "where_scalars": lambda lib, a: lib.where(a > 0, 1.0, 0.0),
    "where_int_float": lambda lib, a: lib.where(a > 0, a, 0.5),
    "masked_fill": lambda lib, a: a.masked_fill(a > 0, 1),
    "tril": lambda lib, a: a.tril(),
    "eq": lambda lib, a: a == 3,
    "gt_float": lambda lib, a: a > 0.5,
    "reshape": lambda lib, a: a.reshape(3, 2),
    "index": lambda lib, a: a[0, 1:],
    "to_float": lambda lib, a: a.float(),
    "to_long": lambda lib, a: a.long(),
    "to_dtype": lambda lib, a: a.to(lib.float16),
    "float_plus_long": lambda lib, a: a.float() + a.long(),
    "mean_float": lambda lib, a: a.float().mean(),
}


def values_of(dtype: type) -> np.ndarray:
    if dtype is np.bool_:
        return BOOLS
    if np.dtype(dtype).kind == "f":
        return FLOATS.astype(dtype)
    return np.abs(INTS).astype(dtype) if dtype is np.uint8 else INTS.astype(dtype)


# PyTorch refuses these on bool tensors (tinytorch computes them as NumPy does)
BOOL_REFUSES = {"neg", "rsub_float", "mod", "floordiv", "abs", "sqrt", "rdiv_int", "pow_int"}
BOOL_REFUSES |= {"pow_float", "rpow_int", "argmax", "clamp"}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", WITH_SCALAR)
def test_result_dtype_with_python_numbers(name, dtype):
    if dtype == "bool" and name in BOOL_REFUSES:
        pytest.skip("PyTorch refuses this op on bool tensors")
    check_op(WITH_SCALAR[name], values_of(DTYPES[dtype]), grad=False, atol=1e-3, rtol=1e-3)


PAIRS = [
    ("int64", "float32"),
    ("int32", "float32"),
    ("int32", "float16"),
    ("int16", "float16"),
    ("float16", "float32"),
    ("float32", "float64"),
    ("uint8", "int8"),
    ("int32", "int64"),
    ("bool", "int32"),
    ("bool", "float16"),
    ("uint8", "int64"),
]
BINARY = {
    "add": lambda lib, a, b: a + b,
    "mul": lambda lib, a, b: b * a,
    "div": lambda lib, a, b: a / (b * b + 1),
    "maximum": lambda lib, a, b: lib.maximum(a, b),
    "where": lambda lib, a, b: lib.where(a > 0, a, b),
    "cat": lambda lib, a, b: lib.cat([a, b]),
}


@pytest.mark.parametrize("zero_dim", ["none", "first", "second"])
@pytest.mark.parametrize("pair", PAIRS, ids="-".join)
@pytest.mark.parametrize("name", BINARY)
def test_result_dtype_between_tensors(name, pair, zero_dim):
    first = values_of(getattr(np, pair[0]) if pair[0] != "bool" else np.bool_)
    second = values_of(getattr(np, pair[1]) if pair[1] != "bool" else np.bool_)
    if zero_dim == "first":
        first = first[0, 0]
    if zero_dim == "second":
        second = second[1, 2]
    if name == "cat" and zero_dim != "none":
        return
    check_op(BINARY[name], np.asarray(first), np.asarray(second), grad=False, atol=1e-3)
    check_op(BINARY[name], np.asarray(second), np.asarray(first), grad=False, atol=1e-3)


def test_integer_division_is_true_division():
    check_op(lambda lib, a, b: a / b, np.array([7, -7, 1]), np.array([2, 2, 3]), grad=False)
    check_op(lambda lib, a: lib.div(a, 2), np.array([7, -7, 1]), grad=False)


def test_bool_sum_counts_true_values():
    check_op(lambda lib, a: a.sum(), BOOLS, grad=False)
    check_op(lambda lib, a: (a > 1).sum(0), INTS, grad=False)


def test_dtype_objects_and_aliases():
    assert tinytorch.float is tinytorch.float32 and tinytorch.double is tinytorch.float64
    assert tinytorch.long is tinytorch.int64 and tinytorch.half is tinytorch.float16
    assert tinytorch.int is tinytorch.int32
    assert tinytorch.float32.is_floating_point and not tinytorch.int64.is_floating_point
    assert repr(tinytorch.int8) == "tinytorch.int8"
    assert tinytorch.ones(2, dtype=tinytorch.uint8).dtype == tinytorch.uint8


@pytest.mark.parametrize("dtype", DTYPES)
def test_conversions_keep_values(dtype):
    x = tinytorch.tensor(values_of(DTYPES[dtype]))
    assert x.dtype == getattr(tinytorch, dtype)
    assert x.float().dtype == tinytorch.float32
    assert x.long().dtype == tinytorch.int64
    assert x.to(tinytorch.float64).dtype == tinytorch.float64
    assert x.to(dtype=tinytorch.int8).dtype == tinytorch.int8
    assert x.double().tolist() == values_of(DTYPES[dtype]).astype(np.float64).tolist()
    assert x.to(x.dtype) is x
