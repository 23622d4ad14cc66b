"""The Kullback-Leibler divergence as one fused operation (module 16: distillation).

``kl_div(input, target)`` takes ``input`` as log-probabilities log q and ``target`` as
probabilities p (or log-probabilities with ``log_target=True``), and sums, element by element,

    p (log p - log q)        (KL(p || q) = sum_i p_i log(p_i / q_i) over a distribution)

with PyTorch's convention 0 log 0 = 0: a class the target gives probability 0 adds nothing.
Reductions: ``'sum'``, ``'mean'`` (over every element), ``'batchmean'`` (the sum divided by the
batch size, which is the KL divergence per example) and ``'none'``.
Arguments are checked in ``tinytorch.nn.functional.kl_div``; this operation trusts them.
"""

from __future__ import annotations

import numpy as np

from tinytorch.autograd.function import Context, Function


def reduce_divergence(loss: np.ndarray, reduction: str) -> np.ndarray:
    """``loss`` summed, averaged over elements, summed / batch size, or left as it is."""
    if reduction == "none":
        return loss
    if reduction == "mean":
        return np.asarray(loss.mean())
    total = np.asarray(loss.sum())
    if reduction == "batchmean" and loss.ndim > 0:
        return total / loss.shape[0]
    return total


def reduction_count(shape: tuple[int, ...], reduction: str) -> int:
    """What the reduction divided by: the element count, the batch size, or 1."""
    if reduction == "mean":
        return int(np.prod(shape))
    if reduction == "batchmean" and shape:
        return shape[0]
    return 1


class KLDiv(Function):
    """loss = p (log p - input), p = target (or exp(target) with ``log_target``).

    d loss / d input = -p.  d loss / d target = log p + 1 - input (p > 0; NaN at p = 0, as in
    PyTorch, because log p has no slope there), or p (target - input + 1) with ``log_target``.
    """

    @staticmethod
    def forward(
        ctx: Context,
        input: np.ndarray,  # noqa: A002
        target: np.ndarray,
        reduction: str,
        log_target: bool,
    ) -> np.ndarray:
        # BEGIN SOLUTION 16
        if log_target:
            probability, log_probability = np.exp(target), target
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                log_probability = np.log(target)
            probability = target
        with np.errstate(invalid="ignore"):
            loss = probability * (log_probability - input)
        if not log_target:
            loss = np.where(target == 0, -target * input, loss)  # 0 log 0 = 0
        ctx.save_for_backward(input, probability, log_probability)
        ctx.reduction, ctx.log_target = reduction, log_target
        return reduce_divergence(loss, reduction)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 16
        input, probability, log_probability = ctx.saved_tensors  # noqa: A001
        shape = np.broadcast_shapes(input.shape, probability.shape)
        grad = grad / reduction_count(shape, ctx.reduction)
        grad_input = -probability * grad
        grad_target = None
        if ctx.needs_input_grad[1]:
            slope = log_probability - input + 1
            if ctx.log_target:
                slope = probability * slope
            else:
                slope = np.where(probability > 0, slope, np.nan)
            grad_target = slope * grad
        return grad_input, grad_target, None, None
        # END SOLUTION
