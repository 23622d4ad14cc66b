"""GPT and MultiheadAttention with past_key_values; cached greedy generation (module 17)."""

import numpy as np
import pytest

import tinytorch
from tinytorch import nn
from tinytorch.generation import DynamicCache, StaticCache
from tinytorch.models import GPT, GPTConfig
from tinytorch.models.gpt import attend_to_cache

pytestmark = pytest.mark.module17


def small_gpt(block_size: int = 24, seed: int = 0) -> GPT:
    tinytorch.manual_seed(seed)
    config = GPTConfig(vocab_size=13, block_size=block_size, n_layer=2, n_head=2, n_embd=16)
    return GPT(config).eval()


def briefly_trained_gpt() -> GPT:
    """A GPT after 60 AdamW steps on a repeating sequence: confident, non-uniform logits."""
    model = small_gpt(block_size=16, seed=1).train()
    pattern = tinytorch.tensor([[3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2]])
    optimizer = tinytorch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(60):
        _, loss = model(pattern[:, :-1], pattern[:, 1:])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def test_attend_to_cache_equals_the_last_rows_of_causal_attention() -> None:
    q, k, v = (tinytorch.randn(2, 3, 7, 4) for _ in range(3))
    full = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True).numpy()
    for new in (1, 3, 7):
        cached = attend_to_cache(q[:, :, -new:], k, v).numpy()
        np.testing.assert_allclose(cached, full[:, :, -new:], atol=1e-6)


@pytest.mark.parametrize("layout", ["dynamic", "static"])
def test_cached_forward_gives_the_logits_of_the_full_forward(layout: str) -> None:
    model = small_gpt()
    idx = tinytorch.randint(0, 13, (3, 10))
    with tinytorch.no_grad():
        full, _ = model(idx)  # (3, 10, V)
        cache = model.new_cache(3, layout, 10)
        prefill, _, cache = model(idx[:, :6], past_key_values=cache, use_cache=True)
        pieces = [prefill]
        for t in range(6, 10):  # one token at a time: positions 6..9
            logits, _, cache = model(idx[:, t : t + 1], past_key_values=cache, use_cache=True)
            pieces.append(logits)
    assert cache.get_seq_length() == 10 and len(cache) == 2
    stepped = np.concatenate([piece.numpy() for piece in pieces], axis=1)
    np.testing.assert_allclose(stepped, full.numpy(), atol=1e-5)


def test_use_cache_returns_a_new_dynamic_cache_and_the_loss() -> None:
    model = small_gpt()
    idx = tinytorch.randint(0, 13, (2, 5))
    logits, loss, cache = model(idx, idx, use_cache=True)
    assert isinstance(cache, DynamicCache) and cache.get_seq_length() == 5
    _, expected = model(idx, idx)
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-6)


@pytest.mark.parametrize("trained", [False, True])
@pytest.mark.parametrize("layout", ["dynamic", "static"])
def test_greedy_generation_is_identical_with_and_without_the_cache(
    trained: bool, layout: str
) -> None:
    model = briefly_trained_gpt() if trained else small_gpt(block_size=16)
    prompt = tinytorch.tensor([[3, 1, 4], [1, 5, 9], [2, 6, 5], [0, 0, 7]])  # batch of 4
    slow = model.generate(prompt, 12, top_k=1, use_cache=False)
    fast = model.generate(prompt, 12, top_k=1, cache_implementation=layout)
    assert fast.shape == (4, 15)
    np.testing.assert_array_equal(fast.numpy(), slow.numpy())
    if trained:  # the model learned the pattern: the test compares meaningful tokens
        assert fast[0].tolist() == [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9]


def test_generation_past_the_context_slides_the_window_as_without_cache() -> None:
    model = small_gpt(block_size=8)
    prompt = tinytorch.randint(0, 13, (2, 5))
    slow = model.generate(prompt, 10, top_k=1, use_cache=False)
    fast = model.generate(prompt, 10, top_k=1)
    np.testing.assert_array_equal(fast.numpy(), slow.numpy())


