"""Scaled dot-product attention and nn.MultiheadAttention against PyTorch (module 12).

Tests that run backward need module 05 (autograd) as well and carry its marker.
"""

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tests.helpers import assert_both_raise, assert_close, check_op, torch_or_skip
from tinytorch.autograd import gradcheck

pytestmark = pytest.mark.module12
needs_autograd = pytest.mark.module05


def qkv(batch: tuple = (2, 3), length: int = 4, source: int = 5, dim: int = 8) -> list:
    """Random query (*batch, L, E), key (*batch, S, E) and value (*batch, S, 6)."""
    return [
        np.random.standard_normal(shape).astype(np.float32)
        for shape in ((*batch, length, dim), (*batch, source, dim), (*batch, source, 6))
    ]


def sdpa(lib, *args, **kwargs):
    return lib.nn.functional.scaled_dot_product_attention(*args, **kwargs)


# ---------------------------------------------------------------------- scaled dot-product
@needs_autograd
@pytest.mark.parametrize("scale", [None, 0.3])
def test_sdpa_without_mask_matches_pytorch(scale) -> None:
    check_op(lambda lib, q, k, v: sdpa(lib, q, k, v, scale=scale), *qkv())


@needs_autograd
def test_sdpa_broadcasts_batch_dimensions_like_pytorch() -> None:
    q, _, _ = qkv(batch=(2, 3))
    _, k, v = qkv(batch=(1, 3))
    check_op(lambda lib, q, k, v: sdpa(lib, q, k, v), q, k, v)


@needs_autograd
@pytest.mark.parametrize("scale", [None, 0.5])
def test_sdpa_bool_mask_true_means_attend(scale) -> None:
    mask = np.random.random_sample((4, 5)) > 0.4
    mask[:, 0] = True
    check_op(lambda lib, q, k, v, m: sdpa(lib, q, k, v, attn_mask=m, scale=scale), *qkv(), mask)


@needs_autograd
def test_sdpa_additive_float_mask_and_its_gradient_match_pytorch() -> None:
    mask = np.random.standard_normal((3, 4, 5)).astype(np.float32)
    check_op(lambda lib, q, k, v, m: sdpa(lib, q, k, v, attn_mask=m), *qkv(), mask)


@needs_autograd
@pytest.mark.parametrize("source", [4, 6])
def test_sdpa_causal_matches_pytorch(source: int) -> None:
    check_op(lambda lib, q, k, v: sdpa(lib, q, k, v, is_causal=True), *qkv(source=source))


def test_sdpa_fully_masked_query_gets_zeros_like_pytorch() -> None:
    mask = np.ones((4, 5), bool)
    mask[2] = False
    check_op(lambda lib, q, k, v, m: sdpa(lib, q, k, v, attn_mask=m), *qkv(), mask, grad=False)


@needs_autograd
def test_sdpa_gradcheck_with_float_mask() -> None:
    inputs = [
        tinytorch.tensor(a.astype(np.float64), requires_grad=True) for a in qkv((2,), 3, 4, 5)
    ]
    mask = tinytorch.randn(3, 4, dtype=tinytorch.float64, requires_grad=True)
    assert gradcheck(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m), (*inputs, mask))


@needs_autograd
def test_sdpa_gradcheck_causal_with_dropout_mask_fixed() -> None:
    inputs = [
        tinytorch.tensor(a.astype(np.float64), requires_grad=True) for a in qkv((2,), 3, 3, 4)
    ]

    def attend(q, k, v):
        tinytorch.manual_seed(3)  # the same dropout mask at every evaluation
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.3, is_causal=True)

    assert gradcheck(attend, inputs)


def test_sdpa_dropout_keeps_the_expected_value() -> None:
    q, k, v = (
        tinytorch.zeros(1, 1, 2000, 4),
        tinytorch.zeros(1, 1, 8, 4),
        tinytorch.ones(1, 1, 8, 1),
    )
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.25).detach().numpy()
    assert set(np.round(np.unique(out / (1 / 8 / 0.75)), 6)) <= set(range(9))
    assert abs(out.mean() - 1) < 0.05


def test_sdpa_errors_match_pytorch_and_name_the_shapes() -> None:
    q, k, v = qkv()
    bad_mask = np.ones((4, 4), bool)
    assert_both_raise(lambda lib, q, k, v, m: sdpa(lib, q, k, v, attn_mask=m), q, k, v, bad_mask)
    assert_both_raise(lambda lib, q, k, v: sdpa(lib, q, k[..., :3], v), q, k, v)
    good_mask = np.ones((4, 5), bool)
    assert_both_raise(
        lambda lib, q, k, v, m: sdpa(lib, q, k, v, attn_mask=m, is_causal=True), q, k, v, good_mask
    )
    with pytest.raises(RuntimeError, match=r"attn_mask of shape \(4, 4\) .* \(2, 3, 4, 5\)"):
        F.scaled_dot_product_attention(
            *map(tinytorch.tensor, (q, k, v)), tinytorch.tensor(bad_mask)
        )


