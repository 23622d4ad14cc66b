"""Low-rank factorization: replace a ``Linear`` (out x in weight) by two thinner ones.

The truncated SVD W ~ U_r S_r V_r^T keeps the r largest singular values; it is the best
rank-r approximation of W in the Frobenius norm (Eckart-Young), with error
sqrt(s_{r+1}^2 + ... ). Split it as

    first  = Linear(in, r, bias=False)  with weight  sqrt(S_r) V_r^T      (r, in)
    second = Linear(r, out)             with weight  U_r sqrt(S_r)        (out, r), the bias

so x -> second(first(x)) = x V_r S_r U_r^T + b = x W_r^T + b. Parameters drop from
out * in to r * (in + out): a saving whenever r < out * in / (in + out).

    >>> from tinytorch import nn
    >>> from tinytorch.compression import factorize_linear
    >>> factorize_linear(nn.Linear(784, 256), rank=32)
    Sequential(
      (0): Linear(in_features=784, out_features=32, bias=False)
      (1): Linear(in_features=32, out_features=256, bias=True)
    )
"""

from __future__ import annotations

import numpy as np

from tinytorch import nn
from tinytorch.nn.parameter import Parameter


def truncated_svd(weight: np.ndarray, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """Factors (A (out, r), B (r, in)) with A @ B the best rank-``rank`` approximation of
    ``weight`` (out, in): A = U_r sqrt(S_r), B = sqrt(S_r) V_r^T."""
    # BEGIN SOLUTION 16
    u, s, vt = np.linalg.svd(weight.astype(np.float64), full_matrices=False)
    root = np.sqrt(s[:rank])
    return u[:, :rank] * root, root[:, None] * vt[:rank]
    # END SOLUTION


def factorize_linear(layer: nn.Linear, rank: int) -> nn.Sequential:
    """``Sequential(Linear(in, rank, bias=False), Linear(rank, out))`` computing ``layer``'s
    weight truncated to rank ``rank`` (and its bias exactly)."""
    if not isinstance(layer, nn.Linear):
        raise TypeError(f"factorize_linear: expected an nn.Linear, got {type(layer).__name__}")
    full_rank = min(layer.in_features, layer.out_features)
    if not 1 <= rank <= full_rank:
        raise ValueError(
            f"factorize_linear: rank must be between 1 and {full_rank} for a Linear("
            f"{layer.in_features}, {layer.out_features}), got {rank}"
        )
    dtype = layer.weight.detach().numpy().dtype
    outer, inner = truncated_svd(layer.weight.detach().numpy(), rank)
    first = nn.Linear(layer.in_features, rank, bias=False)
    second = nn.Linear(rank, layer.out_features, bias=layer.bias is not None)
    first.weight = Parameter(inner.astype(dtype))
    second.weight = Parameter(outer.astype(dtype))
    if layer.bias is not None:
        second.bias = Parameter(layer.bias.detach().clone())
    return nn.Sequential(first, second)


def factorize_linears(model: nn.Module, rank: int | float) -> nn.Module:
    """Replace, in place, every ``Linear`` of ``model`` that gets smaller by its factorization.

    ``rank`` is an int (the same rank everywhere, capped at each layer's full rank) or a float
    in (0, 1]: that fraction of each layer's full rank, rounded up. A layer is replaced only
    when r * (in + out) < in * out. Returns ``model``.
    """
    if isinstance(rank, float) and not 0.0 < rank <= 1.0:
        raise ValueError(f"factorize_linears: a fractional rank must be in (0, 1], got {rank}")
    for parent in list(model.modules()):
        for name, child in list(parent._modules.items()):
            if not isinstance(child, nn.Linear):
                continue
            full_rank = min(child.in_features, child.out_features)
            r = int(np.ceil(rank * full_rank)) if isinstance(rank, float) else min(rank, full_rank)
            if (
                r * (child.in_features + child.out_features)
                < child.in_features * child.out_features
            ):
                setattr(parent, name, factorize_linear(child, r))
    return model
