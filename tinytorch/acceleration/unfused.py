"""GELU, layer norm and cross-entropy composed of primitive ops: the "before" of fusion.

tinytorch defines ``F.gelu``, ``F.layer_norm`` and ``F.cross_entropy`` each as one
``Function`` (one node in the graph, a hand-written backward, only the arrays it needs
saved). Written here with the primitive tensor ops instead, autograd records one node per
op and each node keeps its own inputs for backward: the same values and gradients, more
temporaries. ``saved_bytes`` and ``count_nodes`` (``tinytorch.acceleration.memory``) count
them; ``benchmarks/acceleration.py`` times both forms.
"""

from __future__ import annotations

import math

from tinytorch.tensor import Tensor


def gelu_tanh(x: Tensor) -> Tensor:
    """``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``, as ``F.gelu(x, approximate="tanh")``."""
    inner = (x + 0.044715 * x * x * x) * math.sqrt(2.0 / math.pi)
    return 0.5 * x * (1.0 + inner.tanh())


def layer_norm(x: Tensor, weight: Tensor, bias: Tensor, eps: float = 1e-5) -> Tensor:
    """``(x - mean) / sqrt(var + eps) * weight + bias`` over the last dimension."""
    mean = x.mean(dim=-1, keepdim=True)
    centered = x - mean
    variance = (centered * centered).mean(dim=-1, keepdim=True)
    return centered / (variance + eps).sqrt() * weight + bias


def cross_entropy(logits: Tensor, target: Tensor) -> Tensor:
    """Mean of ``logsumexp(logits_i) - logits_i[target_i]`` over rows (N, C) -> ()."""
    shift = logits.max(dim=-1, keepdim=True).values.detach()  # for stability; no gradient
    shifted = logits - shift
    log_probs = shifted - shifted.exp().sum(dim=-1, keepdim=True).log()
    picked = log_probs.gather(1, target.view(-1, 1))  # (N, 1)
    return -picked.mean()
