"""Loss functions, each fused into one operation: mse, l1, cross-entropy, nll, bce, bce-logits.

A loss compares a prediction with a target and reduces the per-element losses with
``reduction``: ``'mean'`` (the default), ``'sum'`` or ``'none'`` (no reduction). Fusing a whole
loss into one ``Function`` saves graph nodes and allows the stable formulations: cross-entropy
never materialises probabilities, and its gradient has the closed form softmax - target.

Class-index losses (cross-entropy, nll) work on "rows": the input (N, C, d1, ...) is viewed as
M = N * d1 * ... rows of C class scores, the target as M class indices.
Arguments are checked in ``tinytorch.nn.functional``; these functions trust them.
"""

from __future__ import annotations

import numpy as np

from tinytorch.autograd.function import Context, Function
from tinytorch.ops.activation import log_softmax_array, stable_sigmoid

LOG_FLOOR = -100.0
"""binary_cross_entropy clamps its logarithms to at least this, as PyTorch does (log 0)."""


def reduce_loss(loss: np.ndarray, reduction: str) -> np.ndarray:
    """The per-element ``loss`` reduced: its mean, its sum, or itself for ``'none'``."""
    # BEGIN SOLUTION 04
    if reduction == "none":
        return loss
    return np.asarray(loss.sum() if reduction == "sum" else loss.mean())
    # END SOLUTION


def unreduce_grad(grad: np.ndarray, reduction: str, count: float) -> np.ndarray:
    """The gradient reaching each element: grad itself, or grad / count after a mean.

    A sum gives every element the whole gradient; a mean over ``count`` elements 1/count of it.
    """
    # BEGIN SOLUTION 05
    return grad / count if reduction == "mean" else grad
    # END SOLUTION


def classes_last(a: np.ndarray) -> np.ndarray:
    """Scores (N, C, d1, ...) as rows (N * d1 * ..., C); (C,) as (1, C); (N, C) unchanged."""
    if a.ndim <= 2:
        return a.reshape(-1, a.shape[-1])
    return np.moveaxis(a, 1, -1).reshape(-1, a.shape[1])


