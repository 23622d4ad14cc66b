"""``RemovableHandle``: what registering a hook returns, so the hook can be taken off again;
``BackwardHook``: how a module's full backward hooks see its gradients.

A module keeps its hooks in ordered dictionaries keyed by a handle id (``_forward_hooks`` and
friends). The handle remembers the id and the dictionaries; ``handle.remove()`` deletes the
entry, and ``with handle:`` removes it when the block ends. Example::

    >>> import tinytorch as torch
    >>> layer = torch.nn.Linear(2, 2)
    >>> handle = layer.register_forward_hook(lambda module, args, output: print("ran"))
    >>> _ = layer(torch.zeros(1, 2))
    ran
    >>> handle.remove()
    >>> _ = layer(torch.zeros(1, 2))
"""

from __future__ import annotations

import itertools
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from tinytorch.autograd.function import Context, Function
from tinytorch.tensor import Tensor

_next_id = itertools.count()


class RemovableHandle:
    """Removes one hook from the dictionaries it was registered in (``remove()``).

    The handle holds the dictionaries weakly, so it does not keep a deleted module alive.
    ``extra_dict`` names further dictionaries keyed by the same id (such as the
    ``with_kwargs`` flags of a hook), cleaned up together.
    """

    def __init__(
        self, hooks_dict: OrderedDict, *, extra_dict: OrderedDict | list[OrderedDict] | None = None
    ) -> None:
        self.id = next(_next_id)
        extras = [] if extra_dict is None else extra_dict
        extras = extras if isinstance(extras, list) else [extras]
        self._dict_refs = [weakref.ref(d) for d in (hooks_dict, *extras)]

    def remove(self) -> None:
        """Take the hook off; removing twice does nothing."""
        for dict_ref in self._dict_refs:
            hooks = dict_ref()
            if hooks is not None:
                hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"<RemovableHandle id={self.id}>"


