"""Fused modules (PyTorch's ``torch.ao.nn.intrinsic``): a layer and the ReLU after it, made
by ``fuse_modules`` so that quantization observes and requantizes once, after the ReLU.

Why fuse: the observer after an unfused Linear sees its negative outputs too and spends
levels on them, which the ReLU then throws away. Observed after the ReLU, the range starts
at 0 and all levels cover values that survive.
"""

from __future__ import annotations

from tinytorch import nn


class LinearReLU(nn.Sequential):
    """Linear followed by ReLU, one unit for quantization."""

    def __init__(self, linear: nn.Linear, relu: nn.ReLU) -> None:
        super().__init__(linear, relu)


class ConvReLU2d(nn.Sequential):
    """Conv2d followed by ReLU, one unit for quantization."""

    def __init__(self, conv: nn.Conv2d, relu: nn.ReLU) -> None:
        super().__init__(conv, relu)


__all__ = ["ConvReLU2d", "LinearReLU"]
