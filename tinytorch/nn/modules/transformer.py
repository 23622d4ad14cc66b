"""The transformer encoder (Vaswani et al., 2017, section 3.1), as in ``torch.nn``.

One ``TransformerEncoderLayer`` is self-attention then a position-wise feed-forward network,
each wrapped in a residual connection and a layer norm::

    post-norm (norm_first=False, the paper):  x = norm1(x + SA(x));  x = norm2(x + FF(x))
    pre-norm  (norm_first=True, GPT-2 on):    x = x + SA(norm1(x));  x = x + FF(norm2(x))

with FF(x) = linear2(dropout(activation(linear1(x)))). Submodule names are PyTorch's
(self_attn, linear1, dropout, linear2, norm1, norm2, dropout1, dropout2), so state_dicts load
from one library into the other. ``TransformerEncoder`` stacks copies of a layer.

``TransformerDecoderLayer`` adds attention to the encoder's output between the two blocks,
``TransformerDecoder`` stacks it, and ``Transformer`` is the paper's encoder-decoder model.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from tinytorch import dtypes
from tinytorch.creation import full
from tinytorch.nn import functional as F
from tinytorch.nn import init
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


# ---------------------------------------------------------------------- decoder, whole model
class TransformerDecoderLayer(Module):
    """Self-attention over the target, attention to the encoder's output (``memory``), and a
    feed-forward network, each with a residual connection and a layer norm (section 3.1)::

        post-norm: x = norm1(x + SA(x));  x = norm2(x + MHA(x, memory));  x = norm3(x + FF(x))
        pre-norm:  x = x + SA(norm1(x));  x = x + MHA(norm2(x), memory);  x = x + FF(norm3(x))

    Shapes: tgt (T, N, E) and memory (S, N, E) (batch first with ``batch_first=True``, or
    unbatched) -> tgt's shape. ``tgt_mask`` (T, T) is usually
    ``Transformer.generate_square_subsequent_mask(T)``, so position t sees targets 0..t only.
    Submodule names are PyTorch's (self_attn, multihead_attn, linear1, dropout, linear2,
    norm1-3, dropout1-3). Example::

        layer = nn.TransformerDecoderLayer(d_model=32, nhead=4, batch_first=True)
        out = layer(torch.randn(2, 7, 32), memory=torch.randn(2, 10, 32))   # (2, 7, 32)
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
        factory = {"device": device, "dtype": dtype}
        attention = {"dropout": dropout, "bias": bias, "batch_first": batch_first, **factory}
        self.self_attn: MultiheadAttention = MultiheadAttention(d_model, nhead, **attention)
        self.multihead_attn = MultiheadAttention(d_model, nhead, **attention)  # over the memory
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = ACTIVATIONS[activation] if isinstance(activation, str) else activation

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> Tensor:
        x = tgt
        target_masks = (tgt_mask, tgt_key_padding_mask, tgt_is_causal)
        memory_masks = (memory_mask, memory_key_padding_mask, memory_is_causal)
        if self.norm_first:
            x = x + self._attend(self.self_attn, self.norm1(x), None, *target_masks)
            x = x + self._attend(self.multihead_attn, self.norm2(x), memory, *memory_masks)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._attend(self.self_attn, x, None, *target_masks))
            x = self.norm2(x + self._attend(self.multihead_attn, x, memory, *memory_masks))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _attend(
        self,
        attention: MultiheadAttention,
        x: Tensor,
        memory: Tensor | None,
        mask: Tensor | None,
        key_padding_mask: Tensor | None,
        is_causal: bool,
    ) -> Tensor:
        """dropout1(self-attention(x)) when ``memory`` is None, else dropout2(x attending
        to memory)."""
        source = x if memory is None else memory
        attended, _ = attention(
            x,
            source,
            source,
            attn_mask=mask,
            key_padding_mask=key_padding_mask,
            need_weights=False,
            is_causal=is_causal,
        )
        return (self.dropout1 if memory is None else self.dropout2)(attended)

    def _ff_block(self, x: Tensor) -> Tensor:
        """dropout3(linear2(dropout(activation(linear1(x)))))."""
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerDecoder(Module):
    """``num_layers`` independent copies of ``decoder_layer`` applied in turn, then ``norm``.

    Every layer attends to the same ``memory``; the masks go to every layer. Example::

        layer = nn.TransformerDecoderLayer(32, 4, batch_first=True)
        decoder = nn.TransformerDecoder(layer, num_layers=6)
    """

    def __init__(
        self,
        decoder_layer: TransformerDecoderLayer,
        num_layers: int,
        norm: Module | None = None,
    ) -> None:
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(decoder_layer) for _ in range(num_layers)])
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        x = tgt
        for layer in self.layers:
            x = layer(
                x,
                memory,
                tgt_mask,
                memory_mask,
                tgt_key_padding_mask,
                memory_key_padding_mask,
                bool(tgt_is_causal),
                memory_is_causal,
            )
        return x if self.norm is None else self.norm(x)


