"""The transformer encoder (Vaswani et al., 2017, section 3.1), as in ``torch.nn``.

One ``TransformerEncoderLayer`` is self-attention then a position-wise feed-forward network,
each wrapped in a residual connection and a layer norm::

    post-norm (norm_first=False, the paper):  x = norm1(x + SA(x));  x = norm2(x + FF(x))
    pre-norm  (norm_first=True, GPT-2 on):    x = x + SA(norm1(x));  x = x + FF(norm2(x))

with FF(x) = linear2(dropout(activation(linear1(x)))). Submodule names are PyTorch's
(self_attn, linear1, dropout, linear2, norm1, norm2, dropout1, dropout2), so state_dicts load
from one library into the other. ``TransformerEncoder`` stacks copies of a layer.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from tinytorch import dtypes
from tinytorch.nn import functional as F
from tinytorch.nn.modules.attention import MultiheadAttention
from tinytorch.nn.modules.container import ModuleList
from tinytorch.nn.modules.dropout import Dropout
from tinytorch.nn.modules.linear import Linear
from tinytorch.nn.modules.module import Module
from tinytorch.nn.modules.normalization import LayerNorm
from tinytorch.tensor import Tensor

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"relu": F.relu, "gelu": F.gelu}


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward network with residuals and layer norms (see above).

    Shapes: src (S, N, E), or (N, S, E) with ``batch_first=True``, or unbatched (S, E) ->
    the same shape. ``src_mask`` (S, S) and ``src_key_padding_mask`` (N, S) follow
    ``nn.MultiheadAttention`` (True = may not attend); ``is_causal`` hints that src_mask is
    the causal mask. ``activation`` is 'relu', 'gelu' or a callable. Example::

        layer = nn.TransformerEncoderLayer(d_model=32, nhead=4, batch_first=True)
        out = layer(torch.randn(2, 10, 32))            # (2, 10, 32)
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = F.relu,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: dtypes.dtype | None = None,
    ) -> None:
        super().__init__()
        if isinstance(activation, str) and activation not in ACTIVATIONS:
            raise RuntimeError(f"activation should be relu/gelu, not {activation}")
        # BEGIN SOLUTION 13
        factory = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **factory
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = ACTIVATIONS[activation] if isinstance(activation, str) else activation
        # END SOLUTION

    def forward(
        self,
        src: Tensor,
        src_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool = False,
    ) -> Tensor:
        # BEGIN SOLUTION 13
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x
        # END SOLUTION

    def _sa_block(
        self, x: Tensor, mask: Tensor | None, key_padding_mask: Tensor | None, is_causal: bool
    ) -> Tensor:
        """dropout1(self-attention(x)); the attention weights are not needed."""
        attended, _ = self.self_attn(
            x,
            x,
            x,
            attn_mask=mask,
            key_padding_mask=key_padding_mask,
            need_weights=False,
            is_causal=is_causal,
        )
        return self.dropout1(attended)

    def _ff_block(self, x: Tensor) -> Tensor:
        """dropout2(linear2(dropout(activation(linear1(x))))), applied at every position."""
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoder(Module):
    """``num_layers`` independent copies of ``encoder_layer`` applied in turn, then ``norm``.

    Shapes as in ``TransformerEncoderLayer``; ``mask`` and ``src_key_padding_mask`` are passed
    to every layer. ``enable_nested_tensor`` and ``mask_check`` are accepted for PyTorch
    scripts and have no effect (tinytorch has no nested tensors). Example::

        layer = nn.TransformerEncoderLayer(32, 4, batch_first=True)
        encoder = nn.TransformerEncoder(layer, num_layers=6)
    """

    def __init__(
        self,
        encoder_layer: TransformerEncoderLayer,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ) -> None:
        super().__init__()
        # BEGIN SOLUTION 13
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm
        # END SOLUTION

    def forward(
        self,
        src: Tensor,
        mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool | None = None,
    ) -> Tensor:
        # BEGIN SOLUTION 13
        x = src
        for layer in self.layers:
            x = layer(x, mask, src_key_padding_mask, bool(is_causal))
        return x if self.norm is None else self.norm(x)
        # END SOLUTION
