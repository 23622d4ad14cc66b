"""Fully connected layers: ``Linear`` (y = x W^T + b) and ``Identity`` (y = x)."""

from __future__ import annotations

import math
from typing import Any

from tinytorch import dtypes
from tinytorch.creation import empty
from tinytorch.nn import functional as F
from tinytorch.nn import init
from tinytorch.nn.modules.module import Module
from tinytorch.nn.parameter import Parameter
from tinytorch.tensor import Tensor


class Identity(Module):
    """Returns its input unchanged; a placeholder (e.g. to remove a layer). Takes any args."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return input


class Linear(Module):
    """y = x W^T + b: every output is a weighted sum of all inputs, plus a bias.

    Shapes: x (*, in_features) -> y (*, out_features); weight (out_features, in_features),
    bias (out_features,). Initialised as PyTorch does: weight and bias uniform on
    [-1/sqrt(in_features), 1/sqrt(in_features)] (kaiming_uniform_ with a = sqrt(5)).
    Example: ``nn.Linear(3, 2)(torch.ones(5, 3)).shape`` is (5, 2).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: dtypes.dtype | None = None,
    ) -> None:
        super().__init__()
        # BEGIN SOLUTION 03
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()
        # END SOLUTION

    def reset_parameters(self) -> None:
        """Draw fresh weights and bias (PyTorch's default initialisation)."""
        # BEGIN SOLUTION 03
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)
        # END SOLUTION

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )
