"""``Module``: the base class of every layer and model.

A module owns three kinds of state, registered when an attribute is assigned:

* parameters (``Parameter``): learnable tensors, yielded by ``parameters()``;
* buffers (``register_buffer``): tensors saved with the model but not learned (running means);
* submodules (``Module``): layers inside the model, so models nest like trees.

Hooks (``register_forward_pre_hook``, ``register_forward_hook``) let other code watch or change
a module's inputs and outputs without editing it: the profiler measures each layer with them
and pruning recomputes a masked weight before each forward. Backward hooks
(``register_full_backward_hook``, ``register_full_backward_pre_hook``) do the same with the
gradients of the inputs and outputs.

Everything else follows from walking that tree: ``parameters()``, ``state_dict()``,
``train()``/``eval()``, ``zero_grad()``, the printed summary. Example::

    >>> import tinytorch as torch
    >>> class TwoLayer(torch.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = torch.nn.Linear(4, 8)
    ...         self.out = torch.nn.Linear(8, 2)
    ...     def forward(self, x):
    ...         return self.out(self.hidden(x).relu())
    >>> [name for name, _ in TwoLayer().named_parameters()]
    ['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from tinytorch import dtypes
from tinytorch.autograd.grad_mode import is_grad_enabled, no_grad
from tinytorch.nn.parameter import Parameter
from tinytorch.tensor import Tensor
from tinytorch.utils.hooks import BackwardHook, RemovableHandle

# Hooks around every module's forward, registered with ``register_module_forward_pre_hook`` and
# ``register_module_forward_hook`` (PyTorch's global hooks): they run before each module's own.
# The FLOP counter tracks which module is running with them.
_global_forward_pre_hooks: OrderedDict[int, Callable] = OrderedDict()
_global_forward_hooks: OrderedDict[int, Callable] = OrderedDict()


def register_module_forward_pre_hook(hook: Callable) -> RemovableHandle:
    """Call ``hook(module, args)`` before the ``forward`` of every module; returns its handle."""
    return Module._add_hook(_global_forward_pre_hooks, OrderedDict(), hook, False, False)


def register_module_forward_hook(hook: Callable) -> RemovableHandle:
    """Call ``hook(module, args, output)`` after the ``forward`` of every module."""
    return Module._add_hook(_global_forward_hooks, OrderedDict(), hook, False, False)


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` returns: the keys it did not find, and those it did not use."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def check_name(kind: str, name: Any) -> None:
    """Reject names that cannot be attributes or state_dict keys."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
    if not name or "." in name:
        raise KeyError(f'{kind} name can\'t be empty or contain ".", got {name!r}')


