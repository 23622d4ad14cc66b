"""Quantization-aware-training modules (``prepare_qat`` puts them in a model)."""

from tinytorch.ao.nn.qat.modules import Conv2d, Linear

__all__ = ["Conv2d", "Linear"]
