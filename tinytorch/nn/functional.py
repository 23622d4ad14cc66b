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

import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from tinytorch.amp import autocast_mode
from tinytorch.ops import attention as attention_ops
from tinytorch.ops import conv as conv_ops
from tinytorch.ops import divergence as divergence_ops
from tinytorch.ops import embedding as embedding_ops
from tinytorch.ops import interpolation as interpolation_ops
from tinytorch.ops import linear as linear_ops
from tinytorch.ops import loss as loss_ops
from tinytorch.ops import normalization as norm_ops
from tinytorch.ops import padding as padding_ops
from tinytorch.ops import pooling as pool_ops
from tinytorch.ops import shape as shape_ops
from tinytorch.ops.activation import (
    celu,
    gelu,
    hardtanh,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)
from tinytorch.random import rng
from tinytorch.tensor import Tensor

__all__ = [
    "adaptive_avg_pool2d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "conv2d",
    "cross_entropy",
    "dropout",
    "embedding",
    "gelu",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "pad",
    "relu",
    "scaled_dot_product_attention",
    "sigmoid",
    "silu",
    "softmax",
    "tanh",
    "celu",
    "conv_transpose1d",
    "conv_transpose2d",
    "dropout2d",
    "hardtanh",
    "interpolate",
    "normalize",
    "one_hot",
    "smooth_l1_loss",
    "softplus",
    "kl_div",
]

