"""``Dropout``: randomly zero activations while training, so units cannot co-adapt."""

from __future__ import annotations

from tinytorch.nn import functional as F
from tinytorch.nn.modules.module import Module
from tinytorch.tensor import Tensor


class Dropout(Module):
    """Zero each element with probability ``p`` in training mode and scale the rest by
    1 / (1 - p); the identity in evaluation mode (``model.eval()``). See ``F.dropout``.

    Example: ``nn.Dropout(0.2).eval()(x)`` is ``x``.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """Zero whole channels of input (N, C, H, W) with probability ``p`` in training mode and
    scale the rest by 1 / (1 - p); see ``F.dropout2d``. Example: ``nn.Dropout2d(0.2)``."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.dropout2d(input, self.p, self.training, self.inplace)
