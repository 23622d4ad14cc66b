"""Module 12 against NumPy: softmax(Q K^T / sqrt(d) + mask) V, and multi-head attention.

No PyTorch needed. A bool mask of ``scaled_dot_product_attention`` keeps the scores where it
is True; a float mask is added; a causal mask lets query i see keys j <= i; a query that
may see no key gets zeros. ``MultiheadAttention`` projects with the rows of
``in_proj_weight`` (q, k, v in that order), splits the features into heads, attends per
head and projects back with ``out_proj``; its bool masks mark what is *not* allowed.
Backward passes are checked by float64 finite differences (``gradcheck``).
"""

import math

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tests.helpers import as_numpy, attention, keep_mask, multihead_attention, random_array
from tinytorch.autograd import gradcheck

pytestmark = pytest.mark.module12


def qkv(length: int = 5, source: int = 6) -> tuple[np.ndarray, ...]:
    return (
        random_array((2, 3, length, 4)),
        random_array((2, 3, source, 4)),
        random_array((2, 3, source, 8)),
    )


def sdpa(q, k, v, **options) -> np.ndarray:
    out = F.scaled_dot_product_attention(*(tinytorch.tensor(a) for a in (q, k, v)), **options)
    return out.numpy()


def test_attention_without_a_mask_and_with_a_given_scale() -> None:
    q, k, v = qkv()
    np.testing.assert_allclose(sdpa(q, k, v), attention(q, k, v)[0], rtol=1e-5, atol=1e-6)
    expected = attention(q, k, v, scale=0.3)[0]
    np.testing.assert_allclose(sdpa(q, k, v, scale=0.3), expected, rtol=1e-5, atol=1e-6)


def test_bool_mask_keeps_where_true_and_float_mask_adds() -> None:
    q, k, v = qkv()
    keep = np.random.uniform(size=(5, 6)) > 0.4
    keep[:, 0] = True  # every query sees a key
    out = sdpa(q, k, v, attn_mask=tinytorch.tensor(keep))
    np.testing.assert_allclose(out, attention(q, k, v, keep_mask(keep))[0], rtol=1e-5, atol=1e-6)
    bias = random_array((3, 1, 6))  # broadcasts over batch and queries
    out = sdpa(q, k, v, attn_mask=tinytorch.tensor(bias))
    np.testing.assert_allclose(out, attention(q, k, v, bias)[0], rtol=1e-5, atol=1e-6)


def test_causal_attention_sees_only_earlier_keys() -> None:
    q, k, v = qkv(5, 5)
    causal = np.tril(np.ones((5, 5), bool))
    out = sdpa(q, k, v, is_causal=True)
    np.testing.assert_allclose(out, attention(q, k, v, keep_mask(causal))[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[..., 0, :], v[..., 0, :], rtol=1e-6)  # query 0 sees key 0


def test_a_query_that_may_see_nothing_gets_zeros() -> None:
    q, k, v = qkv()
    keep = np.ones((5, 6), bool)
    keep[2] = False
    out = sdpa(q, k, v, attn_mask=tinytorch.tensor(keep))
    assert not np.isnan(out).any() and not out[..., 2, :].any()
    np.testing.assert_allclose(out, attention(q, k, v, keep_mask(keep))[0], rtol=1e-5, atol=1e-6)


def float64(*shape: int) -> tinytorch.Tensor:
    return tinytorch.tensor(np.random.standard_normal(shape), requires_grad=True)


@pytest.mark.parametrize("mask", ["none", "bool", "float"])
def test_attention_backward_matches_finite_differences(mask: str) -> None:
    q, k, v = float64(2, 3, 4), float64(2, 5, 4), float64(2, 5, 3)
    given = {
        "none": None,
        "bool": tinytorch.tensor(np.random.uniform(size=(3, 5)) > 0.3),
        "float": float64(3, 5),
    }[mask]
    inputs = [q, k, v] + ([given] if mask == "float" else [])
    assert gradcheck(
        lambda q, k, v, *m: F.scaled_dot_product_attention(q, k, v, m[0] if m else given),
        inputs,
    )


def test_multihead_attention_initialisation() -> None:
    mha = nn.MultiheadAttention(12, 3)
    weight = as_numpy(mha.in_proj_weight)
    bound = math.sqrt(6 / (12 + 36))  # Xavier-uniform over the (36, 12) matrix
    assert weight.shape == (36, 12) and 0.9 * bound < np.abs(weight).max() <= bound
    assert not as_numpy(mha.in_proj_bias).any() and not as_numpy(mha.out_proj.bias).any()
    assert mha.head_dim == 4 and not mha.batch_first


def test_multihead_attention_with_masks_and_per_head_weights() -> None:
    mha = nn.MultiheadAttention(12, 3, batch_first=True)
    for param in (mha.in_proj_bias, mha.out_proj.bias):
        param.data = tinytorch.tensor(random_array(tuple(param.shape)))
    query, key, value = random_array((2, 4, 12)), random_array((2, 5, 12)), random_array((2, 5, 12))
    blocked = np.random.uniform(size=(4, 5)) > 0.7  # True: may not attend
    padding = np.zeros((2, 5), bool)
    padding[1, 4] = True
    blocked[:, 0] = padding[:, 0] = False
    keep = ~(blocked[None, None] | padding[:, None, None, :])  # (N, 1, L, S)
    expected_out, expected_weights = multihead_attention(mha, query, key, value, keep)
    out, weights = mha(
        *(tinytorch.tensor(a) for a in (query, key, value)),
        key_padding_mask=tinytorch.tensor(padding),
        attn_mask=tinytorch.tensor(blocked),
        average_attn_weights=False,
    )
    np.testing.assert_allclose(as_numpy(out), expected_out, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(as_numpy(weights), expected_weights, rtol=1e-4, atol=1e-6)


def test_multihead_self_attention_sequence_first_averages_the_heads() -> None:
    mha = nn.MultiheadAttention(8, 2)
    x = random_array((2, 3, 8))  # (N, L, E)
    expected_out, expected_weights = multihead_attention(mha, x, x, x, np.ones((1, 1, 3, 3), bool))
    seq_first = tinytorch.tensor(x.transpose(1, 0, 2).copy())  # (L, N, E)
    for need_weights in (True, False):
        out, weights = mha(seq_first, seq_first, seq_first, need_weights=need_weights)
        expected = expected_out.transpose(1, 0, 2)
        np.testing.assert_allclose(as_numpy(out), expected, rtol=1e-4, atol=1e-5)
    _, weights = mha(seq_first, seq_first, seq_first)
    np.testing.assert_allclose(
        as_numpy(weights), expected_weights.mean(axis=1), rtol=1e-4, atol=1e-6
    )
