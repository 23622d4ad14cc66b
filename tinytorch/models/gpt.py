"""GPT: a decoder-only transformer that predicts the next token, in one readable file.

A sequence of token ids idx (B, T) becomes vectors (token embedding + position embedding),
passes through ``n_layer`` identical blocks and a final layer norm, and a linear head turns
each position's vector into scores (logits) over the vocabulary for the token that follows.
Each block is pre-norm (GPT-2): x = x + attention(ln1(x)); x = x + mlp(ln2(x)), where the
attention is causal, so position t only sees positions 0..t. Shapes use B batch, T time
(sequence length), C channels (n_embd), H heads, V vocabulary.

References:
    Vaswani et al., "Attention Is All You Need", 2017 (arXiv:1706.03762): the transformer.
    Radford et al., "Improving Language Understanding by Generative Pre-Training", 2018: GPT.
    Radford et al., "Language Models are Unsupervised Multitask Learners", 2019: GPT-2,
        pre-norm blocks and residual projections initialised with std 0.02 / sqrt(2 n_layer).
    Press and Wolf, "Using the Output Embedding to Improve Language Models", 2017
        (arXiv:1608.05859): the output head shares the token embedding's weights.
    Hendrycks and Gimpel, "Gaussian Error Linear Units (GELUs)", 2016 (arXiv:1606.08415).
    Ba, Kiros and Hinton, "Layer Normalization", 2016 (arXiv:1607.06450).

Example::

    >>> import tinytorch as torch
    >>> from tinytorch.models import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=65, block_size=32, n_layer=2, n_head=2, n_embd=32))
    >>> logits, loss = model(torch.zeros(4, 8, dtype=torch.long))
    >>> logits.shape
    (4, 8, 65)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import tinytorch as torch
import tinytorch.nn.functional as F
from tinytorch import nn
from tinytorch.generation.kv_cache import Cache, DynamicCache, StaticCache


@dataclass
class GPTConfig:
    """The size of a GPT. The defaults make a small character-level model."""

    block_size: int = 256  # the longest context, in tokens
    vocab_size: int = 65  # the number of distinct tokens
    n_layer: int = 4  # transformer blocks
    n_head: int = 4  # attention heads per block
    n_embd: int = 128  # channels C of every position's vector
    dropout: float = 0.0  # dropout probability while training
    bias: bool = True  # biases in the Linear and LayerNorm layers


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which position t attends to positions 0..t only."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        assert config.n_embd % config.n_head == 0, (
            f"n_embd={config.n_embd} must be divisible by n_head={config.n_head}"
        )
        self.n_head = config.n_head
        self.dropout = config.dropout
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(
        self, x: torch.Tensor, past_key_values: Cache | None = None, layer_idx: int = 0
    ) -> torch.Tensor:
        """x (B, T, C) -> (B, T, C). With ``past_key_values``, x holds the T positions after
        the S cached ones: their keys and values join the cache of layer ``layer_idx``, and
        their queries attend over all S + T keys."""
        B, T, C = x.shape  # noqa: N806 - the shape names of the docstring
        qkv = self.qkv(x).view(B, T, 3, self.n_head, C // self.n_head)  # (B, T, 3, H, C/H)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # 3 x (B, H, T, C/H), views
        if past_key_values is None:
            dropout_p = self.dropout if self.training else 0.0
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=True)
        else:
            k, v = past_key_values.update(k, v, layer_idx)  # (B, H, S + T, C/H)
            y = attend_to_cache(q, k, v)  # (B, H, T, C/H)
        y = y.transpose(1, 2).reshape(B, T, C)  # (B, T, C): the heads side by side again
        return self.resid_dropout(self.proj(y))  # (B, T, C)


def attend_to_cache(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Causal attention of T new queries q (B, H, T, D) over all keys and values k, v
    (B, H, S + T, D), the first S of them cached -> (B, H, T, D).

    New query i sits at position S + i and may see keys 0..S + i: a lower-triangular mask
    shifted right by S. One new query (T = 1, each step of generation) sees every key.
    """
    # BEGIN SOLUTION 17
    new, total = q.shape[2], k.shape[2]
    if new == 1:
        return F.scaled_dot_product_attention(q, k, v)  # (B, H, 1, D)
    allowed = torch.ones(new, total, dtype=torch.bool).tril(diagonal=total - new)  # (T, S + T)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)  # (B, H, T, D)
    # END SOLUTION


class MLP(nn.Module):
    """The position-wise feed-forward network: Linear(C, 4C), GELU, Linear(4C, C)."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.gelu(self.fc(x))  # (B, T, 4C)
        return self.dropout(self.proj(x))  # (B, T, C)


class Block(nn.Module):
    """One pre-norm transformer block: communicate (attention), then compute (MLP)."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(
        self, x: torch.Tensor, past_key_values: Cache | None = None, layer_idx: int = 0
    ) -> torch.Tensor:
        x = x + self.attn(self.ln1(x), past_key_values, layer_idx)  # (B, T, C)
        return x + self.mlp(self.ln2(x))  # (B, T, C)


