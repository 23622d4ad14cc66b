"""Stateless forms of the layers: ``import tinytorch.nn.functional as F``, then ``F.relu(x)``.

Modules (``nn.Linear``, ``nn.CrossEntropyLoss``) hold parameters and settings and call these
functions in ``forward``. The functions check their arguments and raise an error naming the
operation, the shapes and the fix before anything is computed; the arithmetic itself lives in
the fused operations of ``tinytorch.ops``. Example::

    >>> import tinytorch as torch
    >>> import tinytorch.nn.functional as F
    >>> logits = torch.tensor([[2.0, 0.0, 0.0]])
    >>> round(F.cross_entropy(logits, torch.tensor([0])).item(), 4)
    0.2395
"""

from __future__ import annotations

import warnings

import numpy as np

from tinytorch.ops import linear as linear_ops
from tinytorch.ops import loss as loss_ops
from tinytorch.ops.activation import (
    gelu,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    silu,
    softmax,
    tanh,
)
from tinytorch.random import rng
from tinytorch.tensor import Tensor

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "gelu",
    "l1_loss",
    "leaky_relu",
    "linear",
    "log_softmax",
    "mse_loss",
    "nll_loss",
    "relu",
    "sigmoid",
    "silu",
    "softmax",
    "tanh",
]

REDUCTIONS = ("mean", "sum", "none")


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """input @ weight^T + bias, one fused operation.

    Shapes: input (*, in_features), weight (out_features, in_features), bias (out_features,)
    -> (*, out_features). Example: ``F.linear(torch.ones(5, 3), torch.ones(2, 3)).shape`` is
    (5, 2).
    """
    if weight.ndim != 2 or input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise RuntimeError(
            f"linear: input of shape {tuple(input.shape)} does not fit weight of shape "
            f"{tuple(weight.shape)} (out_features, in_features): the last dimension of the "
            f"input must equal in_features; reshape the input (e.g. x.flatten(1)) or make the "
            f"layer with in_features={input.shape[-1] if input.ndim else 1}"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError(
            f"linear: bias of shape {tuple(bias.shape)} does not fit weight of shape "
            f"{tuple(weight.shape)}; it must have shape ({weight.shape[0]},)"
        )
    if input.dtype != weight.dtype:
        raise RuntimeError(
            f"linear: input is {input.dtype} but weight is {weight.dtype}; convert one of them "
            f"(e.g. x.to({weight.dtype}) or layer.to({input.dtype}))"
        )
    return linear_ops.Linear.apply(input, weight, bias)


def dropout(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p).

    Scaling during training (inverted dropout) keeps the expected value of every element, so
    evaluation (``training=False``) is the identity. The mask comes from the generator that
    ``tinytorch.manual_seed`` seeds. ``inplace`` is accepted; the result is a new tensor.
    """
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    # BEGIN SOLUTION 03
    if p == 1:
        return input * 0
    keep = rng().random(input.shape) >= p
    scale = keep.astype(input._data.dtype) / (1 - p)
    return input * Tensor._from_array(scale)
    # END SOLUTION


# ---------------------------------------------------------------------- argument checks
def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"{name}: {reduction!r} is not a valid value for reduction; use 'mean', 'sum' or 'none'"
        )


def _check_same_shape(name: str, input: Tensor, target: Tensor) -> None:  # noqa: A002
    if input.shape != target.shape:
        raise ValueError(
            f"{name}: target of shape {tuple(target.shape)} must have the same shape as the "
            f"input {tuple(input.shape)}; reshape the target (e.g. target.view_as(input))"
        )


def _check_broadcast(name: str, input: Tensor, target: Tensor) -> None:  # noqa: A002
    """Elementwise losses broadcast, as PyTorch does, but warn: it is usually a bug."""
    if input.shape == target.shape:
        return
    try:
        np.broadcast_shapes(input.shape, target.shape)
    except ValueError:
        raise RuntimeError(
            f"{name}: input of shape {tuple(input.shape)} and target of shape "
            f"{tuple(target.shape)} cannot be broadcast together; give them the same shape"
        ) from None
    warnings.warn(
        f"{name}: using a target size {tuple(target.shape)} that is different to the input "
        f"size {tuple(input.shape)}. This will likely lead to incorrect results due to "
        f"broadcasting. Please ensure they have the same size.",
        stacklevel=3,
    )


def _check_class_target(
    name: str,
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None,
    ignore_index: int,
    allow_probabilities: bool,
) -> None:
    """Check scores (N, C, d1, ...) or (C,) against class indices (N, d1, ...) or ().

    With ``allow_probabilities``, a floating-point target of the input's shape is accepted.
    """
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have a class dimension, got a 0-d tensor")
    num_classes = input.shape[1 if input.ndim > 1 else 0]
    index_shape = input.shape[:1] + input.shape[2:] if input.ndim > 1 else ()
    if allow_probabilities and target.dtype.is_floating_point:
        if target.shape != input.shape:
            raise RuntimeError(
                f"{name}: class probabilities of shape {tuple(target.shape)} must have the "
                f"input's shape {tuple(input.shape)}; for class indices pass an int64 target "
                f"of shape {index_shape}"
            )
    elif target._data.dtype.kind not in "iu":
        kinds = "int64 class indices" + (" or float probabilities" if allow_probabilities else "")
        raise TypeError(f"{name}: target must hold {kinds}, got dtype {target.dtype}")
    elif target.shape != index_shape:
        raise RuntimeError(
            f"{name}: target of shape {tuple(target.shape)} does not fit input of shape "
            f"{tuple(input.shape)}: expected one class index per row, shape {index_shape}"
        )
    else:
        _check_class_range(name, target, num_classes, ignore_index)
    if weight is not None and tuple(weight.shape) != (num_classes,):
        raise RuntimeError(
            f"{name}: weight of shape {tuple(weight.shape)} must have one entry per class, "
            f"shape ({num_classes},)"
        )


def _check_class_range(name: str, target: Tensor, num_classes: int, ignore_index: int) -> None:
    indices = target._data
    bad = (indices != ignore_index) & ((indices < 0) | (indices >= num_classes))
    if bad.any():
        raise IndexError(
            f"{name}: target {indices[bad].flat[0]} is out of bounds: class indices must be in "
            f"[0, {num_classes - 1}] for an input with {num_classes} classes (or equal "
            f"ignore_index={ignore_index})"
        )


# ---------------------------------------------------------------------- losses
def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean squared error: (input - target)^2, averaged (or summed, or kept per element).

    Example: ``F.mse_loss(torch.tensor([1., 2.]), torch.tensor([1., 4.]))`` is 2.0.
    """
    _check_reduction("mse_loss", reduction)
    _check_broadcast("mse_loss", input, target)
    return loss_ops.MSE.apply(input, target, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean absolute error: |input - target|, averaged (or summed, or kept per element)."""
    _check_reduction("l1_loss", reduction)
    _check_broadcast("l1_loss", input, target)
    return loss_ops.L1.apply(input, target, reduction)


def cross_entropy(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy between unnormalised scores and targets: -log softmax(input)[target].

    Shapes: input (N, C) or (N, C, d1, ...) or (C,); target either class indices (int64) of
    shape (N,) / (N, d1, ...) / (), or class probabilities of the input's shape. ``weight``
    (C,) rescales classes; rows whose target is ``ignore_index`` count 0; ``label_smoothing``
    e mixes the target with the uniform distribution: (1 - e) target + e / C.
    Example: ``F.cross_entropy(torch.zeros(2, 4), torch.tensor([0, 3]))`` is log 4 = 1.3863.
    """
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}"
        )
    _check_class_target("cross_entropy", input, target, weight, ignore_index, True)
    return loss_ops.CrossEntropy.apply(
        input, target, weight, ignore_index, label_smoothing, reduction
    )