class BackwardHook:
    """One forward call of a module that has full backward hooks (PyTorch's
    ``torch.utils.hooks.BackwardHook``): collects the gradients of the call's inputs and
    outputs during backward and calls the hooks with them.

    ``Module.__call__`` passes the positional arguments through ``setup_input_hook`` before
    ``forward`` and the output through ``setup_output_hook`` after it. Each tensor among them
    that requires grad is replaced by a *slot*, an identity whose backward stores
    d loss / d tensor here, and all slots of one side consume a single *gather* node. The
    engine runs a node once, after every node that consumed its output has reported, so the
    gather node runs when every slot that backward reaches has stored its gradient.

    * The output side runs first. Backward pre-hooks ``hook(module, grad_output)`` may
      replace grad_output; the gather node then sends it on into the module's own graph.
    * The input side runs once the module's backward is done. Backward hooks
      ``hook(module, grad_input, grad_output)`` may return a replacement grad_input (one entry
      per positional argument), which the gather node sends on to the arguments.

    As in PyTorch, grad_input holds None for the arguments that are not tensors and zeros
    for tensors that got no gradient (unreached, or not requiring grad); grad_output holds
    None for outputs that got none. When no input requires grad, the hooks are called from
    the output side with a grad_input of Nones, and may only return None.
    """

    def __init__(self, module: Any, hooks: list[Callable], pre_hooks: list[Callable]) -> None:
        self.module = module
        self.hooks = hooks  # hook(module, grad_input, grad_output), taken at forward time
        self.pre_hooks = pre_hooks  # hook(module, grad_output)
        self.slot_grads: dict[str, dict[int, np.ndarray]] = {"input": {}, "output": {}}
        self.input_count = 0  # positional arguments, tensors or not
        self.input_positions: list[int] = []  # which of them are tensors
        self.inputs_tracked = False  # whether the input side is part of the graph
        self.output_count = 0
        self.output_positions: list[int] = []
        self.grad_output: tuple = ()

    def setup_input_hook(self, args: tuple) -> tuple:
        """args with each tensor replaced by its slot (unchanged when none requires grad)."""
        self.input_count = len(args)
        self.input_positions = [i for i, arg in enumerate(args) if isinstance(arg, Tensor)]
        slots = self._slots("input", [args[i] for i in self.input_positions])
        self.inputs_tracked = slots is not None
        return args if slots is None else self._replace(args, self.input_positions, slots)

    def setup_output_hook(self, output: Any) -> Any:
        """forward's output (a tensor, or a tuple or list of values) with each tensor replaced
        by its slot."""
        items = tuple(output) if isinstance(output, (tuple, list)) else (output,)
        self.output_count = len(items)
        self.output_positions = [i for i, item in enumerate(items) if isinstance(item, Tensor)]
        slots = self._slots("output", [items[i] for i in self.output_positions])
        if slots is None:
            return output
        items = self._replace(items, self.output_positions, slots)
        if isinstance(output, (tuple, list)):
            return type(output)(items)
        return items[0]

    def _slots(self, side: str, tensors: list[Tensor]) -> list[Tensor] | None:
        """A slot per tensor, all consuming one gather node; None when no tensor requires
        grad (or gradients are off): there is nothing to watch."""
        gather = BackwardHookGather.apply(self, side, *tensors)  # () zero
        if not gather.requires_grad:
            return None
        return [
            BackwardHookSlot.apply(gather, tensor._data, self, side, index)
            if tensor.requires_grad
            else tensor
            for index, tensor in enumerate(tensors)
        ]

    @staticmethod
    def _replace(items: tuple, positions: list[int], new: list[Any]) -> tuple:
        replaced = list(items)
        for position, item in zip(positions, new, strict=True):
            replaced[position] = item
        return tuple(replaced)

    def gathered(self, side: str, count: int, positions: list[int]) -> list[np.ndarray | None]:
        """The gradients the slots of ``side`` stored, one per value (None where none came),
        and forget them, so that another backward through a retained graph starts afresh."""
        stored = self.slot_grads[side]
        self.slot_grads[side] = {}
        grads: list[np.ndarray | None] = [None] * count
        for index, position in enumerate(positions):
            grads[position] = stored.get(index)
        return grads

    def outputs_done(self, grads: list[np.ndarray | None]) -> list[np.ndarray | None]:
        """Called with d loss / d output: run the pre-hooks, keep grad_output for the hooks
        (calling them now if no input is watched); returns the gradients to send on."""
        grad_output = _as_tensors(grads)
        for hook in self.pre_hooks:
            result = hook(self.module, grad_output)
            if result is not None:
                grad_output = _checked_result(hook, result, grad_output, "grad_output")
        self.grad_output = grad_output
        if not self.inputs_tracked and self.hooks:
            warnings.warn(
                "Full backward hook is firing when gradients are computed with respect to "
                "module outputs since no inputs require gradients.",
                stacklevel=2,
            )
            grad_input = (None,) * self.input_count
            for hook in self.hooks:
                result = hook(self.module, grad_input, grad_output)
                if result is not None and any(item is not None for item in result):
                    raise RuntimeError(
                        "Backward hook for Modules where no input requires gradient should "
                        "always return None or None for all gradients."
                    )
        return _as_arrays(grad_output)

    def inputs_done(
        self, grads: list[np.ndarray | None], like: list[tuple]
    ) -> list[np.ndarray | None]:
        """Called with d loss / d input: run the hooks, each of which may replace grad_input;
        returns the gradients to send on to the arguments. ``like`` holds the (shape, dtype)
        of each tensor argument, for the zeros of those that got no gradient."""
        for position, (shape, dtype) in zip(self.input_positions, like, strict=True):
            if grads[position] is None:
                grads[position] = np.zeros(shape, dtype)
        grad_input = _as_tensors(grads)
        for hook in self.hooks:
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                grad_input = _checked_result(hook, result, grad_input, "grad_input")
        return _as_arrays(grad_input)