REDUCTIONS = ("mean", "sum", "none")


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002
    """input @ weight^T + bias, one fused operation.

    Shapes: input (*, in_features), weight (out_features, in_features), bias (out_features,)
    -> (*, out_features). Example: ``F.linear(torch.ones(5, 3), torch.ones(2, 3)).shape`` is
    (5, 2). Inside an ``autocast`` region it computes in the region's dtype.
    """
    input, weight, bias = autocast_mode.cast_arguments(input, weight, bias)  # noqa: A001
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
    if input._data.dtype != weight._data.dtype:
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
    """Raise for a class index outside [0, num_classes) that is not ``ignore_index``.

    The smallest and largest index settle the usual case in two reductions; only a target
    with an index out of range (maybe ``ignore_index``) is checked element by element.
    """
    indices = target._data
    if indices.size == 0 or (indices.min() >= 0 and indices.max() < num_classes):
        return
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
    input, target = autocast_mode.float32_arguments(input, target)  # noqa: A001
    _check_reduction("mse_loss", reduction)
    _check_broadcast("mse_loss", input, target)
    return loss_ops.MSE.apply(input, target, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Mean absolute error: |input - target|, averaged (or summed, or kept per element)."""
    input, target = autocast_mode.float32_arguments(input, target)  # noqa: A001
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
    input, target, weight = autocast_mode.float32_arguments(input, target, weight)  # noqa: A001
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
    input, weight = autocast_mode.float32_arguments(input, weight)  # noqa: A001
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
    input, target, weight = autocast_mode.float32_arguments(input, target, weight)  # noqa: A001
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
    input, target, weight, pos_weight = autocast_mode.float32_arguments(  # noqa: A001
        input, target, weight, pos_weight
    )
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    _check_same_shape("binary_cross_entropy_with_logits", input, target)
    if not target.dtype.is_floating_point:
        raise TypeError(
            f"binary_cross_entropy_with_logits: target must be floating point, got "
            f"{target.dtype}; use target.float()"
        )
    return loss_ops.BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight, reduction)


def kl_div(
    input: Tensor,  # noqa: A002
    target: Tensor,
    *,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """Kullback-Leibler divergence KL(target || exp(input)): sum of p (log p - input).

    ``input`` holds log-probabilities (``log_softmax`` of the student's scores); ``target``
    holds probabilities p, or log-probabilities with ``log_target=True``; 0 log 0 counts 0.
    ``reduction='batchmean'`` divides the sum by the batch size: the true KL divergence per
    example. ``'mean'`` divides by the number of elements (PyTorch warns, and so does this).
    Example: ``F.kl_div(q.log(), p, reduction="batchmean")`` for distributions p, q of (N, C).
    """
    input, target = autocast_mode.float32_arguments(input, target)  # noqa: A001
    if reduction not in (*REDUCTIONS, "batchmean"):
        raise ValueError(
            f"kl_div: {reduction!r} is not a valid value for reduction; use 'batchmean', "
            f"'mean', 'sum' or 'none'"
        )
    if reduction == "mean":
        warnings.warn(
            "kl_div: reduction 'mean' divides the total loss by both the batch size and the "
            "support size; 'batchmean' divides only by the batch size and matches the "
            "definition of the KL divergence",
            stacklevel=2,
        )
    if not (input.dtype.is_floating_point and target.dtype.is_floating_point):
        raise TypeError(
            f"kl_div: input and target must be floating point, got {input.dtype} and "
            f"{target.dtype}; pass log-probabilities and probabilities as float tensors"
        )
    _check_broadcast("kl_div", input, target)
    return divergence_ops.KLDiv.apply(input, target, reduction, log_target)


# ---------------------------------------------------------------------- embeddings, attention
def embedding(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Look up rows of ``weight``: out[..., :] = weight[input[...], :].

    Shapes: input integer indices (*), weight (num_embeddings, embedding_dim) -> (*, dim).
    The row ``padding_idx`` gets no gradient. ``max_norm`` first shrinks, in place, every
    looked-up row whose ``norm_type``-norm exceeds it. ``scale_grad_by_freq`` divides each
    row's gradient by how often its index occurs in ``input``. ``sparse`` is accepted; the
    gradient is always a dense tensor. Example:
    ``F.embedding(torch.tensor([2, 0]), torch.eye(3))`` is ``tensor([[0., 0., 1.], [1., 0., 0.]])``.
    """
    padding_idx = _check_embedding("embedding", input, weight, padding_idx)
    if max_norm is not None:
        embedding_ops.renorm_rows_(weight._data, input._data, max_norm, norm_type)
    return embedding_ops.Embedding.apply(weight, input, padding_idx, scale_grad_by_freq)


def _check_embedding(
    name: str,
    input: Tensor,  # noqa: A002
    weight: Tensor,
    padding_idx: int | None,
) -> int | None:
    """Check indices against a (V, D) table; returns ``padding_idx`` in [0, V) (or None)."""
    if weight.ndim != 2:
        raise ValueError(
            f"{name}: weight must be 2-d (num_embeddings, embedding_dim), got shape "
            f"{tuple(weight.shape)}"
        )
    num_embeddings = weight.shape[0]
    indices = input._data
    if indices.dtype.kind not in "iu":
        raise RuntimeError(
            f"{name}: expected integer indices (int64 or int32), got {input.dtype}; "
            f"convert them with input.long()"
        )
    if indices.size and (indices.min() < 0 or indices.max() >= num_embeddings):
        bad = indices[(indices < 0) | (indices >= num_embeddings)].flat[0]
        raise IndexError(
            f"{name}: index {bad} is out of range for a table of {num_embeddings} rows "
            f"(weight shape {tuple(weight.shape)}); indices must be in [0, {num_embeddings - 1}]"
        )
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise AssertionError(
            f"{name}: padding_idx={padding_idx} must be within num_embeddings={num_embeddings}"
        )
    return padding_idx % num_embeddings


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
) -> Tensor:
    """softmax(query key^T * scale + mask) value, one fused operation.

    Shapes: query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev); the
    leading dimensions broadcast. ``scale`` defaults to 1 / sqrt(E). ``attn_mask`` broadcasts
    to (..., L, S): a bool mask says where a query may attend (True = attend, as in PyTorch),
    a float mask is added to the scores (-inf forbids). ``is_causal`` lets query i attend to
    keys 0..i only (a lower-triangular mask); it excludes ``attn_mask``. ``dropout_p`` drops
    attention probabilities (pass 0.0 in evaluation). A query that may attend to no key
    gets zeros. Example: ``F.scaled_dot_product_attention(q, k, v, is_causal=True)``.
    """
    query, key, value, attn_mask = autocast_mode.cast_arguments(query, key, value, attn_mask)
    mask = _attention_mask(query, key, value, attn_mask, is_causal)
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(
            f"scaled_dot_product_attention: dropout_p must be in [0, 1), got {dropout_p}"
        )
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    return attention_ops.ScaledDotProductAttention.apply(query, key, value, mask, dropout_p, scale)


def _attention_mask(
    query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None, is_causal: bool
) -> Tensor | np.ndarray | None:
    """Check the shapes of scaled_dot_product_attention; returns the mask to apply."""
    name = "scaled_dot_product_attention"
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(f"{name}: query, key and value need at least 2 dimensions (..., L, E)")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"{name}: query {tuple(query.shape)}, key {tuple(key.shape)} and value "
            f"{tuple(value.shape)} do not fit: query and key need the same last dimension E, "
            f"key and value the same number of keys S (query (..., L, E), key (..., S, E), "
            f"value (..., S, Ev))"
        )
    length, source = query.shape[-2], key.shape[-2]
    try:  # NumPy's broadcast_shapes takes microseconds: skip it when the shapes agree
        batch = query.shape[:-2]
        if not batch == key.shape[:-2] == value.shape[:-2]:
            batch = np.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except ValueError:
        raise RuntimeError(
            f"{name}: the batch dimensions of query {tuple(query.shape)}, key "
            f"{tuple(key.shape)} and value {tuple(value.shape)} do not broadcast"
        ) from None
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError(f"{name}: Explicit attn_mask should not be set when is_causal=True")
        return np.tril(np.ones((length, source), dtype=bool))
    if attn_mask is None:
        return None
    scores_shape = (*batch, length, source)
    if not (attn_mask._data.dtype.kind == "b" or attn_mask.dtype == query.dtype):
        raise RuntimeError(
            f"{name}: attn_mask must be bool or {query.dtype} like the query, got {attn_mask.dtype}"
        )
    if not _broadcasts_to(tuple(attn_mask.shape), scores_shape):
        raise RuntimeError(
            f"{name}: attn_mask of shape {tuple(attn_mask.shape)} does not broadcast to the "
            f"attention weights' shape {scores_shape} (..., L, S)"
        )
    return attn_mask


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether an array of ``shape`` broadcasts to exactly ``target``."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