def test_generate_runs_one_token_per_step_after_the_prompt() -> None:
    model = small_gpt()
    lengths = []
    model.blocks[0].register_forward_pre_hook(lambda module, args: lengths.append(args[0].shape[1]))
    model.generate(tinytorch.randint(0, 13, (2, 5)), 4)
    assert lengths == [5, 1, 1, 1]
    lengths.clear()
    model.generate(tinytorch.randint(0, 13, (2, 5)), 3, use_cache=False)
    assert lengths == [5, 6, 7]


def test_a_cache_longer_than_the_context_is_refused() -> None:
    model = small_gpt(block_size=8)
    with tinytorch.no_grad():
        _, _, cache = model(tinytorch.randint(0, 13, (1, 6)), use_cache=True)
        with pytest.raises(ValueError, match=r"6 cached \+ 3 new.*block_size=8"):
            model(tinytorch.randint(0, 13, (1, 3)), past_key_values=cache, use_cache=True)


def test_a_cache_of_another_batch_is_refused() -> None:
    model = small_gpt()
    with tinytorch.no_grad():
        _, _, cache = model(tinytorch.randint(0, 13, (2, 4)), use_cache=True)
        with pytest.raises(ValueError, match="batch"):
            model(tinytorch.randint(0, 13, (3, 1)), past_key_values=cache, use_cache=True)
    with pytest.raises(ValueError, match="'dynamic' or 'static'"):
        model.generate(tinytorch.zeros(1, 2, dtype=tinytorch.long), 1, cache_implementation="x")


def causal_mask(length: int) -> tinytorch.Tensor:
    return tinytorch.ones(length, length, dtype=tinytorch.bool).triu(1)  # True: may not attend


@pytest.mark.parametrize("batch_first", [True, False])
def test_multihead_attention_with_a_cache_matches_full_causal_attention(
    batch_first: bool,
) -> None:
    tinytorch.manual_seed(0)
    mha = nn.MultiheadAttention(16, 4, batch_first=batch_first).eval()
    x = tinytorch.randn(2, 7, 16) if batch_first else tinytorch.randn(7, 2, 16)
    mask = causal_mask(7)
    with tinytorch.no_grad():
        full, _ = mha(x, x, x, attn_mask=mask, is_causal=True, need_weights=False)
        first = x[:, :4] if batch_first else x[:4]
        out, _, cache = mha(first, first, first, attn_mask=mask[:4, :4], use_cache=True)
        pieces = [out]
        for t in range(4, 7):  # one new query at a time over all cached keys
            step = x[:, t : t + 1] if batch_first else x[t : t + 1]
            out, weights, cache = mha(step, step, step, past_key_values=cache, use_cache=True)
            pieces.append(out)
    assert weights.shape == (2, 1, t + 1) and cache.get_seq_length() == 7
    stepped = np.concatenate([p.numpy() for p in pieces], axis=1 if batch_first else 0)
    np.testing.assert_allclose(stepped, full.numpy(), atol=1e-6)


def test_multihead_attention_cache_errors() -> None:
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    x = tinytorch.randn(2, 3, 8)
    with tinytorch.no_grad():
        _, _, cache = mha(x, x, x, use_cache=True)
        with pytest.raises(ValueError, match="key_padding_mask"):
            padding = tinytorch.zeros(2, 3, dtype=tinytorch.bool)
            mha(x, x, x, key_padding_mask=padding, past_key_values=cache)
        with pytest.raises(ValueError, match="batch"):
            y = tinytorch.randn(1, 1, 8)
            mha(y, y, y, past_key_values=cache)
    static = StaticCache(1, 2, 2, 4, max_cache_len=4)
    longer = tinytorch.randn(2, 5, 8)
    with tinytorch.no_grad(), pytest.raises(ValueError, match="max_cache_len=4"):
        mha(longer, longer, longer, past_key_values=static)