class GPT(nn.Module):
    """The language model: embeddings, ``n_layer`` blocks, final norm, tied output head."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.token_embedding = nn.Embedding(config.vocab_size, config.n_embd)
        self.position_embedding = nn.Embedding(config.block_size, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList([Block(config) for _ in range(config.n_layer)])
        self.ln_f = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.token_embedding.weight  # weight tying: one (V, C) matrix
        self.apply(self._init_weights)
        residual_std = 0.02 / math.sqrt(2 * config.n_layer)
        for block in self.blocks:  # each block adds to the residual stream twice
            nn.init.normal_(block.attn.proj.weight, std=residual_std)
            nn.init.normal_(block.mlp.proj.weight, std=residual_std)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        """GPT-2's initialisation: weights from N(0, 0.02^2), biases zero."""
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(
        self,
        idx: torch.Tensor,
        targets: torch.Tensor | None = None,
        past_key_values: Cache | None = None,
        use_cache: bool = False,
    ) -> tuple[torch.Tensor, ...]:
        """Logits (B, T, V) for token ids idx (B, T); with targets (B, T), also the mean
        cross-entropy of predicting targets[b, t] at every position (-1 targets are ignored).

        Returns ``(logits, loss)``, loss None without targets. With ``use_cache=True`` returns
        ``(logits, loss, past_key_values)``: idx holds the positions after those already in
        ``past_key_values`` (a new ``DynamicCache`` when None), whose keys and values the
        cache gains (Hugging Face's convention). A given cache is used and updated even
        without ``use_cache``. Cached and new positions together must fit in ``block_size``.
        """
        B, T = idx.shape  # noqa: N806
        assert T <= self.config.block_size, (
            f"sequence of length {T} is longer than block_size={self.config.block_size}"
        )
        if use_cache and past_key_values is None:
            past_key_values = DynamicCache()
        past = 0 if past_key_values is None else past_key_values.get_seq_length()
        if past + T > self.config.block_size:
            raise ValueError(
                f"GPT.forward: {past} cached + {T} new positions exceed block_size="
                f"{self.config.block_size}, the longest context the position embedding knows; "
                f"start a new cache from the last tokens, or generate with use_cache=False"
            )
        positions = torch.arange(past, past + T)  # (T,): positions after the cached ones
        x = self.token_embedding(idx) + self.position_embedding(positions)  # (B, T, C)
        x = self.drop(x)  # (B, T, C)
        for layer_idx, block in enumerate(self.blocks):
            x = block(x, past_key_values, layer_idx)  # (B, T, C)
        logits = self.lm_head(self.ln_f(x))  # (B, T, V)
        loss = None
        if targets is not None:
            flat_logits = logits.view(B * T, -1)  # (B*T, V)
            loss = F.cross_entropy(flat_logits, targets.view(B * T), ignore_index=-1)  # ()
        return (logits, loss, past_key_values) if use_cache else (logits, loss)

    def new_cache(self, batch_size: int, cache_implementation: str, max_cache_len: int) -> Cache:
        """An empty cache for this model: ``"dynamic"`` (grows by concatenation) or
        ``"static"`` (preallocated for ``max_cache_len`` positions)."""
        if cache_implementation == "dynamic":
            return DynamicCache()
        if cache_implementation == "static":
            config = self.config
            head_dim = config.n_embd // config.n_head
            dtype = self.token_embedding.weight.dtype
            return StaticCache(
                config.n_layer, batch_size, config.n_head, head_dim, max_cache_len, dtype
            )
        raise ValueError(
            f"GPT.generate: cache_implementation must be 'dynamic' or 'static', "
            f"got {cache_implementation!r}"
        )

    def next_token_logits(
        self, idx: torch.Tensor, cache: Cache | None
    ) -> tuple[torch.Tensor, Cache | None]:
        """Logits (B, V) of the token after idx (B, T), and the cache for the next step.

        Without a cache the last ``block_size`` tokens run through the whole model. With one,
        only the tokens the cache has not seen run (all of the prompt first, then one per
        step). Once idx outgrows ``block_size`` the window slides, every token changes
        position and no cached key stays valid: the cache is dropped and steps run uncached.
        """
        if cache is not None and idx.shape[1] <= self.config.block_size:
            # BEGIN SOLUTION 17 | stub: cache = None
            new_tokens = idx[:, cache.get_seq_length() :]  # (B, T_new): one after the prompt
            logits, _, cache = self(new_tokens, past_key_values=cache, use_cache=True)
            return logits[:, -1, :], cache  # (B, V)
            # END SOLUTION
        logits, _ = self(idx[:, -self.config.block_size :])  # (B, <= block_size, V)
        return logits[:, -1, :], None  # (B, V)

    @torch.no_grad()
    def generate(
        self,
        idx: torch.Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        use_cache: bool = True,
        cache_implementation: str = "dynamic",
    ) -> torch.Tensor:
        """Extend idx (B, T) by ``max_new_tokens`` sampled tokens -> (B, T + max_new_tokens).

        Each step divides the next token's logits by ``temperature`` (< 1 sharpens, > 1
        flattens) and, with ``top_k``, keeps only the k most likely tokens before sampling.
        With ``use_cache`` (the default) the keys and values of earlier tokens are kept in a
        ``cache_implementation`` cache ("dynamic" or "static") and each step runs one token;
        ``use_cache=False`` runs the last ``block_size`` tokens every step. Both give the same
        logits up to rounding. Call ``model.eval()`` first to turn off dropout.
        """
        cache = None
        if use_cache:
            longest = min(idx.shape[1] + max_new_tokens, self.config.block_size)
            cache = self.new_cache(idx.shape[0], cache_implementation, longest)
        for _ in range(max_new_tokens):
            logits, cache = self.next_token_logits(idx, cache)  # (B, V)
            logits = logits / temperature  # (B, V): scores of the next token
            if top_k is not None:
                kth_best = torch.topk(logits, min(top_k, logits.shape[-1])).values[:, -1:]  # (B, 1)
                logits = logits.masked_fill(logits < kth_best, float("-inf"))  # (B, V)
            probs = F.softmax(logits, dim=-1)  # (B, V)
            next_idx = torch.multinomial(probs, num_samples=1)  # (B, 1)
            idx = torch.cat((idx, next_idx), dim=1)  # (B, T + 1)
        return idx