class Transformer(Module):
    """The encoder-decoder transformer of "Attention Is All You Need" (Vaswani et al., 2017).

    The encoder reads the source sequence into ``memory``; the decoder produces the target
    sequence's representations attending to itself (masked) and to memory:
    ``out = decoder(tgt, encoder(src))``, each stack ending in a layer norm. Shapes: src
    (S, N, E), tgt (T, N, E) (batch first with ``batch_first=True``; unbatched (S, E) and
    (T, E) also work) -> (T, N, E). Parameters with more than one dimension are initialised
    Xavier-uniform, as in PyTorch. Example::

        model = nn.Transformer(d_model=32, nhead=4, num_encoder_layers=2,
                               num_decoder_layers=2, batch_first=True)
        mask = nn.Transformer.generate_square_subsequent_mask(7)
        out = model(torch.randn(2, 10, 32), torch.randn(2, 7, 32), tgt_mask=mask)  # (2, 7, 32)
    """

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = F.relu,
        custom_encoder: Module | None = None,
        custom_decoder: Module | None = None,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: Any = None,
        dtype: dtypes.dtype | None = None,
    ) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        layer_options = {
            "dim_feedforward": dim_feedforward,
            "dropout": dropout,
            "activation": activation,
            "layer_norm_eps": layer_norm_eps,
            "batch_first": batch_first,
            "norm_first": norm_first,
            "bias": bias,
            **factory,
        }
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            encoder_layer = TransformerEncoderLayer(d_model, nhead, **layer_options)
            encoder_norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
            self.encoder = TransformerEncoder(encoder_layer, num_encoder_layers, encoder_norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            decoder_layer = TransformerDecoderLayer(d_model, nhead, **layer_options)
            decoder_norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
            self.decoder = TransformerDecoder(decoder_layer, num_decoder_layers, decoder_norm)
        self._reset_parameters()
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def _reset_parameters(self) -> None:
        """Xavier-uniform for every parameter with more than one dimension."""
        for parameter in self.parameters():
            if parameter.ndim > 1:
                init.xavier_uniform_(parameter)

    def forward(
        self,
        src: Tensor,
        tgt: Tensor,
        src_mask: Tensor | None = None,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        src_is_causal: bool | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        batch_axis = 0 if self.batch_first else 1
        if src.ndim == 3 and (tgt.ndim != 3 or src.shape[batch_axis] != tgt.shape[batch_axis]):
            raise RuntimeError(
                f"Transformer: the batch number of src and tgt must be equal, got src "
                f"{tuple(src.shape)} and tgt {tuple(tgt.shape)} (batch_first={self.batch_first})"
            )
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(
                f"Transformer: the feature number of src and tgt must be equal to "
                f"d_model={self.d_model}, got src {tuple(src.shape)} and tgt {tuple(tgt.shape)}"
            )
        memory = self.encoder(
            src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal
        )
        return self.decoder(
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=tgt_is_causal,
            memory_is_causal=memory_is_causal,
        )

    @staticmethod
    def generate_square_subsequent_mask(
        sz: int, device: Any = None, dtype: dtypes.dtype | None = None
    ) -> Tensor:
        """The causal mask (sz, sz): 0 on and below the diagonal, -inf above, so position i
        attends to positions 0..i only. Example: for sz = 3,
        [[0, -inf, -inf], [0, 0, -inf], [0, 0, 0]]."""
        return full((sz, sz), float("-inf"), dtype=dtype or dtypes.float32).triu(1)