def nll_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood: -input[target], for log-probabilities such as log_softmax's.

    Shapes as in ``cross_entropy`` with class indices; ``cross_entropy(x, t)`` equals
    ``nll_loss(log_softmax(x, 1), t)``.
    """
    _check_reduction("nll_loss", reduction)
    _check_class_target("nll_loss", input, target, weight, ignore_index, False)
    return loss_ops.NLL.apply(input, target, weight, ignore_index, reduction)


def binary_cross_entropy(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    *,
    reduction: str = "mean",
) -> Tensor:
    """-(target log(input) + (1 - target) log(1 - input)) for probabilities in [0, 1].

    Each log is clamped to >= -100 so a confident mistake gives a large finite loss. Prefer
    ``binary_cross_entropy_with_logits`` on scores: it is stable without clamping.
    """
    _check_reduction("binary_cross_entropy", reduction)
    _check_same_shape("binary_cross_entropy", input, target)
    if not target.dtype.is_floating_point:
        raise TypeError(
            f"binary_cross_entropy: target must be floating point, got {target.dtype}; "
            f"use target.float()"
        )
    if np.any((input._data < 0) | (input._data > 1)):
        raise RuntimeError(
            "binary_cross_entropy: all elements of input should be between 0 and 1; apply "
            "sigmoid first, or use binary_cross_entropy_with_logits on the scores"
        )
    return loss_ops.BinaryCrossEntropy.apply(input, target, weight, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    *,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross-entropy of sigmoid(input) against target, computed stably from scores.

    ``pos_weight`` (broadcast over the last dimension, one entry per class) multiplies the
    loss of positive targets: > 1 favours recall. Example:
    ``F.binary_cross_entropy_with_logits(torch.zeros(3), torch.ones(3))`` is log 2 = 0.6931.
    """
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    _check_same_shape("binary_cross_entropy_with_logits", input, target)
    if not target.dtype.is_floating_point:
        raise TypeError(
            f"binary_cross_entropy_with_logits: target must be floating point, got "
            f"{target.dtype}; use target.float()"
        )
    return loss_ops.BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight, reduction)
