"""``Optimizer``: what every optimizer shares (module 06).

An optimizer updates parameters from their gradients. It keeps them in *parameter groups*: a
list of dicts, each with a ``"params"`` list and its own hyperparameters; a group takes from
the optimizer's ``defaults`` every option it does not set. Per-parameter memory (momentum,
running averages) lives in ``state[param]``, one dict per parameter::

    >>> opt = tinytorch.optim.SGD([
    ...     {"params": model.body.parameters()},
    ...     {"params": model.head.parameters(), "lr": 1e-3},   # this group's own lr
    ... ], lr=1e-2, momentum=0.9)

The base class runs the loop over groups and parameters; a subclass writes only ``_update``,
the rule for one parameter. Updates change ``param._data`` in place with NumPy operations and
reuse arrays (``out=``, ``*=``), so a step allocates as few temporaries as possible.

``state_dict()`` has PyTorch's layout: parameters are named by their position in the groups,
so the state of one model's optimizer loads into the optimizer of a fresh copy::

    {"state": {0: {"momentum_buffer": tensor}, ...},
     "param_groups": [{"lr": 0.01, "momentum": 0.9, ..., "params": [0, 1]}, ...]}
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from tinytorch.autograd.grad_mode import enable_grad
from tinytorch.tensor import Tensor

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]


def check_non_negative(value: float, name: str) -> None:
    """Raise PyTorch's ``ValueError("Invalid <name>: <value>")`` unless ``value >= 0``."""
    if not value >= 0.0:  # written this way so that NaN fails too
        raise ValueError(f"Invalid {name}: {value}")


class Optimizer:
    """Base class of optimizers: parameter groups, per-parameter state, the update loop.

    Args:
        params: an iterable of tensors, or of dicts that each hold ``"params"`` (tensors) and
            options that override ``defaults`` for that group.
        defaults: the options of every group that does not set its own.
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                "dicts, but got a Tensor; wrap it in a list: [tensor]"
            )
        self._check_hyperparameters(defaults)
        self.defaults = dict(defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (``{"params": [...], "lr": ...}``) to optimize.

        Options the group does not set are taken from ``defaults``. Useful to unfreeze layers
        during fine-tuning: ``opt.add_param_group({"params": head.parameters(), "lr": 1e-4})``.
        """
        if not isinstance(param_group, dict) or "params" not in param_group:
            raise TypeError("a param group must be a dict with a 'params' entry")
        params = param_group["params"]
        if isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        params = [params] if isinstance(params, Tensor) else list(params)
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is "
                    f"{type(param).__name__}"
                )
            if param.grad_fn is not None:
                raise ValueError("can't optimize a non-leaf Tensor")
        if len({id(param) for param in params}) != len(params):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; they will be "
                "updated more than once per step",
                stacklevel=3,
            )
        already_optimized = {id(param) for param in self._params()}
        if any(id(param) in already_optimized for param in params):
            raise ValueError("some parameters appear in more than one parameter group")
        group = {**self.defaults, **param_group, "params": params}
        self._check_hyperparameters(group)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients: drop them (``None``, the default) or fill them with zeros."""
        for param in self._params():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad._data.fill(0)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient, using its group's options.

        ``closure``, if given, re-evaluates the model and returns the loss (with gradients on);
        ``step`` returns that loss, or ``None`` without a closure.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is not None:
                    self._update(param, self.state[param], group)
                    param._version_counter.value += 1  # an in-place write, as PyTorch counts
        return loss

    def _update(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Update ``param._data`` in place from ``param.grad``; each optimizer defines it."""
        raise NotImplementedError(f"{type(self).__name__} must define _update")

    def _check_hyperparameters(self, options: dict[str, Any]) -> None:
        """Raise ``ValueError`` for invalid options (of ``defaults`` or of a new group)."""

    @staticmethod
    def _gradient(param: Tensor, maximize: bool, weight_decay: float) -> np.ndarray:
        """The gradient to follow: ``g = ±grad + weight_decay * param`` (``-`` to maximize).

        ``weight_decay`` adds the gradient of the L2 penalty ``weight_decay / 2 * |param|^2``.
        Without either option this is ``param.grad``'s own array: read it, never write to it.
        """
        # BEGIN SOLUTION 06
        grad = param.grad._data
        if weight_decay == 0:
            return np.negative(grad) if maximize else grad
        decayed = np.multiply(param._data, weight_decay)
        if maximize:
            return np.subtract(decayed, grad, out=decayed)
        return np.add(decayed, grad, out=decayed)
        # END SOLUTION

    def _params(self) -> Iterable[Tensor]:
        """Every parameter of every group, in order."""
        for group in self.param_groups:
            yield from group["params"]

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state and options, with parameters replaced by their index.

        The state tensors are the optimizer's own (not copies): save them before stepping on.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            for param in group["params"]:
                index.setdefault(id(param), len(index))
            saved = {key: value for key, value in group.items() if key != "params"}
            saved["params"] = [index[id(param)] for param in group["params"]]
            groups.append(saved)
        state = {index[id(param)]: dict(values) for param, values in self.state.items() if values}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore options and state saved by ``state_dict`` (from an optimizer of the same
        class over the same parameter shapes). State tensors are copied to each parameter's
        dtype. Raises ``ValueError`` naming the mismatch before changing anything.
        """
        if not isinstance(state_dict, dict) or {"state", "param_groups"} - state_dict.keys():
            raise ValueError("an optimizer state_dict is a dict with 'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter groups, but the "
                f"optimizer has {len(self.param_groups)}"
            )
        param_at: dict[int, Tensor] = {}
        for number, (group, saved) in enumerate(zip(self.param_groups, saved_groups, strict=True)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group ({number}) of "
                    f"{len(saved['params'])} parameters that doesn't match the size of the "
                    f"optimizer's group ({len(group['params'])} parameters)"
                )
            missing = sorted(self.defaults.keys() - saved.keys())
            if missing:
                raise ValueError(
                    f"loaded parameter group {number} lacks the options {missing} of "
                    f"{type(self).__name__}; was it saved from another optimizer?"
                )
            param_at.update(zip(saved["params"], group["params"], strict=True))
        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for index, values in state_dict["state"].items():
            if index not in param_at:
                raise ValueError(f"loaded state dict has state for unknown parameter {index}")
            param = param_at[index]
            state[param] = {
                key: _copy_state(value, param, key, index) for key, value in values.items()
            }
        self.state = state
        self.param_groups = [
            {**saved, "params": group["params"]}
            for group, saved in zip(self.param_groups, saved_groups, strict=True)
        ]

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for number, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {number}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join(lines + [")"])


def _copy_state(value: Any, param: Tensor, key: str, index: int) -> Any:
    """A copy of one loaded state value; a tensor must be shaped like its parameter."""
    if not isinstance(value, Tensor):
        return value
    if value._data.ndim and value._data.shape != param._data.shape:
        raise ValueError(
            f"loaded state '{key}' of parameter {index} has shape {value._data.shape}, but "
            f"the parameter has shape {param._data.shape}"
        )
    return Tensor._from_array(np.array(value._data, dtype=param._data.dtype))
