"""Gradient checkpointing: trade compute for memory, as ``torch.utils.checkpoint``.

Backward needs the activations that forward saved: for a network of L blocks, memory grows
with L times the activations of one block. ``checkpoint(fn, *args)`` runs ``fn`` without
recording its graph, so nothing inside ``fn`` is kept: only ``args``. In backward it runs
``fn`` again, this time recording, and backpropagates through that fresh graph. Memory for
``fn``'s activations is held during its own backward only; the price is a second forward of
``fn`` (about a third more compute when every block is checkpointed)::

    >>> from tinytorch.utils.checkpoint import checkpoint
    >>> h = checkpoint(block, x, use_reentrant=False)   # same value, same gradients as block(x)

With ``preserve_rng_state=True`` (the default) the recomputation starts from the random state
the first forward started from, so dropout draws the same mask twice and the gradients are
those of the plain run, bit for bit.

Gradients reach ``fn``'s parameters in two ways, as in PyTorch. The recomputed graph's
backward adds them to each parameter's ``.grad`` directly (PyTorch's "reentrant" variant).
The checkpoint's output requires grad when an input does; with ``use_reentrant=False`` it
also does when ``fn`` is a ``Module`` (or a method of one) whose parameters require grad, so
``checkpoint(layer, x)`` trains ``layer`` even where ``x`` needs no gradient.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from tinytorch import random
from tinytorch.autograd.function import Context, Function
from tinytorch.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad
from tinytorch.tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


@contextmanager
def random_state(state: dict[str, Any] | None) -> Iterator[None]:
    """Run a block from the default generator's ``state`` (None: as it is), then restore it."""
    if state is None:
        yield
        return
    bit_generator = random.default_generator.rng.bit_generator
    current = bit_generator.state
    bit_generator.state = state
    try:
        yield
    finally:
        bit_generator.state = current


def as_tensors(arrays: Sequence[Any], requires_grad: Sequence[bool]) -> list[Any]:
    """Wrap each array of ``arrays`` in a leaf tensor (other arguments pass unchanged)."""
    return [
        Tensor._from_array(item, requires_grad=needed) if isinstance(item, np.ndarray) else item
        for item, needed in zip(arrays, requires_grad, strict=True)
    ]


def run_for_output(run: Callable[..., Any], inputs: Sequence[Any], kwargs: dict) -> Tensor:
    """``run(*inputs, **kwargs)``, checked to return one tensor."""
    output = run(*inputs, **kwargs)
    if not isinstance(output, Tensor):
        raise TypeError(
            f"checkpoint: the function must return one Tensor, but it returned "
            f"{type(output).__name__}; checkpoint the part that returns a single tensor"
        )
    return output


class Checkpoint(Function):
    """``run(*inputs)`` computed without its graph, recomputed with it in backward.

    Forward arguments: ``run``, ``rng_state`` (the default generator's state, or None),
    ``kwargs``, ``count`` (how many of the rest are ``run``'s inputs), then the inputs, then
    parameters of ``run`` (passed only so that the output requires grad; their gradients are
    added to ``.grad`` by the recomputed graph's backward).
    """

    @staticmethod
    def forward(ctx: Context, run: Callable, rng_state: Any, kwargs: dict, count: int, *rest):
        inputs = rest[:count]
        with no_grad():
            output = run_for_output(run, as_tensors(inputs, [False] * count), kwargs)
        ctx.run, ctx.rng_state, ctx.kwargs, ctx.count = run, rng_state, kwargs, count
        ctx.input_kinds = [isinstance(item, np.ndarray) for item in inputs]
        ctx.others = [item for item in inputs if not isinstance(item, np.ndarray)]
        ctx.save_for_backward(*(item for item in inputs if isinstance(item, np.ndarray)))
        ctx.parameter_count = len(rest) - count
        return output._data

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> tuple:
        # BEGIN SOLUTION 18
        inputs = restore_inputs(ctx)
        with random_state(ctx.rng_state), enable_grad():
            output = run_for_output(ctx.run, inputs, ctx.kwargs)
        if output.requires_grad:
            output.backward(Tensor._from_array(grad_output))
        input_grads = [
            item.grad._data if isinstance(item, Tensor) and item.grad is not None else None
            for item in inputs
        ]
        return (None, None, None, None, *input_grads, *[None] * ctx.parameter_count)
        # END SOLUTION


