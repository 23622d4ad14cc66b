"""Pooling layers: shrink feature maps by summarising windows (max or mean).

Pooling has no parameters. It halves (typically) the height and width, so later layers see
a larger part of the image for the same cost, and it makes features tolerant of small
shifts. See ``F.max_pool2d``, ``F.avg_pool2d`` and ``F.adaptive_avg_pool2d``.
"""

from __future__ import annotations

from collections.abc import Sequence

from tinytorch.nn import functional as F
from tinytorch.nn.modules.module import Module
from tinytorch.tensor import Tensor

Size = int | Sequence[int]


class MaxPool2d(Module):
    """The maximum of each window: (N, C, H, W) -> (N, C, OH, OW); stride defaults to
    kernel_size. Example: ``nn.MaxPool2d(2)(torch.zeros(1, 3, 28, 28)).shape`` is
    (1, 3, 14, 14)."""

    def __init__(
        self,
        kernel_size: Size,
        stride: Size | None = None,
        padding: Size = 0,
        dilation: Size = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input: Tensor) -> Tensor | tuple[Tensor, Tensor]:  # noqa: A002
        return F.max_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(Module):
    """The mean of each window: (N, C, H, W) -> (N, C, OH, OW); stride defaults to
    kernel_size."""

    def __init__(
        self,
        kernel_size: Size,
        stride: Size | None = None,
        padding: Size = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.avg_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size, whatever the input size:
    (N, C, H, W) -> (N, C, *output_size). ``nn.AdaptiveAvgPool2d(1)`` is global average
    pooling."""

    def __init__(self, output_size: int | Sequence[int | None]) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
