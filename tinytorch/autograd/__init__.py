"""Automatic differentiation: ``Function``, the backward engine, grad modes, ``gradcheck``."""

from tinytorch.autograd.function import Context, Function
from tinytorch.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from tinytorch.autograd.gradcheck import GradcheckError, gradcheck

__all__ = [
    "Context",
    "Function",
    "GradcheckError",
    "gradcheck",
    "enable_grad",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
]
