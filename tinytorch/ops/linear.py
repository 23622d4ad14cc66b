"""The affine map of a fully connected layer, fused into one operation: out = x @ W^T + b.

One ``Function`` instead of a transpose, a matmul and an add: a small network spends much of
its time in per-operation overhead, so the most common layer records a single graph node.
"""

from __future__ import annotations

import numpy as np

from tinytorch.autograd.function import Context, Function


class Linear(Function):
    """out = x @ W^T + b for x of shape (*, in), W (out, in), b (out,) or None -> (*, out).

    With G = d loss / d out flattened to (N, out) and x flattened to (N, in):
    d loss/d x = G @ W,  d loss/d W = G^T @ x,  d loss/d b = G summed over its rows.
    """

    @staticmethod
    def forward(
        ctx: Context, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None
    ) -> np.ndarray:
        # BEGIN SOLUTION 03
        ctx.save_for_backward(x, weight)
        out = np.matmul(x, weight.T)
        if bias is not None:
            out += bias
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        x, weight = ctx.saved_tensors
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad
        rows = grad.reshape(-1, weight.shape[0])  # (N, out)
        grad_x = np.matmul(grad, weight) if needs_x else None
        grad_weight = rows.T @ x.reshape(-1, weight.shape[1]) if needs_weight else None
        grad_bias = rows.sum(axis=0) if needs_bias else None
        return grad_x, grad_weight, grad_bias
        # END SOLUTION
