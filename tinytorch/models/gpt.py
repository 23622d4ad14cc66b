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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape  # noqa: N806 - the shape names of the docstring
        q, k, v = self.qkv(x).split(C, dim=2)  # 3 x (B, T, C)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, H, T, C/H)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, H, T, C/H)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, H, T, C/H)
        dropout_p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=True)
        y = y.transpose(1, 2).reshape(B, T, C)  # (B, T, C): the heads side by side again
        return self.resid_dropout(self.proj(y))  # (B, T, C)


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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))  # (B, T, C)
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
        self, idx: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits (B, T, V) for token ids idx (B, T); with targets (B, T), also the mean
        cross-entropy of predicting targets[b, t] at every position (-1 targets are ignored)."""
        B, T = idx.shape  # noqa: N806
        assert T <= self.config.block_size, (
            f"sequence of length {T} is longer than block_size={self.config.block_size}"
        )
        positions = torch.arange(T)  # (T,)
        x = self.token_embedding(idx) + self.position_embedding(positions)  # (B, T, C)
        x = self.drop(x)  # (B, T, C)
        for block in self.blocks:
            x = block(x)  # (B, T, C)
        logits = self.lm_head(self.ln_f(x))  # (B, T, V)
        if targets is None:
            return logits, None
        flat_logits = logits.view(B * T, -1)  # (B*T, V)
        loss = F.cross_entropy(flat_logits, targets.view(B * T), ignore_index=-1)  # ()
        return logits, loss

    @torch.no_grad()
    def generate(
        self,
        idx: torch.Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
    ) -> torch.Tensor:
        """Extend idx (B, T) by ``max_new_tokens`` sampled tokens -> (B, T + max_new_tokens).

        Each step feeds the last ``block_size`` tokens, divides the last position's logits by
        ``temperature`` (< 1 sharpens, > 1 flattens) and, with ``top_k``, keeps only the k
        most likely tokens before sampling. Call ``model.eval()`` first to turn off dropout.
        """
        for _ in range(max_new_tokens):
            context = idx[:, -self.config.block_size :]  # (B, <= block_size)
            logits, _ = self(context)  # (B, T, V)
            logits = logits[:, -1, :] / temperature  # (B, V): scores of the next token
            if top_k is not None:
                kth_best = torch.topk(logits, min(top_k, logits.shape[-1])).values[:, -1:]  # (B, 1)
                logits = logits.masked_fill(logits < kth_best, float("-inf"))  # (B, V)
            probs = F.softmax(logits, dim=-1)  # (B, V)
            next_idx = torch.multinomial(probs, num_samples=1)  # (B, 1)
            idx = torch.cat((idx, next_idx), dim=1)  # (B, T + 1)
        return idx
