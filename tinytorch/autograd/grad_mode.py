"""Switching gradient recording on and off: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

One global flag decides whether ``Function.apply`` records the graph. Evaluation loops and
optimizer updates turn it off, so they build no graph and keep no activations alive::

    >>> import tinytorch as torch
    >>> w = torch.ones(3, requires_grad=True)
    >>> with torch.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])

_grad_enabled = True


def is_grad_enabled() -> bool:
    """Whether operations on tensors that require grad are recorded for backward."""
    return _grad_enabled


class _GradModeContext:
    """A context manager and function decorator that runs its body with recording ``mode``."""

    mode: bool

    def __enter__(self) -> None:
        global _grad_enabled
        self.previous = _grad_enabled
        _grad_enabled = self.mode

    def __exit__(self, *exc_info: object) -> None:
        global _grad_enabled
        _grad_enabled = self.previous

    def __call__(self, function: _F) -> _F:
        mode = self.mode

        @functools.wraps(function)
        def run_in_mode(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return function(*args, **kwargs)

        return run_in_mode  # type: ignore[return-value]


class _FixedModeContext(_GradModeContext):
    """A grad-mode context that takes no argument, so it also decorates without parentheses:
    ``@no_grad`` is the same as ``@no_grad()``."""

    def __new__(cls, function: _F | None = None) -> Any:
        context = super().__new__(cls)
        return context if function is None else context(function)


class no_grad(_FixedModeContext):  # noqa: N801 - PyTorch's name
    """Run a block (or a decorated function) without recording the graph."""

    mode = False


class enable_grad(_FixedModeContext):  # noqa: N801 - PyTorch's name
    """Run a block (or a decorated function) with recording on, even inside ``no_grad``."""

    mode = True


class set_grad_enabled(_GradModeContext):  # noqa: N801 - PyTorch's name
    """Set gradient recording on or off: as a call, a context manager or a decorator.

    ``set_grad_enabled(False)`` takes effect at once; used with ``with`` it restores the
    previous mode on exit. Used as ``@set_grad_enabled(False)``, it leaves the mode as it was
    and applies it only while the decorated function runs.
    """

    def __init__(self, mode: bool) -> None:
        global _grad_enabled
        self.mode = bool(mode)
        self.previous = _grad_enabled
        _grad_enabled = self.mode

    def __enter__(self) -> None:
        return None  # the mode was set when this object was made

    def __call__(self, function: _F) -> _F:
        global _grad_enabled
        _grad_enabled = self.previous  # decorating must not change the mode
        return super().__call__(function)


class inference_mode(_GradModeContext):  # noqa: N801 - PyTorch's name
    """Run a block (or a decorated function) for inference: no graph is recorded.

    tinytorch has no separate inference tensors, so this is ``no_grad`` under PyTorch's name;
    ``inference_mode(False)`` leaves recording as it is. Works as ``with inference_mode():``,
    ``@inference_mode()`` and ``@inference_mode``.
    """

    def __new__(cls, mode: Any = True) -> Any:
        context = super().__new__(cls)
        if callable(mode):  # used as a decorator without parentheses
            context.__init__(True)
            return context(mode)
        return context

    def __init__(self, mode: bool = True) -> None:
        self.inference = bool(mode)

    def __enter__(self) -> None:
        self.mode = _grad_enabled and not self.inference
        super().__enter__()

    def __call__(self, function: _F) -> _F:
        inference = self.inference

        @functools.wraps(function)
        def run_in_mode(*args: Any, **kwargs: Any) -> Any:
            with inference_mode(inference):
                return function(*args, **kwargs)

        return run_in_mode  # type: ignore[return-value]
