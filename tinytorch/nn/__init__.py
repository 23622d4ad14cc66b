"""Neural-network building blocks, as in ``torch.nn``: layers (``Module`` and its subclasses),
``Parameter``, the stateless ``functional`` forms, weight ``init`` and ``utils``.

    >>> import tinytorch as torch
    >>> from tinytorch import nn
    >>> model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
"""

from tinytorch.nn import functional, init, utils
from tinytorch.nn.modules import *  # noqa: F403 - every layer, as torch.nn exports them
from tinytorch.nn.modules import __all__ as _modules_all
from tinytorch.nn.parameter import Parameter

__all__ = ["Parameter", "functional", "init", "utils", *_modules_all]