def classes_back(rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The inverse of ``classes_last``: rows (M, C) back to scores of ``shape``."""
    if len(shape) <= 2:
        return rows.reshape(shape)
    moved = (shape[0], *shape[2:], shape[1])
    return np.moveaxis(rows.reshape(moved), -1, 1)


def row_weights(
    target: np.ndarray, weight: np.ndarray | None, ignore_index: int, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For class indices ``target`` (M,): (safe target, weight of each row, row is counted).

    A row whose target is ``ignore_index`` gets weight 0 and a safe index 0, so it can still
    be used to index; otherwise its weight is ``weight[target]`` (1 without class weights).
    """
    # BEGIN SOLUTION 04
    counted = target != ignore_index
    safe_target = np.where(counted, target, 0)
    if weight is None:
        return safe_target, counted.astype(dtype), counted
    return safe_target, weight[safe_target] * counted, counted
    # END SOLUTION


class MSE(Function):
    """loss = (input - target)^2, reduced;  d loss/d input = 2 (input - target) = -d/d target."""

    @staticmethod
    def forward(ctx: Context, input: np.ndarray, target: np.ndarray, reduction: str) -> np.ndarray:  # noqa: A002
        # BEGIN SOLUTION 04
        diff = input - target
        ctx.save_for_backward(diff)
        ctx.reduction = reduction
        return reduce_loss(diff * diff, reduction)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        (diff,) = ctx.saved_tensors
        grad_input = 2 * diff * unreduce_grad(grad, ctx.reduction, diff.size)
        grad_target = -grad_input if ctx.needs_input_grad[1] else None
        return grad_input, grad_target, None
        # END SOLUTION


class L1(Function):
    """loss = |input - target|, reduced;  d loss/d input = sign(input - target) = -d/d target."""

    @staticmethod
    def forward(ctx: Context, input: np.ndarray, target: np.ndarray, reduction: str) -> np.ndarray:  # noqa: A002
        # BEGIN SOLUTION 04
        diff = input - target
        ctx.save_for_backward(diff)
        ctx.reduction = reduction
        return reduce_loss(np.abs(diff), reduction)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        (diff,) = ctx.saved_tensors
        grad_input = np.sign(diff) * unreduce_grad(grad, ctx.reduction, diff.size)
        grad_target = -grad_input if ctx.needs_input_grad[1] else None
        return grad_input, grad_target, None
        # END SOLUTION


def target_distribution(
    target: np.ndarray,
    num_classes: int,
    weight: np.ndarray | None,
    ignore_index: int,
    label_smoothing: float,
    dtype: np.dtype,
) -> tuple[np.ndarray, np.ndarray]:
    """The weighted target distribution q (M, C) of cross-entropy, and the divisor of 'mean'.

    Class indices t (shape M): q_c = (1 - e) w_t [c = t] + (e / C) w_c, a zero row where
    t = ignore_index; 'mean' divides by sum_i w_(t_i) over counted rows.
    Probabilities p (shape M, C): q_c = ((1 - e) p_c + e / C) w_c; 'mean' divides by M.
    (e is ``label_smoothing``, w the class weights, 1 if ``weight`` is None.)
    """
    # BEGIN SOLUTION 04
    class_weights = np.ones(num_classes, dtype) if weight is None else weight
    smoothing = label_smoothing / num_classes
    if target.dtype.kind == "f":
        q = ((1 - label_smoothing) * target + smoothing) * class_weights
        return q, np.asarray(len(target), dtype)
    safe_target, weights, counted = row_weights(target, weight, ignore_index, dtype)
    q = np.zeros((len(target), num_classes), dtype)
    if label_smoothing > 0:
        q += smoothing * counted[:, None] * class_weights
    q[np.arange(len(target)), safe_target] += (1 - label_smoothing) * weights
    return q, weights.sum()
    # END SOLUTION


class CrossEntropy(Function):
    """loss_i = -sum_c q_ic log softmax(x_i)_c: log_softmax and nll fused into one step.

    x is viewed as rows (M, C) of class scores, q is ``target_distribution`` (M, C). Where x
    has -inf scores, log p is clamped to the most negative float so that 0 * log p stays 0.
    The gradient has a closed form: d loss_i/d x_i = softmax(x_i) * sum_c q_ic - q_i, and
    for probability targets d loss_i/d p_i = -(1 - e) w log softmax(x_i).
    """

    @staticmethod
    def forward(
        ctx: Context,
        input: np.ndarray,  # noqa: A002
        target: np.ndarray,
        weight: np.ndarray | None,
        ignore_index: int,
        label_smoothing: float,
        reduction: str,
    ) -> np.ndarray:
        # BEGIN SOLUTION 04
        scores = classes_last(input)  # (M, C)
        log_probs = log_softmax_array(scores, axis=1)
        log_probs = np.maximum(log_probs, np.finfo(log_probs.dtype).min)
        target_rows = classes_last(target) if target.dtype.kind == "f" else target.reshape(-1)
        q, divisor = target_distribution(
            target_rows, scores.shape[1], weight, ignore_index, label_smoothing, input.dtype
        )
        loss = -(q * log_probs).sum(axis=1)  # (M,)
        ctx.save_for_backward(log_probs, q, weight)
        ctx.input_shape, ctx.label_smoothing = input.shape, label_smoothing
        ctx.reduction, ctx.divisor = reduction, divisor
        if reduction == "mean":
            return np.asarray(loss.sum() / divisor)
        return reduce_loss(loss.reshape(input.shape[:1] + input.shape[2:]), reduction)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        log_probs, q, weight = ctx.saved_tensors
        upstream = unreduce_grad(grad, ctx.reduction, ctx.divisor).reshape(-1, 1)
        grad_input = grad_target = None
        if ctx.needs_input_grad[0]:
            grad_rows = (np.exp(log_probs) * q.sum(axis=1, keepdims=True) - q) * upstream
            grad_input = classes_back(grad_rows, ctx.input_shape)
        if ctx.needs_input_grad[1]:
            grad_rows = -(1 - ctx.label_smoothing) * log_probs * upstream
            grad_rows = grad_rows if weight is None else grad_rows * weight
            grad_target = classes_back(grad_rows, ctx.input_shape)
        return grad_input, grad_target, None, None, None, None
        # END SOLUTION


class NLL(Function):
    """loss_i = -w_t x_it for rows x_i (M, C) of log-probabilities and class indices t.

    Rows whose target is ``ignore_index`` count 0; 'mean' divides by sum_i w_(t_i).
    The gradient is -w_t at each row's target class and 0 elsewhere.
    """

    @staticmethod
    def forward(
        ctx: Context,
        input: np.ndarray,  # noqa: A002
        target: np.ndarray,
        weight: np.ndarray | None,
        ignore_index: int,
        reduction: str,
    ) -> np.ndarray:
        # BEGIN SOLUTION 04
        log_probs = classes_last(input)  # (M, C)
        safe_target, weights, _ = row_weights(target.reshape(-1), weight, ignore_index, input.dtype)
        loss = -weights * log_probs[np.arange(len(log_probs)), safe_target]  # (M,)
        ctx.save_for_backward(safe_target, weights)
        ctx.input_shape, ctx.reduction, ctx.divisor = input.shape, reduction, weights.sum()
        if reduction == "mean":
            return np.asarray(loss.sum() / ctx.divisor)
        return reduce_loss(loss.reshape(target.shape), reduction)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        safe_target, weights = ctx.saved_tensors
        upstream = unreduce_grad(grad, ctx.reduction, ctx.divisor).reshape(-1)
        grad_rows = np.zeros(
            (len(weights), ctx.input_shape[-1 if len(ctx.input_shape) == 1 else 1]), weights.dtype
        )
        grad_rows[np.arange(len(weights)), safe_target] = -weights * upstream
        return classes_back(grad_rows, ctx.input_shape), None, None, None, None
        # END SOLUTION


class BinaryCrossEntropy(Function):
    """loss = -w (y log x + (1 - y) log(1 - x)) for probabilities x, both logs clamped >= -100.

    d loss/d x = w (x - y) / max(x (1 - x), 1e-12);  d loss/d y = w (log(1 - x) - log x).
    """

    @staticmethod
    def forward(
        ctx: Context,
        input: np.ndarray,  # noqa: A002
        target: np.ndarray,
        weight: np.ndarray | None,
        reduction: str,
    ) -> np.ndarray:
        # BEGIN SOLUTION 04
        with np.errstate(divide="ignore"):  # log(0) = -inf, clamped next
            log_x = np.maximum(np.log(input), LOG_FLOOR)
            log_not_x = np.maximum(np.log1p(-input), LOG_FLOOR)
        loss = -(target * log_x + (1 - target) * log_not_x)
        loss = loss if weight is None else loss * weight
        ctx.save_for_backward(input, target, weight, log_x, log_not_x)
        ctx.reduction = reduction
        return reduce_loss(loss, reduction)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        x, y, weight, log_x, log_not_x = ctx.saved_tensors
        upstream = unreduce_grad(grad, ctx.reduction, x.size)
        upstream = upstream if weight is None else upstream * weight
        grad_input = grad_target = None
        if ctx.needs_input_grad[0]:
            grad_input = upstream * (x - y) / np.maximum(x * (1 - x), 1e-12)
        if ctx.needs_input_grad[1]:
            grad_target = upstream * (log_not_x - log_x)
        return grad_input, grad_target, None, None
        # END SOLUTION


class BinaryCrossEntropyWithLogits(Function):
    """Binary cross-entropy of sigmoid(x) against y, computed from the logits x directly.

    With s(x) = log(1 + e^-x) (stable as ``logaddexp(0, -x)``) and l = 1 + (pos_weight - 1) y:
        loss = w ((1 - y) x + l s(x))
    d loss/d x = w ((1 - y) - l sigmoid(-x));  d loss/d y = w ((pos_weight - 1) s(x) - x).
    Without pos_weight, l = 1 and d loss/d x = w (sigmoid(x) - y).
    """

    @staticmethod
    def forward(
        ctx: Context,
        input: np.ndarray,  # noqa: A002
        target: np.ndarray,
        weight: np.ndarray | None,
        pos_weight: np.ndarray | None,
        reduction: str,
    ) -> np.ndarray:
        # BEGIN SOLUTION 04
        softplus = np.logaddexp(0, -input)  # log(1 + e^-x)
        positive_scale = 1 if pos_weight is None else 1 + (pos_weight - 1) * target
        loss = (1 - target) * input + positive_scale * softplus
        loss = loss if weight is None else loss * weight
        ctx.save_for_backward(input, target, weight, pos_weight, softplus)
        ctx.reduction = reduction
        return reduce_loss(loss, reduction)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        x, y, weight, pos_weight, softplus = ctx.saved_tensors
        upstream = unreduce_grad(grad, ctx.reduction, np.broadcast(x, y).size)
        upstream = upstream if weight is None else upstream * weight
        grad_input = grad_target = None
        if ctx.needs_input_grad[0]:
            positive_scale = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
            grad_input = upstream * ((1 - y) - positive_scale * stable_sigmoid(-x))
        if ctx.needs_input_grad[1]:
            extra = 0 if pos_weight is None else (pos_weight - 1) * softplus
            grad_target = upstream * (extra - x)
        return grad_input, grad_target, None, None, None
        # END SOLUTION


class SmoothL1(Function):
    """Huber-like loss of d = input - target: 0.5 d^2 / beta where |d| < beta, else
    |d| - 0.5 beta (plain L1 for beta = 0), reduced.
    d loss/d input = d / beta where |d| < beta, else sign(d); d loss/d target is its negative.
    """

    @staticmethod
    def forward(
        ctx: Context,
        input: np.ndarray,  # noqa: A002
        target: np.ndarray,
        beta: float,
        reduction: str,
    ) -> np.ndarray:
        diff = input - target
        quadratic = np.abs(diff) < beta
        safe_beta = beta if beta > 0 else 1.0  # beta = 0: no element is quadratic
        loss = np.where(quadratic, 0.5 * diff * diff / safe_beta, np.abs(diff) - 0.5 * beta)
        ctx.save_for_backward(diff, quadratic)
        ctx.settings = (safe_beta, reduction)
        return reduce_loss(loss.astype(diff.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        diff, quadratic = ctx.saved_tensors
        beta, reduction = ctx.settings
        slope = np.where(quadratic, diff / beta, np.sign(diff))
        grad_prediction = slope * unreduce_grad(grad, reduction, diff.size)
        grad_target = -grad_prediction if ctx.needs_input_grad[1] else None
        return grad_prediction, grad_target, None, None
