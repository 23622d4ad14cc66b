"""Module 18's fast kernels equal their slow forms and the framework's own ops."""

import numpy as np
import pytest

import tinytorch
import tinytorch.nn.functional as F
from tinytorch.acceleration import kernels

pytestmark = pytest.mark.module18


@pytest.mark.parametrize(
    ("x_shape", "w_shape"),
    [((2, 3, 7, 6), (4, 3, 3, 3)), ((1, 1, 5, 5), (2, 1, 1, 1)), ((3, 2, 4, 9), (1, 2, 4, 2))],
)
def test_conv2d_shifted_equals_loops_and_framework_conv(x_shape, w_shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    fast = kernels.conv2d_shifted(x, w)
    np.testing.assert_allclose(fast, kernels.conv2d_loops(x, w), rtol=1e-12, atol=1e-12)
    framework = F.conv2d(tinytorch.tensor(x), tinytorch.tensor(w)).numpy()
    np.testing.assert_allclose(fast, framework, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("m", "k", "n", "tile"), [(5, 7, 3, 2), (64, 33, 70, 16), (8, 8, 8, 64)])
def test_tiled_matmul_equals_outer_products_and_blas(m, k, n, tile):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((m, k))
    b = rng.standard_normal((k, n))
    tiled = kernels.tiled_matmul(a, b, tile=tile)
    np.testing.assert_array_equal(tiled, kernels.matmul_outer_products(a, b))
    np.testing.assert_allclose(tiled, a @ b, rtol=1e-12, atol=1e-12)


def test_float16_storage_accumulates_in_float32():
    k = 4096
    a = np.full((1, k), 1.0, dtype=np.float16)
    b = np.full((k, 1), 1.0, dtype=np.float16)
    result = kernels.matmul_float16_storage(a, b)
    assert result.dtype == np.float16 and result[0, 0] == k
    running = np.float16(0)
    for _ in range(k):  # a float16 accumulator stops growing at 2048: 2048 + 1 rounds to 2048
        running = np.float16(running + np.float16(1))
    assert running == 2048


def test_float16_storage_refuses_other_dtypes():
    with pytest.raises(TypeError, match="expected float16"):
        kernels.matmul_float16_storage(np.ones((2, 2)), np.ones((2, 2), dtype=np.float16))
