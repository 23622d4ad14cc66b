"""Normalisation layers: ``BatchNorm1d``, ``BatchNorm2d`` (module 09), ``LayerNorm`` (13).

Each standardises activations to mean 0 and variance 1, then applies a learned scale
(``weight``, gamma) and shift (``bias``, beta), which keeps deep networks trainable at
larger learning rates. Batch norm averages over the batch, per channel, and so keeps
running statistics for evaluation; layer norm averages over each sample's features and
behaves the same in training and evaluation. See ``F.batch_norm`` and ``F.layer_norm``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tinytorch import dtypes
from tinytorch.creation import ones, tensor, zeros
from tinytorch.nn import functional as F
from tinytorch.nn.modules.module import Module
from tinytorch.nn.parameter import Parameter
from tinytorch.tensor import Tensor


class _BatchNorm(Module):
    """Batch normalisation over channel dim 1 of the input; subclasses fix the input rank.

    Parameters weight (ones) and bias (zeros) of shape (num_features,) when ``affine``.
    Buffers when ``track_running_stats``: running_mean (zeros), running_var (ones),
    num_batches_tracked. Each training step moves the running statistics by ``momentum``
    towards the batch's; ``momentum=None`` takes the cumulative average over all batches.
    """

    input_ranks: tuple[int, ...] = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: dtypes.dtype | None = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        # BEGIN SOLUTION 09
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        options = {"dtype": dtype, "device": device}
        self.weight = Parameter(ones(num_features, **options)) if affine else None
        self.bias = Parameter(zeros(num_features, **options)) if affine and bias else None
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, **options))
            self.register_buffer("running_var", ones(num_features, **options))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=dtypes.int64))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        # END SOLUTION

    def reset_running_stats(self) -> None:
        """Forget the running statistics: mean 0, variance 1, no batches seen."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if input.ndim not in self.input_ranks:
            ranks = " or ".join(f"{rank}D" for rank in self.input_ranks)
            raise ValueError(
                f"{type(self).__name__}: expected {ranks} input (got {input.ndim}D input of "
                f"shape {tuple(input.shape)})"
            )
        # BEGIN SOLUTION 09
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data += 1
            if self.momentum is None:  # cumulative average: the k-th batch weighs 1 / k
                momentum = 1.0 / int(self.num_batches_tracked.item())
        use_batch_stats = self.training or self.running_mean is None
        return F.batch_norm(
            input,
            self.running_mean if not self.training or self.track_running_stats else None,
            self.running_var if not self.training or self.track_running_stats else None,
            self.weight,
            self.bias,
            use_batch_stats,
            momentum,
            self.eps,
        )
        # END SOLUTION

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None or not self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch norm of (N, C) or (N, C, L) inputs, per channel C. Example:
    ``nn.BatchNorm1d(16)(torch.randn(8, 16))`` has mean ~0, var ~1 in each column."""

    input_ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm of (N, C, H, W) images, per channel C, over N, H and W."""

    input_ranks = (4,)


class LayerNorm(Module):
    """Normalise each sample over its last dims ``normalized_shape``: (*, *normalized_shape).

    weight (ones) and bias (zeros) of shape normalized_shape when ``elementwise_affine``
    (bias only if ``bias``). Example: ``nn.LayerNorm(64)`` for token vectors (B, T, 64).
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: Any = None,
        dtype: dtypes.dtype | None = None,
    ) -> None:
        super().__init__()
        # BEGIN SOLUTION 13
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        self.normalized_shape = tuple(shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        options = {"dtype": dtype, "device": device}
        affine = elementwise_affine
        self.weight = Parameter(ones(*self.normalized_shape, **options)) if affine else None
        use_bias = affine and bias
        self.bias = Parameter(zeros(*self.normalized_shape, **options)) if use_bias else None
        # END SOLUTION

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )
