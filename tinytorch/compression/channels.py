"""Channel pruning that makes the model smaller: remove whole output channels (filters of a
``Conv2d``, neurons of a ``Linear``) and the matching input channels of the next layer.

Masked pruning (``nn.utils.prune``) keeps every weight and multiplies some by 0, so a forward
pass costs exactly as much as before. Removing a channel instead shrinks two weight matrices:
a ``Conv2d(6, 16, 5)`` followed by ``Conv2d(16, 32, 5)`` that loses 8 of its 16 filters becomes
``Conv2d(6, 8, 5)`` and ``Conv2d(8, 32, 5)``: half the multiply-adds of both, for real.

Which channels: those of smallest L1 norm ||W[c]||_1 (the sum of |w| over the filter), the
same ranking as ``prune.ln_structured(layer, "weight", amount, n=1, dim=0)``. A removed
channel's output is gone, bias included, so the smaller model computes exactly what the masked
model computes when the bias of each pruned channel is masked too (tests check this).

    >>> from tinytorch.models import lenet5
    >>> from tinytorch.compression import prune_channels
    >>> small = prune_channels(lenet5(28), amount=0.5)
    >>> small[3]
    Conv2d(3, 8, kernel_size=(5, 5), stride=(1, 1))
"""

from __future__ import annotations

import copy

import numpy as np

from tinytorch import nn
from tinytorch.nn.parameter import Parameter

PRUNABLE = (nn.Linear, nn.Conv2d)
"""Layers whose output channels can be removed."""

PASS_THROUGH = (nn.ReLU, nn.GELU, nn.Tanh, nn.Sigmoid, nn.MaxPool2d, nn.AvgPool2d, nn.Dropout)
"""Layers between two prunable ones that work channel by channel, so they need no change."""


def channels_to_keep(weight: np.ndarray, amount: float) -> np.ndarray:
    """Indices (ascending) of the output channels of ``weight`` (out, ...) with the largest L1
    norms, after removing round(amount * out) of them (at least one channel stays)."""
    # BEGIN SOLUTION 16
    out_channels = weight.shape[0]
    keep = max(1, out_channels - round(amount * out_channels))
    norms = np.abs(weight).reshape(out_channels, -1).sum(axis=1)
    return np.sort(np.argsort(-norms, kind="stable")[:keep])
    # END SOLUTION


def shrink(
    layer: nn.Module, out_keep: np.ndarray | None = None, in_keep: np.ndarray | None = None
) -> nn.Module:
    """A copy of a ``Linear`` or ``Conv2d`` with only the output channels ``out_keep`` and the
    input channels ``in_keep`` (None keeps them all)."""
    # BEGIN SOLUTION 16
    small = copy.deepcopy(layer)
    weight = layer.weight.detach().numpy()
    if out_keep is not None:
        weight = weight[out_keep]
        if layer.bias is not None:
            small.bias = Parameter(layer.bias.detach()[out_keep].clone())
    if in_keep is not None:
        weight = weight[:, in_keep]
    small.weight = Parameter(weight.copy())
    # END SOLUTION
    sizes = ("out_features", "in_features") if isinstance(layer, nn.Linear) else None
    out_name, in_name = sizes or ("out_channels", "in_channels")
    setattr(small, out_name, weight.shape[0])
    setattr(small, in_name, weight.shape[1])
    return small


def flattened_inputs(channels: np.ndarray, per_channel: int) -> np.ndarray:
    """After ``Flatten`` of (N, C, H, W), channel c is the features c*H*W .. (c+1)*H*W - 1:
    the feature indices of ``channels``, with ``per_channel`` = H*W features each."""
    return (channels[:, None] * per_channel + np.arange(per_channel)).reshape(-1)


def prune_channels(model: nn.Sequential, amount: float) -> nn.Sequential:
    """A smaller copy of ``model`` with round(amount * C) output channels of every ``Linear``
    and ``Conv2d`` but the last removed (lowest L1 norm first), and the next layer's matching
    inputs removed with them.

    Between two prunable layers only channel-wise layers (ReLU, pooling, dropout), ``Flatten``
    and ``BatchNorm`` may appear. The last prunable layer keeps its outputs: they are the
    model's outputs (the classes).
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"prune_channels: expected an nn.Sequential, got {type(model).__name__}")
    if not 0.0 <= amount < 1.0:
        raise ValueError(f"prune_channels: amount must be in [0, 1), got {amount}")
    layers = list(model)
    last = max((j for j, layer in enumerate(layers) if isinstance(layer, PRUNABLE)), default=-1)
    kept: np.ndarray | None = None  # output channels kept by the previous prunable layer
    channels = 0  # how many output channels that layer had
    for j, layer in enumerate(layers):
        if isinstance(layer, PRUNABLE):
            if getattr(layer, "groups", 1) != 1:
                raise ValueError(f"prune_channels: layer {j} is a grouped convolution")
            in_keep = kept
            if kept is not None and layer.weight.shape[1] != channels:  # a Flatten between
                in_keep = flattened_inputs(kept, layer.weight.shape[1] // channels)
            weight = layer.weight.detach().numpy()
            out_keep = None if j == last else channels_to_keep(weight, amount)
            layers[j] = shrink(layer, out_keep, in_keep)
            kept, channels = out_keep, weight.shape[0]
        elif isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
            layers[j] = _shrink_batch_norm(layer, kept)
        elif kept is not None and not isinstance(layer, (*PASS_THROUGH, nn.Flatten)):
            raise TypeError(
                f"prune_channels: cannot prune through layer {j} ({type(layer).__name__}); "
                f"only Linear, Conv2d, Flatten, BatchNorm and channel-wise layers are supported"
            )
    return nn.Sequential(*layers)


def _shrink_batch_norm(layer: nn.Module, kept: np.ndarray | None) -> nn.Module:
    """A copy of a batch norm with the statistics and affine parameters of ``kept`` only."""
    small = copy.deepcopy(layer)
    if kept is None:
        return small
    for name in ("weight", "bias"):
        if getattr(layer, name) is not None:
            setattr(small, name, Parameter(getattr(layer, name).detach()[kept].clone()))
    for name in ("running_mean", "running_var"):
        if getattr(layer, name) is not None:
            setattr(small, name, getattr(layer, name)[kept].clone())
    small.num_features = len(kept)
    return small
