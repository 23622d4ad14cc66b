"""``Parameter``: a tensor that a ``Module`` registers as one of its learnable weights.

Assigning a ``Parameter`` to a module attribute (``self.weight = Parameter(...)``) is how the
module learns that the tensor belongs to it: ``module.parameters()`` then yields it, the
optimizer updates it and ``state_dict()`` saves it. A plain ``Tensor`` attribute is none of
these. Example::

    >>> import tinytorch as torch
    >>> w = torch.nn.Parameter(torch.zeros(2))
    >>> w.requires_grad
    True
"""

from __future__ import annotations

import numpy as np

from tinytorch.tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and is registered by the module holding it.

    ``Parameter(tensor)`` shares ``tensor``'s memory (no copy); ``Parameter()`` is empty.
    """

    __slots__ = ()

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        super().__init__(np.empty(0, np.float32) if data is None else data, requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
