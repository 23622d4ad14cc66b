"""Convolution layers: ``Conv1d`` and ``Conv2d``, learned filters slid over a signal or image.

A convolution reuses one small kernel at every position, so a layer that sees a whole image
has only out_channels * in_channels / groups * kh * kw weights, and what it learns at one
place it recognises everywhere (translation equivariance). See ``F.conv2d`` for the math.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from tinytorch import dtypes
from tinytorch.creation import empty
from tinytorch.nn import functional as F
from tinytorch.nn import init
from tinytorch.nn.modules.module import Module
from tinytorch.nn.parameter import Parameter
from tinytorch.tensor import Tensor

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def as_tuple(value: int | Sequence[int], dims: int) -> tuple[int, ...]:
    """3 -> (3, 3) for dims = 2; a sequence becomes a tuple."""
    return (value,) * dims if isinstance(value, int) else tuple(value)


class _ConvNd(Module):
    """What Conv1d and Conv2d share: checked settings, parameters, initialisation, repr.

    weight (out_channels, in_channels / groups, *kernel_size), bias (out_channels,).
    Initialised as PyTorch does: weight kaiming_uniform_(a=sqrt(5)), i.e. uniform on
    [-1/sqrt(fan_in), 1/sqrt(fan_in)] with fan_in = in_channels / groups * prod(kernel_size),
    and bias uniform on the same interval.
    """

    dims = 2
    output_padding: tuple[int, ...] = ()
    """Set by the transposed convolutions only."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: str | int | Sequence[int] = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: dtypes.dtype | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must "
                f"be divisible by groups ({groups})"
            )
        if padding_mode not in PADDING_MODES:
            raise ValueError(
                f"{name}: padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}"
            )
        self.stride = as_tuple(stride, self.dims)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"{name}: invalid padding string {padding!r}; use 'same' or 'valid'"
                )
            if padding == "same" and max(self.stride) > 1:
                raise ValueError(
                    f"{name}: padding='same' is not supported for strided convolutions"
                )
        # BEGIN SOLUTION 09
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = as_tuple(kernel_size, self.dims)
        self.padding = padding if isinstance(padding, str) else as_tuple(padding, self.dims)
        self.dilation = as_tuple(dilation, self.dims)
        self.padding_mode = padding_mode
        shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        # END SOLUTION

    def reset_parameters(self) -> None:
        """Draw fresh weights and bias (PyTorch's default initialisation)."""
        # BEGIN SOLUTION 09
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)
        # END SOLUTION

    def _padded(self, input: Tensor) -> tuple[Tensor, str | tuple[int, ...]]:  # noqa: A002
        """For padding_mode other than 'zeros': the input padded by ``F.pad`` and padding 0."""
        if self.padding_mode == "zeros" or self.padding == "valid":
            return input, self.padding
        if self.padding == "same":  # the split of F.conv2d: d (k - 1), the extra one after
            totals = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation)]
            widths = [w for total in reversed(totals) for w in (total // 2, total - total // 2)]
        else:  # F.pad lists (before, after) pairs from the last dim backwards
            widths = [p for p in reversed(self.padding) for _ in range(2)]
        return F.pad(input, widths, mode=self.padding_mode), 0

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * self.dims:
            text += f", padding={self.padding}"
        if any(self.output_padding):
            text += f", output_padding={self.output_padding}"
        if self.dilation != (1,) * self.dims:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv2d(_ConvNd):
    """2-D convolution: input (N, C_in, H, W) -> (N, C_out, OH, OW); see ``F.conv2d``.

    Example: ``nn.Conv2d(1, 6, 5, padding=2)(torch.zeros(8, 1, 28, 28)).shape`` is
    (8, 6, 28, 28).
    """

    dims = 2

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x, padding = self._padded(input)
        return F.conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class Conv1d(_ConvNd):
    """1-D convolution: input (N, C_in, L) -> (N, C_out, OL); see ``F.conv1d``.

    Example: ``nn.Conv1d(4, 8, 3)(torch.zeros(2, 4, 10)).shape`` is (2, 8, 8).
    """

    dims = 1

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x, padding = self._padded(input)
        return F.conv1d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class _ConvTransposeNd(_ConvNd):
    """What ConvTranspose1d and ConvTranspose2d share. weight (in_channels,
    out_channels / groups, *kernel_size): the weight of the convolution it transposes, whose
    input channels are this layer's outputs. Initialised as PyTorch does (fan_in is
    weight.shape[1] * prod(kernel_size)).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] = 0,
        output_padding: int | Sequence[int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | Sequence[int] = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: dtypes.dtype | None = None,
    ) -> None:
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {name}')
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be an int or a tuple of ints, got {padding!r}")
        super().__init__(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
            padding_mode, device, dtype,
        )  # fmt: skip
        self.output_padding = as_tuple(output_padding, self.dims)
        shape = (in_channels, out_channels // groups, *self.kernel_size)
        self.weight = Parameter(empty(*shape, dtype=dtype, device=device))
        self.reset_parameters()

    def _output_padding(self, input: Tensor, output_size: Sequence[int] | None) -> tuple[int, ...]:  # noqa: A002
        """``output_padding``, or what gives the requested ``output_size`` (its last dims)."""
        if output_size is None:
            return self.output_padding
        wanted = tuple(output_size)[-self.dims :]
        smallest = tuple(
            (size - 1) * s - 2 * p + d * (k - 1) + 1
            for size, s, p, d, k in zip(
                input.shape[-self.dims :], self.stride, self.padding, self.dilation,
                self.kernel_size,
            )
        )  # fmt: skip
        extra = tuple(w - low for w, low in zip(wanted, smallest))
        if len(wanted) != self.dims or any(not 0 <= e < s for e, s in zip(extra, self.stride)):
            raise ValueError(
                f"{type(self).__name__}: requested an output size of {tuple(output_size)}, but "
                f"valid sizes range from {smallest} to "
                f"{tuple(low + s - 1 for low, s in zip(smallest, self.stride))} (for an input "
                f"of {tuple(input.shape)})"
            )
        return extra


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution: input (N, C_in, H, W) -> (N, C_out, OH, OW); see
    ``F.conv_transpose2d``. ``output_size`` in ``forward`` picks ``output_padding``.

    Example: ``nn.ConvTranspose2d(8, 4, 2, stride=2)(torch.zeros(1, 8, 7, 7)).shape`` is
    (1, 4, 14, 14).
    """

    dims = 2

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:  # noqa: A002
        return F.conv_transpose2d(
            input, self.weight, self.bias, self.stride, self.padding,
            self._output_padding(input, output_size), self.groups, self.dilation,
        )  # fmt: skip


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution: input (N, C_in, L) -> (N, C_out, OL); see
    ``F.conv_transpose1d``."""

    dims = 1

    def forward(self, input: Tensor, output_size: Sequence[int] | None = None) -> Tensor:  # noqa: A002
        return F.conv_transpose1d(
            input, self.weight, self.bias, self.stride, self.padding,
            self._output_padding(input, output_size), self.groups, self.dilation,
        )  # fmt: skip