# ---------------------------------------------------------------------- spatial (module 09)
def _ints(value: int | Sequence[int], count: int, name: str, op: str) -> tuple[int, ...]:
    """``value`` as ``count`` ints: 3 -> (3, 3); a sequence must have ``count`` entries."""
    if isinstance(value, int):
        return (value,) * count
    values = tuple(value)
    if len(values) != count or not all(isinstance(v, int) for v in values):
        raise ValueError(f"{op}: {name} must be an int or {count} ints, got {value!r}")
    return values


def _check_spatial(op: str, input: Tensor, dims: int) -> None:  # noqa: A002
    """``input`` must be (C, *spatial) or (N, C, *spatial) with ``dims`` spatial dims."""
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(
            f"{op}: expected a {dims + 1}-D (C, *spatial) or {dims + 2}-D (N, C, *spatial) "
            f"input, got shape {tuple(input.shape)}"
        )


def _unbatched(op: str, input: Tensor, dims: int, run: Callable[[Tensor], Tensor]) -> Tensor:  # noqa: A002
    """Run ``run`` on a batch: an input with ``dims`` spatial dims and no batch gets one."""
    _check_spatial(op, input, dims)
    if input.ndim == dims + 1:
        return run(input.unsqueeze(0)).squeeze(0)
    return run(input)


def _check_conv(
    op: str,
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None,
    groups: int,
) -> None:
    """Channels, groups, bias and dtype of a convolution; ``input`` is batched."""
    dims = input.ndim
    if weight.ndim != dims:
        raise RuntimeError(
            f"{op}: weight must have shape (out_channels, in_channels / groups, *kernel) with "
            f"{dims - 2} kernel dims, got {tuple(weight.shape)}"
        )
    out_channels, group_channels = weight.shape[:2]
    if groups < 1 or out_channels % groups:
        raise RuntimeError(
            f"{op}: groups={groups} must be positive and divide out_channels, the first "
            f"dimension of weight {tuple(weight.shape)}; pick a divisor of {out_channels}"
        )
    if input.shape[1] != group_channels * groups:
        raise RuntimeError(
            f"{op}: input of shape {tuple(input.shape)} has {input.shape[1]} channels but "
            f"weight of shape {tuple(weight.shape)} with groups={groups} expects "
            f"{group_channels * groups} (weight.shape[1] * groups); fix in_channels"
        )
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise RuntimeError(
            f"{op}: bias of shape {tuple(bias.shape)} must have shape ({out_channels},), "
            f"one entry per output channel of weight {tuple(weight.shape)}"
        )
    if input._data.dtype != weight._data.dtype:
        raise RuntimeError(
            f"{op}: input is {input.dtype} but weight is {weight.dtype}; convert one of them "
            f"(e.g. x.to({weight.dtype}))"
        )