def _as_tensors(grads: list[np.ndarray | None]) -> tuple:
    return tuple(None if grad is None else Tensor._from_array(grad) for grad in grads)


def _as_arrays(grads: tuple) -> list[np.ndarray | None]:
    """The arrays behind grads, copied: the engine may keep one as a leaf's .grad and add to
    it in place, which must not change a tensor the hook still holds."""
    return [None if grad is None else grad._data.copy() for grad in grads]


def _checked_result(hook: Callable, result: Any, expected: tuple, name: str) -> tuple:
    """A hook's replacement for ``name``: a tuple or list of the same length, each entry
    None or a tensor of the shape it replaces."""
    if not isinstance(result, (tuple, list)) or len(result) != len(expected):
        got = len(result) if isinstance(result, (tuple, list)) else type(result).__name__
        raise RuntimeError(
            f"Backward hook returned an invalid number of {name}, got {got}, but expected "
            f"{len(expected)}: hook {hook!r} must return None or a tuple with one entry (a "
            f"tensor or None) per entry of {name}"
        )
    for position, (new, old) in enumerate(zip(result, expected, strict=True)):
        if new is None:
            continue
        if not isinstance(new, Tensor) or (old is not None and new.shape != old.shape):
            shape = tuple(new.shape) if isinstance(new, Tensor) else type(new).__name__
            raise RuntimeError(
                f"hook {hook!r} returned {shape} for {name}[{position}], which has shape "
                f"{None if old is None else tuple(old.shape)}; return a tensor of that shape"
            )
    return tuple(result)


class BackwardHookGather(Function):
    """The node that all slots of one side of a ``BackwardHook`` consume: a () zero forward;
    backward hands the slots' gradients to the ``BackwardHook`` and sends on what it returns.

    A tensor that requires grad and gets None (unreached, or a hook's choice) is sent zeros:
    the engine runs a node only once all of its consumers have sent a gradient.

    Called as ``BackwardHookGather.apply(backward_hook, side, *tensors)``.
    """

    @staticmethod
    def forward(ctx: Context, backward_hook: BackwardHook, side: str, *arrays: Any) -> np.ndarray:
        ctx.backward_hook, ctx.side = backward_hook, side
        ctx.like = [(array.shape, array.dtype) for array in arrays]  # for zero gradients
        return np.zeros((), dtype=np.float32)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        hook = ctx.backward_hook
        if ctx.side == "output":
            grads = hook.gathered("output", hook.output_count, hook.output_positions)
            grads = hook.outputs_done(grads)
            sent = [grads[position] for position in hook.output_positions]
        else:
            grads = hook.gathered("input", hook.input_count, hook.input_positions)
            grads = hook.inputs_done(grads, ctx.like)
            sent = [grads[position] for position in hook.input_positions]
        needed = ctx.needs_input_grad[2:]
        sent = [
            np.zeros(*like) if grad is None and need else grad
            for grad, like, need in zip(sent, ctx.like, needed, strict=True)
        ]
        return (None, None, *sent)


class BackwardHookSlot(Function):
    """The identity on one watched tensor; backward stores its gradient in the
    ``BackwardHook`` and reports to the gather node (the gradient goes on from there).

    Called as ``BackwardHookSlot.apply(gather, array, backward_hook, side, index)``: the
    watched tensor is passed as its array, so that its gradient takes no other way back.
    """

    @staticmethod
    def forward(
        ctx: Context,
        gather: np.ndarray,
        array: np.ndarray,
        backward_hook: BackwardHook,
        side: str,
        index: int,
    ) -> np.ndarray:
        ctx.backward_hook, ctx.side, ctx.index = backward_hook, side, index
        return array.view()

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        ctx.backward_hook.slot_grads[ctx.side][ctx.index] = grad
        return np.zeros((), dtype=np.float32), None, None, None, None
