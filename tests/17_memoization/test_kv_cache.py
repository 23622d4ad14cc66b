"""Key/value caches: DynamicCache, StaticCache and their memory (module 17)."""

import numpy as np
import pytest

import tinytorch
from tinytorch.generation import DynamicCache, StaticCache, kv_cache_bytes

pytestmark = pytest.mark.module17


def keys_and_values(batch: int, heads: int, length: int, dim: int) -> tuple:
    return tinytorch.randn(batch, heads, length, dim), tinytorch.randn(batch, heads, length, dim)


def test_kv_cache_bytes_is_two_times_layers_batch_heads_seq_dim_bytes() -> None:
    assert kv_cache_bytes(2, 1, 4, 256, 32, 4) == 2 * 2 * 1 * 4 * 256 * 32 * 4
    assert kv_cache_bytes(12, 8, 12, 1024, 64, 2) == 2 * 12 * 8 * 12 * 1024 * 64 * 2


def test_dynamic_cache_appends_along_the_sequence() -> None:
    cache = DynamicCache()
    assert cache.get_seq_length() == 0 and len(cache) == 0
    k1, v1 = keys_and_values(2, 3, 4, 5)
    k2, v2 = keys_and_values(2, 3, 1, 5)
    cache.update(k1, v1, 0)
    keys, values = cache.update(k2, v2, 0)
    assert keys.shape == (2, 3, 5, 5) and cache.get_seq_length() == 5
    np.testing.assert_array_equal(keys.numpy(), np.concatenate([k1.numpy(), k2.numpy()], 2))
    np.testing.assert_array_equal(values.numpy(), np.concatenate([v1.numpy(), v2.numpy()], 2))
    cache.update(k1, v1, 1)
    assert len(cache) == 2 and cache.get_seq_length(1) == 4
    assert cache.nbytes() == 4 * (2 * 3 * 5 * 5 + 2 * 3 * 4 * 5) * 2


def test_static_cache_writes_into_its_buffer_in_place() -> None:
    cache = StaticCache(num_layers=2, batch_size=2, num_heads=3, head_dim=5, max_cache_len=8)
    buffer = cache.key_cache[0]
    assert cache.nbytes() == kv_cache_bytes(2, 2, 3, 8, 5, 4)  # all of it, from the start
    k1, v1 = keys_and_values(2, 3, 4, 5)
    k2, v2 = keys_and_values(2, 3, 1, 5)
    cache.update(k1, v1, 0)
    keys, values = cache.update(k2, v2, 0)
    assert cache.key_cache[0] is buffer  # no reallocation
    assert np.shares_memory(keys.numpy(), buffer)
    assert keys.shape == (2, 3, 5, 5) and cache.get_seq_length() == 5
    np.testing.assert_array_equal(keys.numpy(), np.concatenate([k1.numpy(), k2.numpy()], 2))
    np.testing.assert_array_equal(values.numpy(), np.concatenate([v1.numpy(), v2.numpy()], 2))
    assert not buffer[:, :, 5:].any() and cache.get_seq_length(1) == 0


def test_dynamic_cache_memory_matches_the_formula() -> None:
    cache = DynamicCache()
    for layer in range(3):
        cache.update(*keys_and_values(2, 4, 7, 8), layer)
    assert cache.nbytes() == kv_cache_bytes(3, 2, 4, 7, 8, 4)


def test_caches_reject_a_different_batch_or_shape() -> None:
    for cache in (DynamicCache(), StaticCache(1, 2, 3, 5, 8)):
        cache.update(*keys_and_values(2, 3, 2, 5), 0)
        name = type(cache).__name__
        with pytest.raises(ValueError, match=f"{name}.update.*batch"):
            cache.update(*keys_and_values(1, 3, 1, 5), 0)
        with pytest.raises(ValueError, match=f"{name}.update.*heads"):
            cache.update(*keys_and_values(2, 2, 1, 5), 0)
        with pytest.raises(ValueError, match=r"\(B, H, T, D\)"):
            cache.update(tinytorch.randn(2, 3, 1, 5), tinytorch.randn(2, 3, 2, 5), 0)


def test_static_cache_refuses_to_overflow_and_to_record_graphs() -> None:
    cache = StaticCache(1, 1, 2, 4, max_cache_len=3)
    cache.update(*keys_and_values(1, 2, 2, 4), 0)
    with pytest.raises(ValueError, match="max_cache_len=3"):
        cache.update(*keys_and_values(1, 2, 2, 4), 0)
    key = tinytorch.randn(1, 2, 1, 4, requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        cache.update(key, key, 0)


def test_dynamic_cache_keeps_the_graph() -> None:
    key = tinytorch.randn(1, 2, 3, 4, requires_grad=True)
    cache = DynamicCache()
    cache.update(key, key, 0)
    keys, _ = cache.update(key * 2, key, 0)
    keys.sum().backward()
    np.testing.assert_allclose(key.grad.numpy(), np.full((1, 2, 3, 4), 3.0))
