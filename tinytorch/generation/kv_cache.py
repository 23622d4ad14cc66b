"""Key/value caches: memoization for autoregressive generation (module 17).

A decoder writes one token per step. Without a cache, step t runs the whole sequence
0..t through the model again, although the keys and values of positions 0..t-1 are the same
as at the previous step (causal attention: a position never sees later ones). A cache keeps
every layer's keys and values, so a step runs only the new token: its query attends over
the cached keys plus its own. Work per step drops from O(t) positions to one.

Two layouts, with the methods of Hugging Face's ``transformers`` caches
(``update(key, value, layer_idx)`` returns all keys and values of the layer so far;
``get_seq_length()`` says how many positions are cached):

- ``DynamicCache`` grows by concatenation: each step allocates a new array one position
  longer and copies the old one into it (O(t) bytes copied per step, no size to choose).
- ``StaticCache`` preallocates a buffer for ``max_cache_len`` positions and writes each
  step's keys and values in place (no copies, no reallocation, but memory for the longest
  sequence is held from the start).

Memory: each layer keeps a key and a value of shape (B, H, S, D) per cache, so
``2 * n_layer * B * H * S * D * bytes`` (``kv_cache_bytes``). Shapes: B batch, H heads,
S cached positions, T new positions, D head size.

Caches hold values for inference: ``StaticCache`` copies into its buffer, which records no
graph, so use it under ``tinytorch.no_grad()``.

Example::

    >>> cache = DynamicCache()
    >>> keys, values = cache.update(k, v, layer_idx=0)   # k, v (B, H, T, D)
    >>> cache.get_seq_length()                           # T
"""

from __future__ import annotations

import numpy as np

from tinytorch import dtypes
from tinytorch.autograd.grad_mode import is_grad_enabled
from tinytorch.functions import cat
from tinytorch.tensor import Tensor


def kv_cache_bytes(
    n_layer: int, batch: int, n_head: int, seq_len: int, head_dim: int, itemsize: int
) -> int:
    """Bytes of a key/value cache: 2 (key and value) * layers * B * H * S * D * bytes each."""
    # BEGIN SOLUTION 17
    return 2 * n_layer * batch * n_head * seq_len * head_dim * itemsize
    # END SOLUTION


def check_kv(name: str, key: Tensor, value: Tensor, expected: tuple[int, ...] | None) -> None:
    """Raise a clear error unless key and value are (B, H, T, D) alike, and, when the cache
    already holds positions, B, H and D match ``expected`` (the cached shape)."""
    if key.ndim != 4 or tuple(key.shape) != tuple(value.shape):
        raise ValueError(
            f"{name}.update: key and value must both be (B, H, T, D), got key "
            f"{tuple(key.shape)} and value {tuple(value.shape)}"
        )
    if expected is not None:
        got = (key.shape[0], key.shape[1], key.shape[3])
        if got != (expected[0], expected[1], expected[3]):
            raise ValueError(
                f"{name}.update: new keys {tuple(key.shape)} do not match the cache "
                f"{tuple(expected)} in batch, heads or head size (B, H, D); start a new cache "
                f"for a different batch or model"
            )


class DynamicCache:
    """A cache that grows by concatenation: one (B, H, S, D) key and value per layer."""

    def __init__(self) -> None:
        self.key_cache: list[Tensor] = []
        self.value_cache: list[Tensor] = []

    def update(self, key: Tensor, value: Tensor, layer_idx: int) -> tuple[Tensor, Tensor]:
        """Append key and value (B, H, T, D) to layer ``layer_idx``; return all of the
        layer's keys and values (B, H, S + T, D). Layers are first seen in order 0, 1, ..."""
        cached = self.key_cache[layer_idx] if layer_idx < len(self.key_cache) else None
        check_kv("DynamicCache", key, value, None if cached is None else tuple(cached.shape))
        # BEGIN SOLUTION 17
        if cached is None:
            self.key_cache.append(key)
            self.value_cache.append(value)
        else:
            self.key_cache[layer_idx] = cat([cached, key], dim=2)  # (B, H, S + T, D)
            self.value_cache[layer_idx] = cat([self.value_cache[layer_idx], value], dim=2)
        return self.key_cache[layer_idx], self.value_cache[layer_idx]
        # END SOLUTION

    def get_seq_length(self, layer_idx: int = 0) -> int:
        """How many positions layer ``layer_idx`` holds (0 for an empty cache)."""
        if layer_idx >= len(self.key_cache):
            return 0
        return self.key_cache[layer_idx].shape[2]

    def nbytes(self) -> int:
        """Bytes held by the cached arrays, measured."""
        return sum(t._data.nbytes for t in self.key_cache + self.value_cache)

    def __len__(self) -> int:
        return len(self.key_cache)


class StaticCache:
    """A cache preallocated for ``max_cache_len`` positions, written in place.

    One key and one value buffer (B, H, max_cache_len, D) per layer, zeros at first;
    ``update`` copies new positions into the next free slots and returns views of the filled
    part, so no step allocates or copies the old positions.
    """

    def __init__(
        self,
        num_layers: int,
        batch_size: int,
        num_heads: int,
        head_dim: int,
        max_cache_len: int,
        dtype: dtypes.dtype = dtypes.float32,
    ) -> None:
        self.max_cache_len = max_cache_len
        self.shape = (batch_size, num_heads, max_cache_len, head_dim)
        numpy_dtype = dtypes.to_numpy_dtype(dtype)
        self.key_cache = [np.zeros(self.shape, numpy_dtype) for _ in range(num_layers)]
        self.value_cache = [np.zeros(self.shape, numpy_dtype) for _ in range(num_layers)]
        self.lengths = [0] * num_layers  # positions filled in each layer

    def update(self, key: Tensor, value: Tensor, layer_idx: int) -> tuple[Tensor, Tensor]:
        """Write key and value (B, H, T, D) at positions S..S+T-1 of layer ``layer_idx``;
        return views of its keys and values 0..S+T-1, (B, H, S + T, D)."""
        check_kv("StaticCache", key, value, self.shape)
        start, new = self.lengths[layer_idx], key.shape[2]
        if start + new > self.max_cache_len:
            raise ValueError(
                f"StaticCache.update: {start} cached + {new} new positions exceed "
                f"max_cache_len={self.max_cache_len}; make the cache longer"
            )
        if is_grad_enabled() and (key.requires_grad or value.requires_grad):
            raise RuntimeError(
                "StaticCache.update: the buffer is written in place and records no graph; "
                "generate under tinytorch.no_grad() or use DynamicCache"
            )
        # BEGIN SOLUTION 17
        end = start + new
        self.key_cache[layer_idx][:, :, start:end] = key._data
        self.value_cache[layer_idx][:, :, start:end] = value._data
        self.lengths[layer_idx] = end
        keys = Tensor._from_array(self.key_cache[layer_idx][:, :, :end])  # (B, H, S + T, D)
        return keys, Tensor._from_array(self.value_cache[layer_idx][:, :, :end])
        # END SOLUTION

    def get_seq_length(self, layer_idx: int = 0) -> int:
        """How many positions layer ``layer_idx`` holds."""
        return self.lengths[layer_idx]

    def nbytes(self) -> int:
        """Bytes held by the buffers, measured: all ``max_cache_len`` positions, used or not."""
        return sum(array.nbytes for array in self.key_cache + self.value_cache)

    def __len__(self) -> int:
        return len(self.key_cache)


Cache = DynamicCache | StaticCache
