"""Hidden tests of module 01: graded by ``tito grade``, never copied to a learner.

They check the same exercises as the visible tests on inputs a learner has not seen, so
code fitted to the visible cases does not pass by accident.
"""

import numpy as np
import pytest

import tinytorch

pytestmark = pytest.mark.module01


def test_sum_of_a_broadcast_expression_over_two_axes():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    b = np.linspace(-1, 1, 4, dtype=np.float32)
    got = (tinytorch.tensor(a) * tinytorch.tensor(b) - 1).sum(dim=(0, 2))
    np.testing.assert_allclose(got.numpy(), (a * b - 1).sum(axis=(0, 2)), rtol=1e-6)


def test_mean_of_a_transposed_view_keeps_dims():
    a = np.random.default_rng(3).standard_normal((3, 5)).astype(np.float32)
    got = tinytorch.tensor(a).t().mean(dim=1, keepdim=True)
    np.testing.assert_allclose(got.numpy(), a.T.mean(axis=1, keepdims=True), rtol=1e-5)


def test_reshape_then_matmul_matches_numpy():
    a = np.arange(12, dtype=np.float32)
    got = tinytorch.tensor(a).reshape(3, 4) @ tinytorch.tensor(a).reshape(4, 3)
    np.testing.assert_allclose(got.numpy(), a.reshape(3, 4) @ a.reshape(4, 3))
