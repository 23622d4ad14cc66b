"""Modules for quantization-aware training: float layers whose weight is fake-quantized.

``prepare_qat`` swaps ``nn.Linear`` / ``nn.Conv2d`` for these. They share the float
module's parameters; each forward uses ``weight_fake_quant(weight)``, so training sees the
int8 rounding of the weights, and the straight-through estimator lets gradients reach the
float weights.
"""

from __future__ import annotations

from tinytorch import nn
from tinytorch.nn import functional as F
from tinytorch.tensor import Tensor


class Linear(nn.Linear):
    """nn.Linear with a fake-quantized weight (``qconfig.weight()`` makes the quantizer)."""

    @classmethod
    def from_float(cls, module: nn.Linear) -> Linear:
        qat = cls.__new__(cls)
        nn.Module.__init__(qat)
        qat.in_features, qat.out_features = module.in_features, module.out_features
        qat.weight, qat.bias = module.weight, module.bias
        qat.qconfig = module.qconfig
        qat.weight_fake_quant = module.qconfig.weight()
        return qat

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.linear(input, self.weight_fake_quant(self.weight), self.bias)


class Conv2d(nn.Conv2d):
    """nn.Conv2d with a fake-quantized weight."""

    @classmethod
    def from_float(cls, module: nn.Conv2d) -> Conv2d:
        qat = cls.__new__(cls)
        nn.Module.__init__(qat)
        for name in (
            "in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation",
            "groups", "padding_mode",
        ):  # fmt: skip
            setattr(qat, name, getattr(module, name))
        qat.weight, qat.bias = module.weight, module.bias
        qat.qconfig = module.qconfig
        qat.weight_fake_quant = module.qconfig.weight()
        return qat

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        x, padding = self._padded(input)
        weight = self.weight_fake_quant(self.weight)
        return F.conv2d(x, weight, self.bias, self.stride, padding, self.dilation, self.groups)
