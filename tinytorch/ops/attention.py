"""Scaled dot-product attention fused into one operation (Vaswani et al., 2017, section 3.2.1).

    scores = Q K^T * scale (+ mask),  P = softmax(scores) along the keys,  out = P V

for Q (..., L, E), K (..., S, E), V (..., S, Ev) -> out (..., L, Ev), with L queries and S
keys. One ``Function`` instead of five graph nodes: the backward pass uses the closed form of
softmax's Jacobian-vector product, and no intermediate but P is kept for it.
"""

from __future__ import annotations

import numpy as np

from tinytorch.autograd.function import Context, Function
from tinytorch.random import rng


def masked_scores(scores: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Apply an attention mask to ``scores`` (..., L, S), in place where possible.

    A bool mask keeps the scores where it is True (True = may attend) and sets the rest to
    -inf; a float mask is added (0 keeps a score, -inf removes it). Masks broadcast.
    """
    # BEGIN SOLUTION 12
    if mask is None:
        return scores
    if mask.dtype == np.bool_:
        return np.where(mask, scores, -np.inf)
    scores += mask
    return scores
    # END SOLUTION


def safe_softmax(scores: np.ndarray) -> np.ndarray:
    """softmax along the last axis, stable, with a row of only -inf giving zeros (not NaN).

    Subtracting each row's maximum m keeps every exponent <= 0. A fully masked row has
    m = -inf; using 0 instead makes all its exponentials 0, and dividing by a sum of 1 leaves
    them 0, as PyTorch does: a query that may attend to nothing receives nothing.
    """
    # BEGIN SOLUTION 12
    row_max = np.max(scores, axis=-1, keepdims=True)
    exps = np.exp(scores - np.where(np.isneginf(row_max), 0, row_max))
    total = np.sum(exps, axis=-1, keepdims=True)
    return exps / np.where(total > 0, total, 1)
    # END SOLUTION


class ScaledDotProductAttention(Function):
    """out = dropout(softmax(Q K^T * scale + mask)) V, fused.

    With P the attention probabilities, A = P * D the probabilities after dropout (D is the
    keep mask divided by 1 - p, all ones without dropout) and G = d loss/d out:
        d loss/d V = A^T G,   d loss/d A = G V^T,   d loss/d P = (d loss/d A) * D,
        d loss/d scores = P * (d loss/d P - sum_j (d loss/d P)_j P_j)   (softmax's JVP),
        d loss/d Q = (d loss/d scores) K * scale,   d loss/d K = (d loss/d scores)^T Q * scale,
    and an additive float mask receives d loss/d scores.
    """

    @staticmethod
    def forward(
        ctx: Context,
        query: np.ndarray,
        key: np.ndarray,
        value: np.ndarray,
        mask: np.ndarray | None,
        dropout_p: float,
        scale: float,
    ) -> np.ndarray:
        # BEGIN SOLUTION 12
        scores = np.matmul(query, np.swapaxes(key, -1, -2))  # (..., L, S)
        scores *= scale
        probs = safe_softmax(masked_scores(scores, mask))
        dropout_scale = None
        attended = probs
        if dropout_p > 0:
            keep = rng().random(probs.shape) >= dropout_p
            dropout_scale = keep.astype(probs.dtype) / (1 - dropout_p)
            attended = probs * dropout_scale
        ctx.save_for_backward(query, key, value, probs, attended, dropout_scale)
        ctx.scale = scale
        return np.matmul(attended, value)  # (..., L, Ev)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 12
        query, key, value, probs, attended, dropout_scale = ctx.saved_tensors
        needs_query, needs_key, needs_value, needs_mask = ctx.needs_input_grad[:4]
        grad_value = np.matmul(np.swapaxes(attended, -1, -2), grad) if needs_value else None
        grad_probs = np.matmul(grad, np.swapaxes(value, -1, -2))  # (..., L, S)
        if dropout_scale is not None:
            grad_probs *= dropout_scale
        weighted = np.sum(grad_probs * probs, axis=-1, keepdims=True)
        grad_scores = probs * (grad_probs - weighted)
        grad_query = np.matmul(grad_scores, key) * ctx.scale if needs_query else None
        grad_key = None
        if needs_key:
            grad_key = np.matmul(np.swapaxes(grad_scores, -1, -2), query) * ctx.scale
        grad_mask = grad_scores if needs_mask else None
        return grad_query, grad_key, grad_value, grad_mask, None, None
        # END SOLUTION
