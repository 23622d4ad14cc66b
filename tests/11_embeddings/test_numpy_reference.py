"""Module 11 against NumPy: embedding lookups, their gradients, positional tables.

No PyTorch needed. An embedding of ids (*) is the rows W[ids] (*, d); its weight gradient
adds each upstream row into the row of its id (ids repeat, so rows add up), except the
``padding_idx`` row, which gets none. The sinusoidal table is
P[t, 2i] = sin(t / 10000^(2i / d)), P[t, 2i + 1] = cos(t / 10000^(2i / d)).
"""

import math

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tests.helpers import as_numpy, random_array

pytestmark = pytest.mark.module11

IDS = np.array([[1, 4, 1, 0], [3, 3, 3, 6]])


def weight_gradient(ids: np.ndarray, upstream: np.ndarray, rows: int) -> np.ndarray:
    """sum over the positions p with ids[p] = r of upstream[p], for every row r."""
    grad = np.zeros((rows, upstream.shape[-1]), upstream.dtype)
    for position in np.ndindex(ids.shape):
        grad[ids[position]] += upstream[position]
    return grad


def test_embedding_looks_up_rows() -> None:
    weight = random_array((7, 5))
    out = F.embedding(tinytorch.tensor(IDS), tinytorch.tensor(weight))
    assert tuple(out.shape) == (2, 4, 5)
    np.testing.assert_array_equal(out.numpy(), weight[IDS])


@pytest.mark.parametrize("padding_idx", [None, 3])
def test_embedding_gradient_adds_the_rows_of_repeated_ids(padding_idx) -> None:
    weight = tinytorch.tensor(random_array((7, 5)), requires_grad=True)
    upstream = random_array((2, 4, 5))
    F.embedding(tinytorch.tensor(IDS), weight, padding_idx).backward(tinytorch.tensor(upstream))
    expected = weight_gradient(IDS, upstream, 7)
    if padding_idx is not None:
        expected[padding_idx] = 0
    np.testing.assert_allclose(weight.grad.numpy(), expected, rtol=1e-6, atol=1e-6)


def test_scale_grad_by_freq_divides_each_row_by_its_count() -> None:
    weight = tinytorch.tensor(random_array((7, 5)), requires_grad=True)
    upstream = random_array((2, 4, 5))
    out = F.embedding(tinytorch.tensor(IDS), weight, scale_grad_by_freq=True)
    out.backward(tinytorch.tensor(upstream))
    counts = np.maximum(np.bincount(IDS.ravel(), minlength=7), 1)[:, None]
    expected = weight_gradient(IDS, upstream, 7) / counts
    np.testing.assert_allclose(weight.grad.numpy(), expected, rtol=1e-6, atol=1e-6)


def test_embedding_layer_draws_a_standard_normal_table_with_a_zero_padding_row() -> None:
    layer = nn.Embedding(400, 50, padding_idx=-2)
    weight = as_numpy(layer.weight)
    assert weight.shape == (400, 50) and layer.padding_idx == 398
    assert not weight[398].any()
    assert abs(weight.mean()) < 0.02 and abs(weight.std() - 1) < 0.02
    np.testing.assert_array_equal(as_numpy(layer(tinytorch.tensor(IDS))), weight[IDS])


def test_embedding_layer_wraps_a_given_table() -> None:
    table = random_array((6, 3))
    layer = nn.Embedding.from_pretrained(tinytorch.tensor(table), freeze=False)
    assert layer.weight.requires_grad and (layer.num_embeddings, layer.embedding_dim) == (6, 3)
    np.testing.assert_array_equal(as_numpy(layer(tinytorch.tensor([5, 0]))), table[[5, 0]])


@pytest.mark.parametrize("d_model", [6, 7])
def test_sinusoidal_encoding_adds_the_paper_table(d_model: int) -> None:
    table = np.zeros((12, d_model))
    for t in range(12):
        for feature in range(d_model):
            angle = t / 10000 ** (2 * (feature // 2) / d_model)
            table[t, feature] = math.sin(angle) if feature % 2 == 0 else math.cos(angle)
    x = random_array((2, 9, d_model))
    out = nn.SinusoidalPositionalEncoding(d_model, max_len=12)(tinytorch.tensor(x))
    np.testing.assert_allclose(out.numpy(), x + table[:9], rtol=1e-5, atol=1e-6)


def test_learned_positional_embedding_adds_its_first_rows() -> None:
    layer = nn.LearnedPositionalEmbedding(max_len=10, d_model=4)
    x = random_array((3, 6, 4))
    expected = x + as_numpy(layer.weight)[:6]
    np.testing.assert_allclose(as_numpy(layer(tinytorch.tensor(x))), expected, rtol=1e-6)