def restore_inputs(ctx: Context) -> list[Any]:
    """Fresh leaf tensors holding the saved inputs (requiring grad where the originals did)."""
    arrays, others = iter(ctx.saved_tensors), iter(ctx.others)
    needs = ctx.needs_input_grad[4 : 4 + ctx.count]
    return [
        Tensor._from_array(next(arrays), needed) if is_array else next(others)
        for is_array, needed in zip(ctx.input_kinds, needs, strict=True)
    ]


def module_parameters(function: Callable) -> list[Tensor]:
    """The parameters that require grad of ``function`` if it is a Module or a Module's method
    (or of each such function of a ``Segment``)."""
    from tinytorch.nn import Module

    if isinstance(function, Segment):
        return [parameter for part in function.functions for parameter in module_parameters(part)]
    owner = function if isinstance(function, Module) else getattr(function, "__self__", None)
    if not isinstance(owner, Module):
        return []
    return [parameter for parameter in owner.parameters() if parameter.requires_grad]


def checkpoint(
    function: Callable[..., Tensor],
    *args: Any,
    use_reentrant: bool | None = None,
    preserve_rng_state: bool = True,
    **kwargs: Any,
) -> Tensor:
    """``function(*args, **kwargs)``, keeping only ``args`` for backward and recomputing the rest.

    Returns the same values as ``function(*args, **kwargs)``; backward gives the same
    gradients. ``function`` must return one tensor. With ``use_reentrant=True`` the output
    requires grad only when an input does (PyTorch warns otherwise, and so does this);
    with ``False`` or None, also when ``function`` is a Module with trainable parameters.
    ``preserve_rng_state=False`` skips saving the random state (faster; dropout's
    recomputed mask then differs from the first one). Tensors that need gradients must be
    positional arguments or parameters: a non-leaf tensor that ``function`` reads from a
    closure would be backpropagated through twice.
    """
    if not is_grad_enabled():
        return function(*args, **kwargs)
    for name, value in kwargs.items():
        if isinstance(value, Tensor) and value.requires_grad:
            raise ValueError(
                f"checkpoint: keyword argument {name!r} requires grad; pass tensors that need "
                f"gradients positionally, so that the checkpoint can return their gradients"
            )
    parameters = [] if use_reentrant else module_parameters(function)
    if not parameters and not any(isinstance(a, Tensor) and a.requires_grad for a in args):
        warnings.warn(
            "checkpoint: none of the inputs have requires_grad=True, so gradients will be "
            "None for the parameters the function uses; pass a Module (with "
            "use_reentrant=False) or an input that requires grad",
            UserWarning,
            stacklevel=2,
        )
    state = random.default_generator.rng.bit_generator.state if preserve_rng_state else None
    return Checkpoint.apply(function, state, kwargs, len(args), *args, *parameters)


def checkpoint_sequential(
    functions: Sequence[Callable[[Tensor], Tensor]],
    segments: int,
    input: Tensor,  # noqa: A002 - PyTorch's name
    use_reentrant: bool | None = None,
    preserve_rng_state: bool = True,
) -> Tensor:
    """Run ``functions`` (an ``nn.Sequential`` or a list) in order, in ``segments`` chunks.

    Every chunk but the last is checkpointed: only its input is kept for backward. As in
    PyTorch, each of the first ``segments - 1`` chunks holds ``len(functions) // segments``
    functions and the last chunk holds the rest.
    """
    functions = list(functions)
    if not 0 < segments <= len(functions):
        raise ValueError(
            f"checkpoint_sequential: segments must be between 1 and the number of functions "
            f"({len(functions)}), got {segments}"
        )
    size = len(functions) // segments
    end = 0
    for start in range(0, size * (segments - 1), size):
        end = start + size
        chunk = Segment(functions[start:end])
        input = checkpoint(  # noqa: A001
            chunk, input, use_reentrant=use_reentrant, preserve_rng_state=preserve_rng_state
        )
    return Segment(functions[end:])(input)


class Segment:
    """Some of ``checkpoint_sequential``'s functions, called one after the other."""

    def __init__(self, functions: list[Callable[[Tensor], Tensor]]) -> None:
        self.functions = functions

    def __call__(self, x: Tensor) -> Tensor:
        for function in self.functions:
            x = function(x)
        return x