class Module:
    """Base class of all layers and models: subclass it, assign layers in ``__init__``, and
    define ``forward``. Calling the module (``model(x)``) runs ``forward(x)``."""

    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _non_persistent_buffers: set[str]
    _modules: dict[str, Module | None]
    _forward_pre_hooks: OrderedDict[int, Callable]
    _forward_hooks: OrderedDict[int, Callable]
    _backward_hooks: OrderedDict[int, Callable]
    _backward_pre_hooks: OrderedDict[int, Callable]

    def __init__(self) -> None:
        # BEGIN SOLUTION 03
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", {})
        # END SOLUTION
        for hooks in (
            "_forward_pre_hooks",
            "_forward_pre_hooks_with_kwargs",
            "_forward_hooks",
            "_forward_hooks_with_kwargs",
            "_backward_hooks",
            "_backward_pre_hooks",
        ):
            object.__setattr__(self, hooks, OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run ``forward``, with the forward pre-hooks before it and forward hooks after it."""
        if (
            self._forward_pre_hooks
            or self._forward_hooks
            or self._backward_hooks
            or self._backward_pre_hooks
            or _global_forward_pre_hooks
            or _global_forward_hooks
        ):
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        """``forward`` between its hooks: each pre-hook may replace the inputs, each forward
        hook the output (by returning something other than None). With backward hooks, the
        positional arguments and the output pass through a ``BackwardHook`` that watches
        their gradients."""
        for hook_id, hook in [*_global_forward_pre_hooks.items(), *self._forward_pre_hooks.items()]:
            if self._forward_pre_hooks_with_kwargs.get(hook_id):
                result = hook(self, args, kwargs)
                if result is not None:
                    args, kwargs = self._check_hook_result(hook, result)
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        backward_hook = None
        if (self._backward_hooks or self._backward_pre_hooks) and is_grad_enabled():
            hooks, pre_hooks = self._backward_hooks, self._backward_pre_hooks
            backward_hook = BackwardHook(self, list(hooks.values()), list(pre_hooks.values()))
            args = backward_hook.setup_input_hook(args)
        output = self.forward(*args, **kwargs)
        for hook_id, hook in [*_global_forward_hooks.items(), *self._forward_hooks.items()]:
            if self._forward_hooks_with_kwargs.get(hook_id):
                result = hook(self, args, kwargs, output)
            else:
                result = hook(self, args, output)
            if result is not None:
                output = result
        if backward_hook is not None:
            output = backward_hook.setup_output_hook(output)
        return output

    @staticmethod
    def _check_hook_result(hook: Callable, result: Any) -> tuple[tuple, dict]:
        """A pre-hook registered ``with_kwargs`` returns None or a pair (args, kwargs)."""
        if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict)):
            raise RuntimeError(
                f"forward pre-hook {hook!r} must return None or a tuple of (new_args, "
                f"new_kwargs), but got {type(result).__name__}"
            )
        return tuple(result[0]), result[1]

    # ------------------------------------------------------------------ hooks
    def register_forward_pre_hook(
        self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, args)`` before every ``forward``; returns a handle whose
        ``remove()`` takes it off.

        The hook may return new inputs (a tuple, or a single value wrapped into one). With
        ``with_kwargs=True`` it is called as ``hook(module, args, kwargs)`` and may return
        ``(args, kwargs)``. ``prepend=True`` runs it before the hooks already registered.
        """
        return self._add_hook(
            self._forward_pre_hooks, self._forward_pre_hooks_with_kwargs, hook, prepend, with_kwargs
        )

    def register_forward_hook(
        self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after every ``forward``; returns a handle whose
        ``remove()`` takes it off.

        The hook may return a replacement output. With ``with_kwargs=True`` it is called as
        ``hook(module, args, kwargs, output)``. Example, recording every layer's output shape::

            shapes = {}
            for name, layer in model.named_modules():
                layer.register_forward_hook(
                    lambda module, args, output, name=name: shapes.update({name: output.shape})
                )
        """
        return self._add_hook(
            self._forward_hooks, self._forward_hooks_with_kwargs, hook, prepend, with_kwargs
        )

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` when the gradients of the module's
        inputs have been computed; returns a handle whose ``remove()`` takes it off.

        grad_input has one entry per positional argument of forward (None for non-tensors
        and for inputs that got no gradient), grad_output one per output. The hook may return
        a tuple of the same length, which replaces grad_input in the rest of backward.
        Keyword arguments are not watched. Example, the norm of every layer's input gradient::

            layer.register_full_backward_hook(
                lambda module, grad_input, grad_output: print(grad_input[0].norm())
            )
        """
        return self._add_hook(self._backward_hooks, OrderedDict(), hook, prepend, False)

    def register_full_backward_pre_hook(
        self, hook: Callable, prepend: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` when the gradients of the module's outputs have
        been computed, before the module's own backward; the hook may return a replacement
        grad_output (a tuple of the same length). Returns a removable handle."""
        return self._add_hook(self._backward_pre_hooks, OrderedDict(), hook, prepend, False)

    @staticmethod
    def _add_hook(
        hooks: OrderedDict,
        with_kwargs_flags: OrderedDict,
        hook: Callable,
        prepend: bool,
        with_kwargs: bool,
    ) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"a hook must be callable, got {type(hook).__name__}")
        handle = RemovableHandle(hooks, extra_dict=with_kwargs_flags)
        hooks[handle.id] = hook
        if with_kwargs:
            with_kwargs_flags[handle.id] = True
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        """Register Parameters, Modules and buffers by assignment; set anything else as usual."""
        # BEGIN SOLUTION 03
        if "_parameters" not in self.__dict__ and isinstance(value, (Parameter, Module)):
            raise AttributeError(
                f"cannot assign {type(value).__name__} {name!r} before Module.__init__() "
                f"call; call super().__init__() first in {type(self).__name__}.__init__"
            )
        if isinstance(value, Parameter):
            self._forget(name, keep=self._parameters)
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            self._forget(name, keep=self._modules)
            self._modules[name] = value
        elif name in self.__dict__.get("_parameters", ()):
            self._check_slot("parameter", name, value, Parameter)
            self._parameters[name] = None
        elif name in self.__dict__.get("_modules", ()):
            self._check_slot("module", name, value, Module)
            self._modules[name] = None
        elif name in self.__dict__.get("_buffers", ()):
            self._check_slot("buffer", name, value, Tensor)
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)
        # END SOLUTION

    def __getattr__(self, name: str) -> Any:
        """Find ``name`` among the parameters, buffers and submodules (called only when normal
        attribute lookup fails)."""
        # BEGIN SOLUTION 03
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        # END SOLUTION

    def __delattr__(self, name: str) -> None:
        if not self._forget(name):
            object.__delattr__(self, name)

    def _forget(self, name: str, keep: dict | None = None) -> bool:
        """Remove ``name`` from the registries (except ``keep``, so a replacement keeps its
        place in order) and from the plain attributes; whether it was found."""
        found = False
        for registry in (self._parameters, self._buffers, self._modules, self.__dict__):
            if name in registry and registry is not keep:
                del registry[name]
                found = True
        self._non_persistent_buffers.discard(name)
        return found

    def _check_slot(self, kind: str, name: str, value: Any, expected: type) -> None:
        """A registered parameter/module/buffer name may only be given a new one or None."""
        if value is not None and not isinstance(value, expected):
            raise TypeError(
                f"cannot assign {type(value).__name__} as {kind} {name!r} of "
                f"{type(self).__name__} ({expected.__name__} or None expected)"
            )

    def _check_new_name(self, kind: str, name: Any, registry: Mapping[str, Any]) -> None:
        check_name(kind, name)
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot register a {kind} before Module.__init__() call")
        if hasattr(self, name) and name not in registry:
            raise KeyError(f"attribute {name!r} already exists in {type(self).__name__}")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add ``param`` as parameter ``name`` (None reserves the name, like a missing bias)."""
        self._check_new_name("parameter", name, self._parameters)
        self._check_slot("parameter", name, param, Parameter)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor that is state but not learned; ``persistent=False`` leaves it out of
        ``state_dict``. Example: ``self.register_buffer("running_mean", torch.zeros(4))``."""
        self._check_new_name("buffer", name, self._buffers)
        self._check_slot("buffer", name, tensor, Tensor)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add ``module`` as submodule ``name`` (the same as assigning it as an attribute)."""
        self._check_new_name("module", name, self._modules)
        self._check_slot("module", name, module, Module)
        self._modules[name] = module

    register_module = add_module

    # ------------------------------------------------------------------ walking the tree
    def named_modules(
        self, memo: set[int] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """This module and every module inside it, each with its dotted name ('' for self)."""
        # BEGIN SOLUTION 03
        memo = set() if memo is None else memo
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                child_prefix = f"{prefix}.{name}" if prefix else name
                yield from child.named_modules(memo, child_prefix, remove_duplicate)
        # END SOLUTION

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct submodules, each once, with their attribute names."""
        seen: set[int] = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def _named_members(
        self, registry: str, prefix: str, recurse: bool, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Any]]:
        """Entries of ``registry`` ('_parameters' or '_buffers') of this module (and, with
        ``recurse``, of every submodule), dotted names, each object once when
        ``remove_duplicate`` (a tied weight is yielded under its first name only)."""
        # BEGIN SOLUTION 03
        seen: set[int] = set()
        owners = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for owner_prefix, owner in owners:
            for name, member in getattr(owner, registry).items():
                if member is None or (remove_duplicate and id(member) in seen):
                    continue
                seen.add(id(member))
                yield (f"{owner_prefix}.{name}" if owner_prefix else name), member
        # END SOLUTION

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs, e.g. ('0.weight', ...) in a Sequential."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter of this module and (with ``recurse``) its submodules, each once."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every submodule (children first) and then on self; returns self.
        Typical use: custom weight initialisation, ``model.apply(init_weights)``."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active) on this module and every submodule."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode (dropout off); the same as ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Switch gradient tracking of every parameter on or off (to freeze layers)."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of every parameter: set ``.grad`` to None, or fill it with 0."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad.zero_()

    # ------------------------------------------------------------------ devices and dtypes
    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Convert floating-point parameters and buffers in place to a dtype given as in
        ``Tensor.to`` (``model.to(torch.float64)``); devices other than 'cpu' are refused."""
        # Tensor.to parses the arguments; an empty bool tensor changes only if a dtype is given.
        probe = Tensor._from_array(np.zeros(0, np.bool_))
        converted = probe.to(*args, **kwargs)
        if converted is probe:
            return self
        if not converted.dtype.is_floating_point:
            raise TypeError(
                f"Module.to only accepts floating point dtypes, got {converted.dtype}; "
                f"convert the input tensors instead"
            )
        self._convert_floats(converted.dtype)
        return self

    def _convert_floats(self, dtype: dtypes.dtype) -> None:
        """Give every floating-point parameter, gradient and buffer the dtype ``dtype``."""
        numpy_dtype = dtype.numpy_dtype
        for tensor in (*self.parameters(), *self.buffers()):
            if tensor._data.dtype.kind == "f":
                tensor._data = tensor._data.astype(numpy_dtype)
                if tensor.grad is not None:
                    tensor.grad._data = tensor.grad._data.astype(numpy_dtype)

    def cpu(self) -> Module:
        return self

    def float(self) -> Module:
        self._convert_floats(dtypes.float32)
        return self

    def double(self) -> Module:
        self._convert_floats(dtypes.float64)
        return self

    # ------------------------------------------------------------------ saving and loading
    def state_dict(
        self,
        destination: dict[str, Tensor] | None = None,
        prefix: str = "",
        keep_vars: bool = False,
    ) -> dict[str, Tensor]:
        """Every parameter and persistent buffer by dotted name, in registration order.

        The tensors share memory with the module but are detached from the graph (unless
        ``keep_vars``). Save it, and restore it later with ``load_state_dict``.
        """
        # BEGIN SOLUTION 03
        destination = OrderedDict() if destination is None else destination
        for module_prefix, module in self.named_modules(prefix=prefix, remove_duplicate=False):
            dot = f"{module_prefix}." if module_prefix else ""
            entries = [*module._parameters.items()] + [
                (name, buffer)
                for name, buffer in module._buffers.items()
                if name not in module._non_persistent_buffers
            ]
            for name, tensor in entries:
                if tensor is not None:
                    destination[dot + name] = tensor if keep_vars else tensor.detach()
        return destination
        # END SOLUTION

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> IncompatibleKeys:
        """Copy the tensors of ``state_dict`` into this module's parameters and buffers.

        Raises ``RuntimeError``, changing nothing, if a shape differs or (with ``strict``) a
        key is missing or unexpected. Returns the missing and unexpected keys.
        ``assign=True`` puts the given tensors in place instead of copying their values.
        """
        # BEGIN SOLUTION 03
        own = self.state_dict(keep_vars=True)
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        problems = [
            f"size mismatch for {key}: copying a param with shape {tuple(value.shape)} from "
            f"checkpoint, the shape in current model is {tuple(own[key].shape)}."
            for key, value in state_dict.items()
            if key in own and tuple(value.shape) != tuple(own[key].shape)
        ]
        if strict and unexpected:
            problems.append(f"Unexpected key(s) in state_dict: {', '.join(map(repr, unexpected))}.")
        if strict and missing:
            problems.append(f"Missing key(s) in state_dict: {', '.join(map(repr, missing))}.")
        if problems:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(problems)
            )
        with no_grad():
            for key, value in state_dict.items():
                if key in own:
                    self._load_entry(key, own[key], value, assign)
        return IncompatibleKeys(missing, unexpected)
        # END SOLUTION

    def _load_entry(self, key: str, current: Tensor, value: Any, assign: bool) -> None:
        """Copy ``value`` into the tensor at dotted ``key`` (or put it there with ``assign``)."""
        if not assign:
            current.copy_(value)
            return
        *path, name = key.split(".")
        owner = self.get_submodule(".".join(path))
        if name in owner._parameters:
            value = Parameter(value, requires_grad=current.requires_grad)
        setattr(owner, name, value)

    def get_submodule(self, target: str) -> Module:
        """The submodule at dotted path ``target`` ('' is self), e.g. ``'encoder.0'``."""
        module = self
        for name in target.split(".") if target else []:
            child = module._modules.get(name)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no submodule {name!r}")
            module = child
        return module

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The text inside this module's parentheses when printed; subclasses override it."""
        return ""

    def __repr__(self) -> str:
        """``Name(extra)`` or, with submodules, one indented ``(name): child`` line each."""
        lines = [
            f"({name}): " + repr(child).replace("\n", "\n  ")
            for name, child in self._modules.items()
        ]
        if not lines:
            return f"{type(self).__name__}({self.extra_repr()})"
        extra = self.extra_repr().split("\n") if self.extra_repr() else []
        body = "\n  ".join(extra + lines)
        return f"{type(self).__name__}(\n  {body}\n)"
