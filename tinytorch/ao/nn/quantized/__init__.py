"""Quantized modules: int8 weights, integer kernels, ``QuantizedTensor`` in and out."""

from tinytorch.ao.nn.quantized import dynamic, functional
from tinytorch.ao.nn.quantized.modules import (
    Conv2d,
    ConvReLU2d,
    DeQuantize,
    Flatten,
    Linear,
    LinearReLU,
    MaxPool2d,
    Quantize,
    ReLU,
)

__all__ = [
    "Conv2d",
    "ConvReLU2d",
    "DeQuantize",
    "Flatten",
    "Linear",
    "LinearReLU",
    "MaxPool2d",
    "Quantize",
    "ReLU",
    "dynamic",
    "functional",
]
