"""Dynamically quantized modules (``quantize_dynamic`` puts them in a model)."""

from tinytorch.ao.nn.quantized.dynamic.linear import Linear

__all__ = ["Linear"]
