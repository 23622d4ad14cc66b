"""Dynamically quantized Linear: int8 weights stored, activations quantized per batch.

``quantize_dynamic`` puts it in place of ``nn.Linear``. Nothing is calibrated ahead: each
call measures its input's range, quantizes it to quint8 with those qparams (7 bits,
[0, 127], as PyTorch's x86 kernels use), multiplies integers with int32 accumulation and
returns float32::

    y = sx * sw[o] * sum_k (qx[n, k] - zx) * qw[o, k] + bias[o]

Weights shrink 4x on disk and in memory; the activations' scale always fits the batch.
"""

from __future__ import annotations

import numpy as np

from tinytorch import dtypes, nn
from tinytorch.ao.nn.quantized import functional as qF
from tinytorch.ao.nn.quantized.modules import _WeightedQuantizedModule, quantize_weight
from tinytorch.ao.quantization.observer import calculate_qparams
from tinytorch.qtensor import QuantizedTensor, quantize_per_tensor
from tinytorch.tensor import Tensor

ACTIVATION_RANGE = (0, 127)
"""quint8 with reduce_range, as PyTorch's dynamic Linear on x86."""


class Linear(_WeightedQuantizedModule):
    """Float x (*, I) -> float (*, O) through int8 weights and per-batch quint8 activations."""

    def __init__(self, weight: QuantizedTensor, bias: Tensor | None) -> None:
        super().__init__()
        self.out_features, self.in_features = weight.shape
        self._set_weight(weight, bias)

    @classmethod
    def from_float(cls, module: nn.Linear) -> Linear:
        weight = quantize_weight(module.weight, module.qconfig.weight())
        return cls(weight, module.bias)

    def forward(self, x: Tensor) -> Tensor:
        values = x._data.astype(np.float32, copy=False)
        low, high = ACTIVATION_RANGE
        scale, zero_point = calculate_qparams(
            np.float32(values.min(initial=0)).reshape(1),
            np.float32(values.max(initial=0)).reshape(1),
            low,
            high,
            symmetric=False,
            symmetric_zero_point=0,
        )
        quantized = quantize_per_tensor(
            x.float(), float(scale[0]), int(zero_point[0]), dtypes.quint8
        )
        accumulator, multiplier = qF.linear_accumulate(quantized, self.weight())
        out = accumulator.astype(np.float32) * multiplier
        if self.bias is not None:
            out += self.bias._data
        return Tensor._from_array(out)

    def extra_repr(self) -> str:
        scheme = "per_channel" if self.weight_per_channel else "per_tensor"
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"dtype={self.weight_dtype}, qscheme={scheme}"
        )