def _conv_padding(
    op: str,
    padding: str | int | Sequence[int],
    sizes: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
) -> tuple[tuple[int, int], ...]:
    """(before, after) per spatial dim; 'same' splits d (k - 1) with the extra one after.

    Also checks that stride and dilation are positive and that the dilated kernel,
    d (k - 1) + 1, fits in the padded input.
    """
    if min(stride) < 1 or min(dilation) < 1:
        raise RuntimeError(f"{op}: stride {stride} and dilation {dilation} must be positive")
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise RuntimeError(f"{op}: invalid padding string {padding!r}; use 'same' or 'valid'")
        if padding == "same" and max(stride) > 1:
            raise RuntimeError(
                f"{op}: padding='same' is not supported for strided convolutions (stride "
                f"{stride}); pad explicitly with an int"
            )
        totals = [d * (k - 1) if padding == "same" else 0 for k, d in zip(kernel, dilation)]
        pads = tuple((total // 2, total - total // 2) for total in totals)
    else:
        pads = tuple((p, p) for p in _ints(padding, len(kernel), "padding", op))
        if any(before < 0 for before, _ in pads):
            raise RuntimeError(f"{op}: negative padding {padding!r} is not supported")
    padded = tuple(size + a + b for size, (a, b) in zip(sizes, pads))
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(r > p for r, p in zip(reach, padded)):
        raise RuntimeError(
            f"{op}: padded input size {padded} is smaller than the dilated kernel size "
            f"{reach}; use a smaller kernel or dilation, or more padding"
        )
    return pads


def conv2d(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: str | int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution (cross-correlation) of input (N, C, H, W) or (C, H, W) with weight
    (O, C / groups, kh, kw), plus bias (O,): out[n, o, i, j] = b[o] +
    sum_{c, a, b} W[o, c, a, b] x_pad[n, c, i sh + a dh, j sw + b dw] -> (N, O, OH, OW),
    OH = (H + pad_top + pad_bottom - dh (kh - 1) - 1) // sh + 1 (likewise OW).

    ``padding`` is an int, a pair, 'valid' (none) or 'same' (output size = input size,
    stride 1 only). Example: ``F.conv2d(torch.ones(1, 1, 5, 5), torch.ones(2, 1, 3, 3))``
    has shape (1, 2, 3, 3) and every value 9. Inside an ``autocast`` region it computes in
    the region's dtype.
    """
    input, weight, bias = autocast_mode.cast_arguments(input, weight, bias)  # noqa: A001

    def run(batch: Tensor) -> Tensor:
        _check_conv("conv2d", batch, weight, bias, groups)
        kernel = tuple(weight.shape[2:])
        steps = _ints(stride, 2, "stride", "conv2d")
        spread = _ints(dilation, 2, "dilation", "conv2d")
        pads = _conv_padding("conv2d", padding, tuple(batch.shape[2:]), kernel, steps, spread)
        return _convolve(batch, weight, bias, steps, pads, spread, groups)

    return _unbatched("conv2d", input, 2, run)


def _convolve(batch: Tensor, weight: Tensor, *settings: object) -> Tensor:
    """``Conv2d.apply(batch, weight, *settings)``. An empty batch (N = 0) runs as one zero image
    and keeps none of its result: the (0, O, OH, OW) output PyTorch gives, gradients included."""
    if batch.shape[0] > 0:
        return conv_ops.Conv2d.apply(batch, weight, *settings)
    one_image = shape_ops.Cat.apply(0, batch, batch.new_zeros(1, *batch.shape[1:]))
    return conv_ops.Conv2d.apply(one_image, weight, *settings)[:0]


def conv1d(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: str | int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution of input (N, C, L) or (C, L) with weight (O, C / groups, k) -> (N, O, OL).

    The 2-D convolution of a height-1 image: the same im2col and matrix multiply.
    """
    input, weight, bias = autocast_mode.cast_arguments(input, weight, bias)  # noqa: A001

    def run(batch: Tensor) -> Tensor:
        _check_conv("conv1d", batch, weight, bias, groups)
        kernel = (1, weight.shape[2])
        steps = (1, *_ints(stride, 1, "stride", "conv1d"))
        spread = (1, *_ints(dilation, 1, "dilation", "conv1d"))
        pads = _conv_padding("conv1d", padding, batch.shape[2:], kernel[1:], steps[1:], spread[1:])
        out = _convolve(
            batch.unsqueeze(2), weight.unsqueeze(2), bias, steps, ((0, 0), *pads), spread, groups
        )
        return out.squeeze(2)  # (N, O, 1, OL) -> (N, O, OL)

    return _unbatched("conv1d", input, 1, run)


def _pool_geometry(
    op: str,
    input: Tensor,  # noqa: A002
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None,
    padding: int | Sequence[int],
    dilation: int | Sequence[int],
    ceil_mode: bool,
) -> tuple[tuple[int, int], ...]:
    """Check a pooling window; return (kernel, stride, ((top, bottom), (left, right)), dilation).

    ``stride`` defaults to ``kernel_size``; padding may be at most half the kernel. The
    padding is ``padding`` on every side, plus, with ``ceil_mode``, the rows and columns
    after the input that a last, partial window reaches (``_ceil_mode_extra``).
    """
    _check_spatial(op, input, 2)
    kernel = _ints(kernel_size, 2, "kernel_size", op)
    steps = kernel if stride is None or stride == [] else _ints(stride, 2, "stride", op)
    pads = _ints(padding, 2, "padding", op)
    spread = _ints(dilation, 2, "dilation", op)
    if min(kernel) < 1 or min(steps) < 1 or min(spread) < 1:
        raise RuntimeError(
            f"{op}: kernel_size {kernel}, stride {steps} and dilation {spread} must be positive"
        )
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, spread))
    if any(p < 0 or 2 * p > r for p, r in zip(pads, reach)):
        raise RuntimeError(
            f"{op}: padding {pads} must be between 0 and half the (dilated) kernel size {reach}"
        )
    sizes = input.shape[-2:]
    if any(s + 2 * p < r for s, p, r in zip(sizes, pads, reach)):
        raise RuntimeError(
            f"{op}: input of shape {tuple(input.shape)} is smaller than the window {reach} "
            f"even with padding {pads}: output size is too small; use a smaller kernel_size"
        )
    extra = [
        _ceil_mode_extra(*geometry) if ceil_mode else 0
        for geometry in zip(sizes, reach, steps, pads)
    ]
    return kernel, steps, ((pads[0], pads[0] + extra[0]), (pads[1], pads[1] + extra[1])), spread


def _ceil_mode_extra(size: int, reach: int, stride: int, pad: int) -> int:
    """Padding rows (or columns) after the input for ``ceil_mode=True``, along one dim.

    Floor mode fits floor((size + 2 pad - reach) / stride) + 1 whole windows; ceil mode
    rounds up, keeping a last window that runs past the padded input, except that, as in
    PyTorch, a window must start inside the input or its leading padding.
    """
    span = size + 2 * pad - reach
    windows = -(-span // stride) + 1  # ceil division
    if (windows - 1) * stride >= size + pad:
        windows -= 1
    return max((windows - 1) * stride + reach - (size + 2 * pad), 0)  # 0: no partial window


def max_pool2d(
    input: Tensor,  # noqa: A002
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """The maximum of each kh x kw window of input (N, C, H, W) or (C, H, W), windows
    ``stride`` apart (default: ``kernel_size``, no overlap) -> (N, C, OH, OW).

    ``ceil_mode=True`` keeps a last, partial window at the bottom and right edges (its
    missing pixels count as -inf). With ``return_indices`` also returns where each maximum
    is, as a flat index into its (H, W) plane. Example:
    ``F.max_pool2d(torch.arange(16.).reshape(1, 1, 4, 4), 2)`` is [[[[5, 7], [13, 15]]]].
    """
    geometry = _pool_geometry(
        "max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode
    )
    pooled = _unbatched("max_pool2d", input, 2, lambda x: pool_ops.MaxPool2d.apply(x, *geometry))
    if not return_indices:
        return pooled
    batch = input._data if input.ndim == 4 else input._data[None]
    indices = Tensor._from_array(pool_ops.max_pool_indices(batch, *geometry))
    return pooled, (indices if input.ndim == 4 else indices.squeeze(0))


def avg_pool2d(
    input: Tensor,  # noqa: A002
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean of each kh x kw window of input (N, C, H, W) or (C, H, W) -> (N, C, OH, OW).

    Zero padding counts in the mean unless ``count_include_pad=False``; ``divisor_override``
    replaces the divisor kh * kw. ``ceil_mode=True`` keeps a last, partial window at the
    bottom and right edges, averaged over the pixels it covers.
    """
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("avg_pool2d: divisor_override must be non-zero")
    kernel, steps, pads, _ = _pool_geometry(
        "avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode
    )
    (top, _), (left, _) = pads
    counted = ((top, top), (left, left)) if count_include_pad else ((0, 0), (0, 0))
    divisor = pool_ops.average_divisor(
        input.shape[-2:], kernel, steps, pads, counted, divisor_override, input._data.dtype
    )
    return _unbatched(
        "avg_pool2d",
        input,
        2,
        lambda x: pool_ops.AvgPool2d.apply(x, kernel, steps, pads, divisor),
    )


def adaptive_avg_pool2d(input: Tensor, output_size: int | Sequence[int | None]) -> Tensor:  # noqa: A002
    """Average pooling to a fixed output size (OH, OW), whatever the input's (H, W).

    Window i along a dim of size n covers [floor(i n / m), ceil((i + 1) n / m)) for m
    outputs; ``None`` in ``output_size`` keeps that input size. ``output_size=1`` is global
    average pooling: ``F.adaptive_avg_pool2d(x, 1)`` has shape (N, C, 1, 1).
    """
    sizes = (output_size,) * 2 if isinstance(output_size, int) else tuple(output_size)
    if len(sizes) != 2 or any(s is not None and s < 0 for s in sizes):
        raise ValueError(
            f"adaptive_avg_pool2d: output_size must be an int or a pair of non-negative ints "
            f"(or None), got {output_size!r}"
        )
    target = tuple(input.shape[-2 + i] if s is None else s for i, s in enumerate(sizes))
    return _unbatched(
        "adaptive_avg_pool2d", input, 2, lambda x: pool_ops.AdaptiveAvgPool2d.apply(x, target)
    )


def batch_norm(
    input: Tensor,  # noqa: A002
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel of input (N, C, *): (x - mean) / sqrt(var + eps) * weight + bias.

    Training: mean and (biased) var of the batch, over every dim but 1; the running
    statistics, when given, move towards them by ``momentum`` (in place, variance unbiased).
    Evaluation: running_mean and running_var are used instead.
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input (N, C, *), got shape {tuple(input.shape)}")
    channels = input.shape[1]
    for name, tensor in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if tensor is not None and tuple(tensor.shape) != (channels,):
            raise RuntimeError(
                f"batch_norm: {name} of shape {tuple(tensor.shape)} must have {channels} "
                f"elements, one per channel of input {tuple(input.shape)}"
            )
    if not training and (running_mean is None or running_var is None):
        raise RuntimeError("batch_norm: running_mean and running_var are needed when not training")
    if training and input.numel() // channels <= 1:
        raise ValueError(
            f"batch_norm: expected more than 1 value per channel when training, got input of "
            f"shape {tuple(input.shape)}; use a larger batch or eval mode"
        )
    return norm_ops.BatchNorm.apply(
        input, running_mean, running_var, weight, bias, training, momentum, eps
    )


def layer_norm(
    input: Tensor,  # noqa: A002
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the last dims ``normalized_shape`` of input (*, *normalized_shape):
    (x - mean) / sqrt(var + eps) * weight + bias, with weight and bias of normalized_shape.

    Example: ``F.layer_norm(torch.tensor([[1., 3.]]), (2,))`` is about [[-1, 1]].
    """
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not shape or tuple(input.shape[input.ndim - len(shape) :]) != shape:
        raise RuntimeError(
            f"layer_norm: input of shape {tuple(input.shape)} must end with normalized_shape "
            f"{shape}; expected input of shape (*, {', '.join(map(str, shape))})"
        )
    for name, tensor in (("weight", weight), ("bias", bias)):
        if tensor is not None and tuple(tensor.shape) != shape:
            raise RuntimeError(
                f"layer_norm: {name} of shape {tuple(tensor.shape)} must have the shape of "
                f"normalized_shape {shape}"
            )
    return norm_ops.LayerNorm.apply(input, weight, bias, len(shape), eps)


PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(
    input: Tensor,  # noqa: A002
    pad: Sequence[int],
    mode: str = "constant",
    value: float | None = None,
) -> Tensor:
    """Pad the last len(pad) / 2 dims of input; ``pad`` lists (before, after) pairs starting
    from the LAST dim: (left, right, top, bottom) pads width then height.

    Modes: 'constant' (``value``, default 0; negative widths crop), 'reflect' (mirror
    without repeating the edge), 'replicate' (repeat the edge), 'circular' (wrap around).
    Example: ``F.pad(torch.ones(1, 2), (1, 1))`` is [[0, 1, 1, 0]].
    """
    if mode not in PAD_MODES:
        raise NotImplementedError(f"pad: unknown mode {mode!r}; use one of {PAD_MODES}")
    if len(pad) % 2 or len(pad) > 2 * input.ndim:
        raise RuntimeError(
            f"pad: pad {tuple(pad)} must hold (before, after) pairs for at most the "
            f"{input.ndim} dims of input {tuple(input.shape)}"
        )
    pairs = [(pad[i], pad[i + 1]) for i in range(0, len(pad), 2)][::-1]  # first dim first
    widths = ((0, 0),) * (input.ndim - len(pairs)) + tuple(pairs)
    if mode == "constant":
        return padding_ops.ConstantPad.apply(input, widths, 0.0 if value is None else value)
    for size, (before, after) in zip(input.shape, widths):
        limit = size if mode == "circular" else size - 1
        if min(before, after) < 0 or max(before, after) > limit:
            raise RuntimeError(
                f"pad: {mode} padding {(before, after)} of a dim of size {size} must be "
                f"between 0 and {limit}; pad less or use mode='constant'"
            )
    return padding_ops.IndexPad.apply(input, widths, mode)


# ---------------------------------------------------------------------- more of torch.nn.functional
def smooth_l1_loss(
    input: Tensor,  # noqa: A002
    target: Tensor,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """Huber-like loss of d = input - target: 0.5 d^2 / beta where |d| < beta, else
    |d| - 0.5 beta. Quadratic near 0 (smooth gradient), linear far away (robust to
    outliers); ``beta=0`` is ``l1_loss``. Example:
    ``F.smooth_l1_loss(torch.tensor([0.5, 3.]), torch.zeros(2))`` is (0.125 + 2.5) / 2.
    """
    input, target = autocast_mode.float32_arguments(input, target)  # noqa: A001
    _check_reduction("smooth_l1_loss", reduction)
    if beta < 0:
        raise RuntimeError(
            f"smooth_l1_loss does not support negative values for beta, got beta={beta}"
        )
    _check_broadcast("smooth_l1_loss", input, target)
    return loss_ops.SmoothL1.apply(input, target, beta, reduction)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Class indices (*) as int64 one-hot vectors (*, num_classes): out[..., tensor[...]] = 1.

    ``num_classes=-1`` takes the largest index plus one. Example:
    ``F.one_hot(torch.tensor([2, 0]), 3)`` is [[0, 0, 1], [1, 0, 0]].
    """
    indices = tensor._data
    if indices.dtype != np.int64:
        raise RuntimeError(
            f"one_hot is only applicable to index tensor of type LongTensor (int64), got "
            f"{tensor.dtype}; convert with tensor.long()"
        )
    if num_classes == -1:
        if indices.size == 0:
            raise RuntimeError("one_hot: can not infer total number of classes from empty tensor")
        num_classes = int(indices.max()) + 1
    if indices.size and indices.min() < 0:
        raise RuntimeError(f"one_hot: class values must be non-negative, got {indices.min()}")
    if indices.size and indices.max() >= num_classes:
        raise RuntimeError(
            f"one_hot: class values must be smaller than num_classes={num_classes}, got "
            f"{indices.max()}"
        )
    return Tensor._from_array((indices[..., None] == np.arange(num_classes)).astype(np.int64))


def normalize(
    input: Tensor,  # noqa: A002
    p: float = 2.0,
    dim: int = 1,
    eps: float = 1e-12,
    out: Tensor | None = None,
) -> Tensor:
    """input / max(||input||_p, eps) along ``dim``: every vector scaled to p-norm 1 (a zero
    vector stays zero). Example: ``F.normalize(torch.tensor([[3., 4.]]))`` is [[0.6, 0.8]].
    """
    if out is not None:
        raise TypeError("normalize: out= is not supported; use the returned tensor")
    ndim = max(input.ndim, 1)
    if not -ndim <= dim < ndim:
        raise IndexError(
            f"normalize: dimension out of range (expected to be in range of [{-ndim}, "
            f"{ndim - 1}], but got {dim})"
        )
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"normalize: expected a floating-point input, got {input.dtype}")
    axis = dim % ndim if input.ndim else None
    return norm_ops.Normalize.apply(input, p, axis, eps)


INTERPOLATE_MODES = {  # mode -> the input dims it accepts (N, C and 1-3 spatial dims)
    "nearest": (3, 4, 5),
    "nearest-exact": (3, 4, 5),
    "linear": (3,),
    "bilinear": (4,),
    "trilinear": (5,),
}


def interpolate(
    input: Tensor,  # noqa: A002
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize input (N, C, *spatial) to ``size`` or by ``scale_factor`` -> (N, C, *size).

    Modes: 'nearest' (copy the pixel at floor(i * in / out)), 'nearest-exact' (the nearest
    centre), 'linear' (3-D), 'bilinear' (4-D), 'trilinear' (5-D): weighted means of the two
    nearest pixels per dim. ``align_corners=True`` maps the corner pixels' centres onto each
    other; otherwise pixels are squares (half-pixel centres). Given ``scale_factor``, the
    output size is floor(in * scale_factor), and the source coordinates use the factor itself
    unless ``recompute_scale_factor=True``. Example:
    ``F.interpolate(x, scale_factor=2, mode='bilinear')`` doubles H and W.
    """
    name = "interpolate"
    spatial = input.ndim - 2
    if mode not in INTERPOLATE_MODES:
        raise NotImplementedError(
            f"{name}: mode {mode!r} is not supported; use one of {tuple(INTERPOLATE_MODES)}"
        )
    if input.ndim not in INTERPOLATE_MODES[mode]:
        raise NotImplementedError(
            f"{name}: got {input.ndim}D input, but {mode} mode needs "
            f"{' or '.join(f'{d}D' for d in INTERPOLATE_MODES[mode])} input (N, C, *spatial)"
        )
    if align_corners is not None and mode.startswith("nearest"):
        raise ValueError(
            f"{name}: align_corners option can only be set with the interpolating modes: "
            f"linear | bilinear | trilinear (got mode {mode!r})"
        )
    if antialias:
        raise NotImplementedError(f"{name}: antialias=True is not supported by tinytorch")
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{name}: only one of size or scale_factor should be defined")
    in_sizes = tuple(input.shape[2:])
    if size is not None:
        out_sizes = _ints(size, spatial, "size", name)
        scales = [i / o for i, o in zip(in_sizes, out_sizes)]
    else:
        factors = (
            (scale_factor,) * spatial
            if isinstance(scale_factor, (int, float))
            else tuple(scale_factor)
        )
        if len(factors) != spatial:
            raise ValueError(
                f"{name}: scale_factor {scale_factor!r} must be one number or {spatial} "
                f"numbers, one per spatial dim of input {tuple(input.shape)}"
            )
        out_sizes = tuple(math.floor(i * f) for i, f in zip(in_sizes, factors))
        scales = [
            i / o if recompute_scale_factor else 1 / f
            for i, o, f in zip(in_sizes, out_sizes, factors)
        ]
    if min(out_sizes) <= 0 or min(in_sizes) <= 0:
        raise ValueError(
            f"{name}: input {tuple(input.shape)} and output sizes {out_sizes} must be positive"
        )
    kind = mode if mode.startswith("nearest") else "linear"
    matrices = [
        interpolation_ops.resize_matrix(i, o, s, kind, bool(align_corners))
        for i, o, s in zip(in_sizes, out_sizes, scales)
    ]
    return interpolation_ops.Resize.apply(input, matrices)


def dropout2d(
    input: Tensor,  # noqa: A002
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
) -> Tensor:
    """Zero whole channels: each (n, c) plane of input (N, C, H, W) with probability ``p``,
    the others scaled by 1 / (1 - p). Neighbouring pixels are correlated, so dropping single
    pixels barely regularises a convolutional net; dropping feature maps does.

    A 3-D input is read as (N, C, L), as PyTorch does today (with its warning).
    """
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim < 2:
        raise RuntimeError(
            f"dropout2d: feature dropout requires at least 2 dimensions in the input, got "
            f"shape {tuple(input.shape)}"
        )
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C "
            "is the channel dim.",
            stacklevel=2,
        )
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0
    keep = rng().random(input.shape[:2] + (1,) * (input.ndim - 2)) >= p
    return input * Tensor._from_array(keep.astype(input._data.dtype) / (1 - p))


def _transpose_geometry(
    op: str,
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None,
    groups: int,
    settings: dict[str, int | Sequence[int]],
    dims: int,
) -> dict[str, tuple[int, ...]]:
    """Check a batched transposed convolution; returns stride, padding, output_padding and
    dilation as ``dims`` ints each."""
    if weight.ndim != dims + 2:
        raise RuntimeError(
            f"{op}: weight must have shape (in_channels, out_channels / groups, *kernel) with "
            f"{dims} kernel dims, got {tuple(weight.shape)}"
        )
    if groups < 1 or weight.shape[0] % groups:
        raise RuntimeError(
            f"{op}: groups={groups} must be positive and divide in_channels, the first "
            f"dimension of weight {tuple(weight.shape)}"
        )
    if input.shape[1] != weight.shape[0]:
        raise RuntimeError(
            f"{op}: input of shape {tuple(input.shape)} has {input.shape[1]} channels but "
            f"weight of shape {tuple(weight.shape)} expects {weight.shape[0]} "
            f"(weight.shape[0]); fix in_channels"
        )
    out_channels = weight.shape[1] * groups
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise RuntimeError(
            f"{op}: bias of shape {tuple(bias.shape)} must have shape ({out_channels},)"
        )
    if input.dtype != weight.dtype:
        raise RuntimeError(
            f"{op}: input is {input.dtype} but weight is {weight.dtype}; convert one of them"
        )
    values = {key: _ints(value, dims, key, op) for key, value in settings.items()}
    if min(values["stride"]) < 1 or min(values["dilation"]) < 1:
        raise RuntimeError(f"{op}: stride and dilation must be positive")
    if min(values["padding"]) < 0 or min(values["output_padding"]) < 0:
        raise RuntimeError(f"{op}: padding and output_padding must be non-negative")
    for extra, step, spread in zip(
        values["output_padding"], values["stride"], values["dilation"], strict=True
    ):
        if extra >= step and extra >= spread:
            raise RuntimeError(
                f"{op}: output padding must be smaller than either stride or dilation, but "
                f"got output_padding={values['output_padding']}, stride={values['stride']}, "
                f"dilation={values['dilation']}"
            )
    kernel = tuple(weight.shape[2:])
    for size, step, crop, extra, spread, k in zip(
        input.shape[2:],
        values["stride"],
        values["padding"],
        values["output_padding"],
        values["dilation"],
        kernel,
    ):
        if (size - 1) * step - 2 * crop + spread * (k - 1) + extra + 1 <= 0:
            raise RuntimeError(
                f"{op}: input of shape {tuple(input.shape)} gives a non-positive output size "
                f"with padding {values['padding']}; use less padding"
            )
    return values


def conv_transpose2d(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    output_padding: int | Sequence[int] = 0,
    groups: int = 1,
    dilation: int | Sequence[int] = 1,
) -> Tensor:
    """2-D transposed convolution ("deconvolution") of input (N, C, H, W) or (C, H, W) with
    weight (C, O / groups, kh, kw), plus bias (O,) -> (N, O, OH, OW),
    OH = (H - 1) sh - 2 ph + dh (kh - 1) + oph + 1 (likewise OW).

    The gradient of ``conv2d`` with respect to its input, used as a layer: each input pixel
    paints a copy of the kernel, scaled by its value, ``stride`` pixels from its neighbour's.
    With stride s it upsamples by s (decoders, GAN generators). Example:
    ``F.conv_transpose2d(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 2, 2), stride=2)`` is a
    (1, 1, 4, 4) tensor of ones.
    """
    input, weight, bias = autocast_mode.cast_arguments(input, weight, bias)  # noqa: A001
    settings = {
        "stride": stride,
        "padding": padding,
        "output_padding": output_padding,
        "dilation": dilation,
    }

    def run(batch: Tensor) -> Tensor:
        geometry = _transpose_geometry("conv_transpose2d", batch, weight, bias, groups, settings, 2)
        return conv_ops.ConvTranspose2d.apply(
            batch,
            weight,
            bias,
            geometry["stride"],
            geometry["padding"],
            geometry["output_padding"],
            geometry["dilation"],
            groups,
        )

    return _unbatched("conv_transpose2d", input, 2, run)


def conv_transpose1d(
    input: Tensor,  # noqa: A002
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    output_padding: int | Sequence[int] = 0,
    groups: int = 1,
    dilation: int | Sequence[int] = 1,
) -> Tensor:
    """1-D transposed convolution of input (N, C, L) or (C, L) with weight (C, O / groups, k)
    -> (N, O, OL), OL = (L - 1) s - 2 p + d (k - 1) + op + 1: the 2-D one on a height-1
    signal."""
    input, weight, bias = autocast_mode.cast_arguments(input, weight, bias)  # noqa: A001
    settings = {
        "stride": stride,
        "padding": padding,
        "output_padding": output_padding,
        "dilation": dilation,
    }

    def run(batch: Tensor) -> Tensor:
        geometry = _transpose_geometry("conv_transpose1d", batch, weight, bias, groups, settings, 1)
        out = conv_ops.ConvTranspose2d.apply(
            batch.unsqueeze(2),
            weight.unsqueeze(2),
            bias,
            (1, *geometry["stride"]),
            (0, *geometry["padding"]),
            (0, *geometry["output_padding"]),
            (1, *geometry["dilation"]),
            groups,
        )
        return out.squeeze(2)  # (N, O, 1, OL) -> (N, O, OL)

    return _unbatched("conv_transpose1d", input, 1, run)