# ---------------------------------------------------------------------- MultiheadAttention
def twin_attention(batch_first: bool, bias: bool = True, dropout: float = 0.0):
    """Our MultiheadAttention and PyTorch's with the same weights (loaded from our state)."""
    torch = torch_or_skip()
    ours = nn.MultiheadAttention(8, 2, dropout, bias=bias, batch_first=batch_first)
    theirs = torch.nn.MultiheadAttention(8, 2, dropout, bias=bias, batch_first=batch_first)
    theirs.load_state_dict(
        {k: torch.tensor(v.detach().numpy()) for k, v in ours.state_dict().items()}
    )
    return ours, theirs


def sequences(batch_first: bool, batch: int, length: int) -> np.ndarray:
    shape = (batch, length, 8) if batch_first else (length, batch, 8)
    return np.random.standard_normal(shape).astype(np.float32)


@needs_autograd
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_self_attention_matches_pytorch(batch_first: bool, need_weights: bool) -> None:
    ours, theirs = twin_attention(batch_first)

    def attend(lib, x):
        module = ours if lib is tinytorch else theirs
        out, weights = module(x, x, x, need_weights=need_weights)
        return out if weights is None else out * 2 + weights.sum()

    check_op(attend, sequences(batch_first, 3, 4))
    torch = torch_or_skip()
    x = sequences(batch_first, 3, 4)
    assert_close(ours(*[tinytorch.tensor(x)] * 3)[1], theirs(*[torch.tensor(x)] * 3)[1], atol=1e-6)
    grads = {name: p.grad for name, p in ours.named_parameters()}
    for name, param in theirs.named_parameters():
        assert_close(grads[name], param.grad, atol=1e-5)


@needs_autograd
@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_cross_attention_with_key_padding_and_attn_mask(batch_first: bool) -> None:
    ours, theirs = twin_attention(batch_first, bias=False)
    padding = np.zeros((3, 5), bool)
    padding[0, -2:] = True
    attn_mask = np.random.random_sample((4, 5)) > 0.7  # True = may not attend
    attn_mask[:, 0] = False

    def attend(lib, q, kv, pad, mask):
        module = ours if lib is tinytorch else theirs
        out, weights = module(
            q, kv, kv, key_padding_mask=pad, attn_mask=mask, average_attn_weights=False
        )
        return out + weights.mean()

    check_op(attend, sequences(batch_first, 3, 4), sequences(batch_first, 3, 5), padding, attn_mask)


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_causal_bool_mask_and_is_causal(need_weights: bool) -> None:
    ours, theirs = twin_attention(batch_first=True)
    causal = np.triu(np.ones((4, 4), bool), 1)  # True = may not attend

    def attend(lib, x, mask):
        module = ours if lib is tinytorch else theirs
        return module(x, x, x, attn_mask=mask, is_causal=True, need_weights=need_weights)[0]

    check_op(attend, sequences(True, 2, 4), causal, grad=False)


def test_multihead_attention_unbatched_and_per_head_weights() -> None:
    ours, theirs = twin_attention(batch_first=False)
    x = sequences(True, 1, 4)[0]  # (L, E)

    def attend(lib, x):
        module = ours if lib is tinytorch else theirs
        out, weights = module(x, x, x, average_attn_weights=False)
        assert tuple(weights.shape) == (2, 4, 4)
        return out

    check_op(attend, x, grad=False)


def test_multihead_attention_parameters_match_pytorch_layout() -> None:
    torch = torch_or_skip()
    ours, theirs = nn.MultiheadAttention(16, 4), torch.nn.MultiheadAttention(16, 4)
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(theirs_state)
    assert all(ours_state[k].shape == tuple(theirs_state[k].shape) for k in ours_state)
    assert np.all(ours.in_proj_bias.detach().numpy() == 0) and np.all(
        ours.out_proj.bias.detach().numpy() == 0
    )


def test_multihead_attention_dropout_only_in_training() -> None:
    mha = nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = tinytorch.randn(2, 6, 8)
    mha.eval()
    first, second = mha(x, x, x)[0], mha(x, x, x)[0]
    assert np.array_equal(first.detach().numpy(), second.detach().numpy())
    mha.train()
    assert not np.allclose(mha(x, x, x)[0].detach().numpy(), first.detach().numpy())


def test_multihead_attention_errors() -> None:
    torch = torch_or_skip()
    with pytest.raises(AssertionError, match="divisible"):
        torch.nn.MultiheadAttention(10, 3)
    with pytest.raises(AssertionError, match="embed_dim=10 and num_heads=3"):
        nn.MultiheadAttention(10, 3)
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = tinytorch.randn(2, 4, 8)
    with pytest.raises(RuntimeError, match=r"attn_mask of shape \(3, 3\) should be \(L, S\)"):
        mha(x, x, x, attn_mask=tinytorch.zeros(3, 3))
    with pytest.raises(AssertionError, match="key_padding_mask"):
        mha(x, x, x, key_padding_mask=tinytorch.zeros(4, 2, dtype=tinytorch.bool))
    with pytest.raises(RuntimeError, match="is_causal"):
        mha(x, x, x, is_causal=True)
    with pytest.raises(AssertionError, match="embed_dim=8"):
        mha(tinytorch.randn(2, 4, 6), x, x)
