"""QuantStub and DeQuantStub: where a model enters and leaves the integer domain.

Before ``convert`` both pass their input through (``prepare`` puts an observer on the
QuantStub's output, which measures the input range); ``convert`` turns them into
``Quantize`` (float -> quint8 with the observed qparams) and ``DeQuantize``.
"""

from __future__ import annotations

from typing import Any

from tinytorch.nn.modules.module import Module
from tinytorch.tensor import Tensor


class QuantStub(Module):
    """Marks where quantization starts; ``qconfig`` may be given here or inherited."""

    def __init__(self, qconfig: Any = None) -> None:
        super().__init__()
        if qconfig is not None:
            self.qconfig = qconfig

    def forward(self, x: Tensor) -> Tensor:
        return x


class DeQuantStub(Module):
    """Marks where quantization ends (back to float32)."""

    def __init__(self, qconfig: Any = None) -> None:
        super().__init__()
        if qconfig is not None:
            self.qconfig = qconfig

    def forward(self, x: Any) -> Any:
        return x
