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
    Leading dimensions are flattened into rows first: one (N, in) @ (in, out) product is
    faster than NumPy's loop of small products over a batch of matrices.
    """

    @staticmethod
    def forward(
        ctx: Context, x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None
    ) -> np.ndarray:
        # BEGIN SOLUTION 03
        rows = x.reshape(-1, weight.shape[1])  # (N, in)
        ctx.save_for_backward(rows, weight)
        ctx.input_shape = x.shape
        out = rows @ weight.T  # (N, out)
        if bias is not None:
            out += bias
        return out.reshape(*x.shape[:-1], weight.shape[0])
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        rows, weight = ctx.saved_tensors  # x as rows (N, in)
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad
        grad_rows = grad.reshape(-1, weight.shape[0])  # (N, out)
        grad_x = (grad_rows @ weight).reshape(ctx.input_shape) if needs_x else None
        grad_weight = grad_rows.T @ rows if needs_weight else None
        grad_bias = grad_rows.sum(axis=0) if needs_bias else None
        return grad_x, grad_weight, grad_bias
        # END SOLUTION
