"""``Flatten``: merge a range of dimensions into one, e.g. images (N, C, H, W) to (N, C*H*W)."""

from __future__ import annotations

from tinytorch.nn.modules.module import Module
from tinytorch.tensor import Tensor


class Flatten(Module):
    """Flatten dimensions ``start_dim`` to ``end_dim`` (by default all but the batch one).

    Example: ``nn.Flatten()(torch.zeros(32, 1, 28, 28)).shape`` is (32, 784).
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
