"""Positional encodings: tell a transformer where each token sits in the sequence.

Attention treats its input as a set: permuting the tokens permutes the output and nothing
else. Adding a vector that depends on the position restores the order. These two modules are
tinytorch's own (PyTorch has no positional-encoding layer; its tutorials write one by hand):

* ``SinusoidalPositionalEncoding``: fixed sines and cosines (Vaswani et al., 2017, 3.5);
* ``LearnedPositionalEmbedding``: one learned vector per position (as in GPT and BERT).

Both take x of shape (*, T, d_model), batch first, and return x + P[:T] of the same shape.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinytorch import dtypes
from tinytorch.creation import empty
from tinytorch.nn import init
from tinytorch.nn.modules.module import Module
from tinytorch.nn.parameter import Parameter
from tinytorch.tensor import Tensor


def sinusoidal_table(max_len: int, d_model: int) -> np.ndarray:
    """P (max_len, d_model) with P[t, 2i] = sin(t w_i), P[t, 2i+1] = cos(t w_i).

    The frequencies w_i = 10000^(-2i / d_model) fall geometrically from 1 to 1/10000, so each
    position gets a distinct pattern and P[t + k] is a fixed rotation of P[t] for every t.
    """
    # BEGIN SOLUTION 11
    positions = np.arange(max_len)[:, None]  # (max_len, 1)
    frequencies = np.exp(np.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
    angles = positions * frequencies  # (max_len, ceil(d_model / 2))
    table = np.zeros((max_len, d_model))
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, : d_model // 2])
    return table.astype(np.float32)
    # END SOLUTION


def check_length(name: str, x: Tensor, max_len: int, d_model: int) -> int:
    """The sequence length T of x (*, T, d_model), checked against the table's size."""
    if x.ndim < 2 or x.shape[-1] != d_model or x.shape[-2] > max_len:
        raise ValueError(
            f"{name}: input of shape {tuple(x.shape)} does not fit: expected (*, T, {d_model}) "
            f"with T <= max_len={max_len}; make the module with a larger max_len"
        )
    return x.shape[-2]


class SinusoidalPositionalEncoding(Module):
    """x + P[:T], P the fixed sinusoidal table of ``sinusoidal_table`` (no parameters).

    Shapes: x (*, T, d_model) -> (*, T, d_model), T <= max_len. P is a non-persistent buffer
    ``pe`` (max_len, d_model): it moves with ``.to()`` but stays out of ``state_dict``, since
    it is recomputed. Example: ``SinusoidalPositionalEncoding(16, 100)(torch.zeros(2, 10, 16))``.
    """

    def __init__(self, d_model: int, max_len: int = 5000) -> None:
        super().__init__()
        self.d_model, self.max_len = d_model, max_len
        self.register_buffer(
            "pe", Tensor._from_array(sinusoidal_table(max_len, d_model)), persistent=False
        )

    def forward(self, x: Tensor) -> Tensor:
        length = check_length(type(self).__name__, x, self.max_len, self.d_model)
        return x + self.pe[:length]  # (*, T, d_model)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.max_len}"


class LearnedPositionalEmbedding(Module):
    """x + W[:T], W (max_len, d_model) a learned parameter ``weight``, drawn from N(0, 0.02^2).

    Shapes: x (*, T, d_model) -> (*, T, d_model), T <= max_len. Example:
    ``LearnedPositionalEmbedding(64, 16)(torch.zeros(2, 10, 16)).shape`` is (2, 10, 16).
    """

    def __init__(
        self, max_len: int, d_model: int, device: Any = None, dtype: dtypes.dtype | None = None
    ) -> None:
        super().__init__()
        self.max_len, self.d_model = max_len, d_model
        self.weight = Parameter(empty(max_len, d_model, dtype=dtype, device=device))
        init.normal_(self.weight, std=0.02)

    def forward(self, x: Tensor) -> Tensor:
        length = check_length(type(self).__name__, x, self.max_len, self.d_model)
        return x + self.weight[:length]  # (*, T, d_model)

    def extra_repr(self) -> str:
        return f"max_len={self.max_len}, d_model={self.d_model}"
