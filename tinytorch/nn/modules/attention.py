"""``MultiheadAttention``: h attention heads side by side (Vaswani et al., 2017, section 3.2.2).

    head_i = Attention(Q W_q^i, K W_k^i, V W_v^i),   out = concat(head_1, ..., head_h) W_o

The parameters are laid out as PyTorch's, so a ``state_dict`` loads from one into the other:
``in_proj_weight`` (3E, E) stacks W_q, W_k and W_v, ``in_proj_bias`` (3E,) their biases, and
``out_proj`` is a ``Linear(E, E)``. Masks follow ``torch.nn.MultiheadAttention``: True means
"may NOT attend" (the opposite of ``F.scaled_dot_product_attention``), a float is added.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinytorch import dtypes
from tinytorch.creation import empty
from tinytorch.generation.kv_cache import Cache, DynamicCache
from tinytorch.nn import functional as F
from tinytorch.nn import init
from tinytorch.nn.modules.linear import Linear
from tinytorch.nn.modules.module import Module
from tinytorch.nn.parameter import Parameter
from tinytorch.tensor import Tensor


def additive_mask(mask: Tensor, dtype: np.dtype) -> np.ndarray:
    """A MultiheadAttention mask as numbers to add to the scores: bool True -> -inf, else 0;
    a float mask unchanged."""
    if mask._data.dtype.kind == "b":
        return np.where(mask._data, -np.inf, 0).astype(dtype)
    return mask._data.astype(dtype)


def attention_with_weights(
    query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None, dropout_p: float
) -> tuple[Tensor, Tensor]:
    """Attention step by step, keeping the probabilities P to return them (need_weights).

    Shapes: query (N, H, L, D), key and value (N, H, S, D) -> out (N, H, L, D), P (N, H, L, S).
    """
    scores = query @ key.transpose(-2, -1) * (1 / math.sqrt(query.shape[-1]))  # (N, H, L, S)
    if mask is not None:
        scores = scores + mask
    weights = F.dropout(F.softmax(scores, dim=-1), dropout_p, training=dropout_p > 0)
    return weights @ value, weights  # (N, H, L, D), (N, H, L, S)


class MultiheadAttention(Module):
    """Multi-head attention over query (L, N, E), key and value (S, N, E) -> (L, N, E).

    With ``batch_first=True`` the batch comes first: (N, L, E). Unbatched (L, E) inputs work
    too. forward returns ``(output, weights)``: the attention probabilities (N, L, S) averaged
    over the heads (or (N, H, L, S) with ``average_attn_weights=False``) when
    ``need_weights``, else None and a faster fused path. ``key_padding_mask`` (N, S) hides
    padded keys; ``attn_mask`` (L, S) or (N * H, L, S) hides (query, key) pairs; ``is_causal``
    is PyTorch's hint that ``attn_mask`` is the causal mask. ``dropout`` drops attention
    probabilities while training. Example::

        mha = nn.MultiheadAttention(16, 4, batch_first=True)
        out, weights = mha(x, x, x)        # x (N, L, 16): self-attention
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: Any = None,
        dtype: dtypes.dtype | None = None,
    ) -> None:
        super().__init__()
        if embed_dim % num_heads != 0:
            raise AssertionError(
                f"MultiheadAttention: embed_dim must be divisible by num_heads, got "
                f"embed_dim={embed_dim} and num_heads={num_heads}; each head gets "
                f"embed_dim // num_heads features"
            )
        if (
            add_bias_kv
            or add_zero_attn
            or kdim not in (None, embed_dim)
            or vdim
            not in (
                None,
                embed_dim,
            )
        ):
            raise NotImplementedError(
                "MultiheadAttention: add_bias_kv, add_zero_attn and kdim/vdim other than "
                "embed_dim are not supported by tinytorch"
            )
        # BEGIN SOLUTION 12
        self.embed_dim, self.kdim, self.vdim = embed_dim, embed_dim, embed_dim
        self.num_heads, self.head_dim = num_heads, embed_dim // num_heads
        self.dropout, self.batch_first = dropout, batch_first
        self.in_proj_weight = Parameter(empty(3 * embed_dim, embed_dim, dtype=dtype))
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        self._reset_parameters()
        # END SOLUTION

    def _reset_parameters(self) -> None:
        """PyTorch's initialisation: Xavier-uniform projections, zero biases."""
        # BEGIN SOLUTION 12
        init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        # END SOLUTION

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        key_padding_mask: Tensor | None = None,
        need_weights: bool = True,
        attn_mask: Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
        past_key_values: Cache | None = None,
        use_cache: bool = False,
        layer_idx: int = 0,
    ) -> tuple[Tensor, ...]:
        """Returns ``(output, weights)``, or ``(output, weights, past_key_values)`` with
        ``use_cache=True`` (a new ``DynamicCache`` when ``past_key_values`` is None).

        With a cache, the projected keys and values of ``key`` and ``value`` join those of
        layer ``layer_idx`` in ``past_key_values``, and the queries attend over all of them:
        S in the mask shapes counts cached and new keys, and a causal ``attn_mask`` must be
        shifted (query i sits at position S - L + i). A given cache is updated even without
        ``use_cache``.
        """
        self._check_inputs(query, key, value, key_padding_mask)
        if is_causal and attn_mask is None:
            raise RuntimeError(
                "MultiheadAttention: is_causal is a hint that attn_mask is the causal mask; "
                "pass the mask too (True above the diagonal)"
            )
        if use_cache and past_key_values is None:
            past_key_values = DynamicCache()
        if past_key_values is not None and key_padding_mask is not None:
            raise ValueError(
                "MultiheadAttention: key_padding_mask cannot be combined with past_key_values; "
                "pass the padding as an attn_mask over cached and new keys (L, S) instead"
            )
        batched = query.ndim == 3
        # BEGIN SOLUTION 12
        q, k, v = self._project(query, key, value, batched)  # (N, H, L|S, D)
        # END SOLUTION
        if past_key_values is not None:
            k, v = past_key_values.update(k, v, layer_idx)  # (N, H, S_cached + S, D)
        # BEGIN SOLUTION 12
        batch, length, source = q.shape[0], q.shape[2], k.shape[2]
        dropout_p = self.dropout if self.training else 0.0
        if need_weights:
            mask = self._merged_mask(attn_mask, key_padding_mask, batch, length, source)
            out, weights = attention_with_weights(q, k, v, mask, dropout_p)
        elif is_causal and key_padding_mask is None and length == source:
            out, weights = F.scaled_dot_product_attention(q, k, v, None, dropout_p, True), None
        else:
            mask = self._merged_mask(attn_mask, key_padding_mask, batch, length, source)
            out, weights = F.scaled_dot_product_attention(q, k, v, mask, dropout_p), None
        # (N, H, L, D) -> (N, L, H * D); a view after the fused path, whose output is already
        # laid out as (N, L, H, D) in memory
        out = self.out_proj(out.transpose(1, 2).reshape(batch, length, self.embed_dim))
        if not batched:
            out = out.squeeze(0)  # (L, E)
        elif not self.batch_first:
            out = out.transpose(0, 1)  # (L, N, E)
        if weights is not None:
            weights = weights.mean(dim=1) if average_attn_weights else weights
            weights = weights if batched else weights.squeeze(0)
        # END SOLUTION
        return (out, weights, past_key_values) if use_cache else (out, weights)

    def _project(
        self, query: Tensor, key: Tensor, value: Tensor, batched: bool
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Q W_q^T + b_q, K W_k^T + b_k, V W_v^T + b_v, split into heads: (N, H, T, D) each.

        Self-attention (query, key and value the same tensor) uses one matrix multiply.
        """
        # BEGIN SOLUTION 12
        inputs = [query, key, value]
        if not batched:
            inputs = [x.unsqueeze(0) for x in inputs]  # (1, T, E)
        elif not self.batch_first:
            inputs = [x.transpose(0, 1) for x in inputs]  # (N, T, E)
        if query is key and key is value:
            projected = F.linear(inputs[0], self.in_proj_weight, self.in_proj_bias).chunk(3, -1)
        else:
            weights = self.in_proj_weight.chunk(3)
            biases = [None] * 3 if self.in_proj_bias is None else self.in_proj_bias.chunk(3)
            projected = [F.linear(*args) for args in zip(inputs, weights, biases, strict=True)]
        return tuple(self._split_heads(x) for x in projected)
        # END SOLUTION

    def _split_heads(self, x: Tensor) -> Tensor:
        """(N, T, E) -> (N, H, T, D): head h sees features h*D .. (h+1)*D - 1."""
        batch, length, _ = x.shape
        return x.reshape(batch, length, self.num_heads, self.head_dim).transpose(1, 2)

    def _merged_mask(
        self,
        attn_mask: Tensor | None,
        key_padding_mask: Tensor | None,
        batch: int,
        length: int,
        source: int,
    ) -> Tensor | None:
        """attn_mask and key_padding_mask as one additive float mask (N|1, H|1, L, S)."""
        dtype = self.in_proj_weight._data.dtype
        masks = []
        if attn_mask is not None:
            expected = [(length, source), (batch * self.num_heads, length, source)]
            if tuple(attn_mask.shape) not in expected:
                raise RuntimeError(
                    f"MultiheadAttention: attn_mask of shape {tuple(attn_mask.shape)} should "
                    f"be (L, S) = {expected[0]} or (N * num_heads, L, S) = {expected[1]}"
                )
            heads = self.num_heads if attn_mask.ndim == 3 else 1
            masks.append(additive_mask(attn_mask, dtype).reshape(-1, heads, length, source))
        if key_padding_mask is not None:
            masks.append(additive_mask(key_padding_mask, dtype).reshape(-1, 1, 1, source))
        if not masks:
            return None
        merged = masks[0] if len(masks) == 1 else masks[0] + masks[1]
        return Tensor._from_array(merged)

    def _check_inputs(
        self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None
    ) -> None:
        shapes = f"query {tuple(query.shape)}, key {tuple(key.shape)}, value {tuple(value.shape)}"
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise AssertionError(
                f"MultiheadAttention: expected 3-d (batched) or 2-d (unbatched) query, key and "
                f"value, got {shapes}"
            )
        if query.shape[-1] != self.embed_dim or key.shape != value.shape:
            raise AssertionError(
                f"MultiheadAttention: got {shapes}; the last dimension must be "
                f"embed_dim={self.embed_dim} and key and value must have the same shape"
            )
        batch_axis = 0 if self.batch_first else 1
        if query.ndim == 3 and query.shape[batch_axis] != key.shape[batch_axis]:
            raise AssertionError(f"MultiheadAttention: batch sizes differ: {shapes}")
        if key_padding_mask is not None:
            source = key.shape[-2] if self.batch_first or key.ndim == 2 else key.shape[0]
            expected = (source,) if key.ndim == 2 else (key.shape[batch_axis], source)
            if tuple(key_padding_mask.shape) != expected:
                raise AssertionError(
                    f"MultiheadAttention: key_padding_mask of shape "
                    f"{tuple(key_padding_mask.shape)} should be (N, S) = {expected}"
                )

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}"
