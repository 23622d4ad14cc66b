"""Pruning: zero out the least important weights with a mask, as ``torch.nn.utils.prune``.

Pruning parameter ``name`` of a module reparametrises it:

* the parameter moves to ``name + "_orig"`` (still learned, still in ``parameters()``);
* a buffer ``name + "_mask"`` holds 1 for weights kept and 0 for weights pruned;
* ``module.name`` becomes a plain tensor ``orig * mask``, recomputed by a forward pre-hook
  (the pruning method object itself, in ``module._forward_pre_hooks``) before every forward.

Because ``weight = orig * mask`` is recorded by autograd, d loss / d orig = d loss / d weight *
mask: pruned weights get zero gradient and stay pruned while the model is fine-tuned. The
state_dict keys are PyTorch's (``weight_orig``, ``weight_mask``). Pruning twice composes the
masks (a ``PruningContainer``): the second ``amount`` is a fraction of the weights still kept.
``remove`` makes the pruning permanent: ``weight`` is a parameter again, holding the zeros.

    >>> import tinytorch as torch
    >>> from tinytorch.nn.utils import prune
    >>> layer = torch.nn.Linear(4, 3)
    >>> prune.l1_unstructured(layer, "weight", amount=0.5)  # the 6 smallest |w| become 0
    Linear(in_features=4, out_features=3, bias=True)
    >>> int(layer.weight_mask.sum())
    6

``amount`` is a fraction in [0, 1] of the units (rounded to the nearest integer, as Python's
``round`` does) or an int count of units.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from tinytorch.autograd.grad_mode import no_grad
from tinytorch.nn.modules.module import Module
from tinytorch.random import rng
from tinytorch.tensor import Tensor

Amount = int | float


# ---------------------------------------------------------------------- amounts
def check_amount(amount: Any) -> None:
    """An amount is a float in [0, 1] or a non-negative int (PyTorch's messages)."""
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    is_int = isinstance(amount, numbers.Integral)
    if (is_int and amount < 0) or (not is_int and not 0.0 <= float(amount) <= 1.0):
        raise ValueError(
            f"amount={amount} should either be a float in the range [0, 1] or a "
            f"non-negative integer"
        )


def units_to_prune(amount: Amount, units: int) -> int:
    """How many of ``units`` to prune: ``amount`` itself if an int, else round(amount * units)."""
    if isinstance(amount, numbers.Integral):
        if amount > units:
            raise ValueError(
                f"amount={amount} should be smaller than the number of parameters to prune={units}"
            )
        return int(amount)
    return round(amount * units)


def check_structured(t: Tensor) -> None:
    """Structured pruning removes slices, so the tensor needs at least two dimensions."""
    if t.ndim <= 1:
        raise ValueError(
            f"Structured pruning can only be applied to multidimensional tensors. Found "
            f"tensor of shape {tuple(t.shape)} with {t.ndim} dims"
        )


def channel_mask(shape: tuple[int, ...], dim: int, kept: np.ndarray) -> np.ndarray:
    """A 0/1 mask of ``shape`` that keeps the slices ``kept`` (indices) along ``dim``."""
    mask = np.zeros(shape)
    index: list[Any] = [slice(None)] * len(shape)
    index[dim] = kept
    mask[tuple(index)] = 1
    return mask


def _as_mask(values: np.ndarray, like: Tensor) -> Tensor:
    return Tensor._from_array(values.astype(like._data.dtype))


# ---------------------------------------------------------------------- methods
class BasePruningMethod:
    """A way to choose a mask; subclasses define ``PRUNING_TYPE`` and ``compute_mask``.

    ``PRUNING_TYPE`` tells a ``PruningContainer`` how to compose masks: ``"unstructured"``
    (prunes single weights), ``"structured"`` (whole slices along ``self.dim``) or
    ``"global"`` (the mask is given for the whole tensor).
    """

    PRUNING_TYPE: str = "unstructured"
    _tensor_name: str

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The new mask for ``t`` (same shape), given the mask it already has."""
        raise NotImplementedError(f"{type(self).__name__} must define compute_mask")

    def __call__(self, module: Module, inputs: Any) -> None:
        """The forward pre-hook: recompute ``module.name = orig * mask`` before the forward."""
        setattr(module, self._tensor_name, self.apply_mask(module))

    def apply_mask(self, module: Module) -> Tensor:
        """``orig * mask`` for the parameter this method prunes (recorded by autograd)."""
        # BEGIN SOLUTION 16
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return orig * mask
        # END SOLUTION

    @classmethod
    def apply(
        cls,
        module: Module,
        name: str,
        *args: Any,
        importance_scores: Tensor | None = None,
        **kwargs: Any,
    ) -> BasePruningMethod:
        """Prune ``module.name`` with a new ``cls(*args, **kwargs)``; returns the hook.

        If ``name`` was pruned before, the new method joins the old one in a
        ``PruningContainer`` and the masks compose. ``importance_scores`` (the shape of the
        parameter) rank the weights instead of the weights themselves.
        """
        orig = _pruned_tensor(module, name)
        old_hook_id, old_method = _find_hook(module, name)
        method: BasePruningMethod = cls(*args, **kwargs)
        method._tensor_name = name
        if isinstance(old_method, PruningContainer):
            method = PruningContainer(*old_method, method)
        elif old_method is not None:
            method = PruningContainer(old_method, method)
        scores = orig if importance_scores is None else importance_scores
        if tuple(scores.shape) != tuple(orig.shape):
            raise ValueError(
                f"importance_scores should have the same shape as parameter {name} of "
                f"{type(module).__name__}: {tuple(scores.shape)} != {tuple(orig.shape)}"
            )
        if old_method is None:
            default_mask = _as_mask(np.ones(orig.shape), orig)
        else:
            default_mask = getattr(module, name + "_mask").detach().clone()
        mask = method.compute_mask(scores.detach(), default_mask=default_mask)
        if old_method is None:
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
        else:
            del module._forward_pre_hooks[old_hook_id]
        module.register_buffer(name + "_mask", mask)
        setattr(module, name, method.apply_mask(module))
        module.register_forward_pre_hook(method)
        return method

    def prune(
        self, t: Tensor, default_mask: Tensor | None = None, importance_scores: Tensor | None = None
    ) -> Tensor:
        """``t`` times the mask this method computes for it (``t`` itself is unchanged)."""
        scores = t if importance_scores is None else importance_scores
        if default_mask is None:
            default_mask = _as_mask(np.ones(t.shape), t)
        return t * self.compute_mask(scores, default_mask=default_mask)

    def remove(self, module: Module) -> None:
        """Make the pruning permanent: ``name`` becomes a parameter holding ``orig * mask``;
        ``name_orig`` and ``name_mask`` go away."""
        name = self._tensor_name
        with no_grad():
            pruned = self.apply_mask(module)
        if name in module.__dict__:
            delattr(module, name)
        orig = module._parameters.pop(name + "_orig")
        orig.data = pruned.data
        del module._buffers[name + "_mask"]
        setattr(module, name, orig)


class PruningContainer(BasePruningMethod):
    """The pruning methods applied so far to one parameter, in order; its mask is theirs
    composed: each new method prunes only among the weights (or slices) still kept."""

    def __init__(self, *methods: BasePruningMethod) -> None:
        self._pruning_methods: tuple[BasePruningMethod, ...] = ()
        if len(methods) == 1 and not isinstance(methods[0], BasePruningMethod):
            methods = tuple(methods[0])
        for method in methods:
            self.add_pruning_method(method)

    def add_pruning_method(self, method: BasePruningMethod) -> None:
        if not isinstance(method, BasePruningMethod):
            raise TypeError(f"{type(method).__name__} is not a BasePruningMethod subclass")
        if self._pruning_methods and method._tensor_name != self._tensor_name:
            raise ValueError(
                f"Can only add pruning methods acting on the parameter named "
                f"'{self._tensor_name}' to PruningContainer. Found '{method._tensor_name}'"
            )
        self._tensor_name = method._tensor_name
        self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self) -> Iterator[BasePruningMethod]:
        return iter(self._pruning_methods)

    def __getitem__(self, index: int) -> BasePruningMethod:
        return self._pruning_methods[index]

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The last method's mask, computed on the units ``default_mask`` still keeps."""
        return combine_masks(self._pruning_methods[-1], t, default_mask)


def combine_masks(method: BasePruningMethod, t: Tensor, mask: Tensor) -> Tensor:
    """Apply ``method`` to the part of ``t`` that ``mask`` keeps, and put its mask there.

    Unstructured: the part is the weights with mask 1 (a 1-D selection), so an amount of 0.5
    prunes half of the remaining weights. Structured along ``dim``: the slices not yet entirely
    pruned. Global: the whole tensor.
    """
    # BEGIN SOLUTION 16
    if method.PRUNING_TYPE == "unstructured":
        part: Any = mask._data == 1
    elif method.PRUNING_TYPE == "structured":
        dim = method.dim % t.ndim  # type: ignore[attr-defined]
        others = tuple(d for d in range(t.ndim) if d != dim)
        part = [slice(None)] * t.ndim
        part[dim] = np.flatnonzero(mask._data.sum(axis=others) != 0)
        part = tuple(part)
    elif method.PRUNING_TYPE == "global":
        part = ...
    else:
        raise ValueError(f"Unrecognized PRUNING_TYPE {method.PRUNING_TYPE!r}")
    new_mask = mask._data.copy()
    partial_mask = method.compute_mask(
        Tensor._from_array(t._data[part]), default_mask=Tensor._from_array(mask._data[part])
    )
    new_mask[part] = partial_mask._data
    return Tensor._from_array(new_mask)
    # END SOLUTION


class Identity(BasePruningMethod):
    """Prunes nothing: the mask is all ones (useful to reparametrise a module uniformly)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return default_mask

    @classmethod
    def apply(cls, module: Module, name: str) -> BasePruningMethod:  # type: ignore[override]
        return super().apply(module, name)


class RandomUnstructured(BasePruningMethod):
    """Prunes ``amount`` weights chosen uniformly at random (``tinytorch.manual_seed`` fixes
    the choice)."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount: Amount) -> None:
        check_amount(amount)
        self.amount = amount

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        count = units_to_prune(self.amount, t.numel())
        mask = default_mask._data.copy()
        pruned = rng().permutation(t.numel())[:count]
        mask.reshape(-1)[pruned] = 0
        return Tensor._from_array(mask)

    @classmethod
    def apply(cls, module: Module, name: str, amount: Amount) -> BasePruningMethod:  # type: ignore[override]
        return super().apply(module, name, amount=amount)


class L1Unstructured(BasePruningMethod):
    """Prunes the ``amount`` weights of smallest absolute value (magnitude pruning)."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount: Amount) -> None:
        check_amount(amount)
        self.amount = amount

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """Zero the mask at the ``k`` entries of smallest |t|, k = the amount in units."""
        # BEGIN SOLUTION 16
        count = units_to_prune(self.amount, t.numel())
        mask = default_mask._data.copy()
        smallest = np.argsort(np.abs(t._data).reshape(-1), kind="stable")[:count]
        mask.reshape(-1)[smallest] = 0
        return Tensor._from_array(mask)
        # END SOLUTION

    @classmethod
    def apply(  # type: ignore[override]
        cls, module: Module, name: str, amount: Amount, importance_scores: Tensor | None = None
    ) -> BasePruningMethod:
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class RandomStructured(BasePruningMethod):
    """Prunes ``amount`` slices along ``dim`` (output channels for dim=0) chosen at random."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount: Amount, dim: int = -1) -> None:
        check_amount(amount)
        self.amount = amount
        self.dim = dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        check_structured(t)
        units = t.shape[self.dim]
        count = units_to_prune(self.amount, units)
        if count == 0:
            return default_mask
        kept = np.sort(rng().permutation(units)[count:])
        mask = channel_mask(tuple(t.shape), self.dim, kept)
        return _as_mask(mask, default_mask) * default_mask

    @classmethod
    def apply(cls, module: Module, name: str, amount: Amount, dim: int = -1) -> BasePruningMethod:  # type: ignore[override]
        return super().apply(module, name, amount=amount, dim=dim)


def ln_norms(t: np.ndarray, n: float | str, dim: int) -> np.ndarray:
    """The L``n`` norm of every slice of ``t`` along ``dim`` ('fro' is n = 2)."""
    order = 2 if n == "fro" else n
    if isinstance(order, str) or not isinstance(order, numbers.Real):
        raise ValueError(f"ln_structured: n must be a number, inf, -inf or 'fro', got {n!r}")
    flat = np.moveaxis(t, dim, 0).reshape(t.shape[dim], -1)
    return np.linalg.norm(flat, ord=float(order), axis=1)


class LnStructured(BasePruningMethod):
    """Prunes the ``amount`` slices along ``dim`` of smallest L``n`` norm.

    For a Conv2d weight (out, in, kh, kw), ``dim=0`` ranks output channels by
    ||w[c]||_n and prunes the weakest whole filters.
    """

    PRUNING_TYPE = "structured"

    def __init__(self, amount: Amount, n: float | str, dim: int = -1) -> None:
        check_amount(amount)
        self.amount = amount
        self.n = n
        self.dim = dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        check_structured(t)
        units = t.shape[self.dim]
        count = units_to_prune(self.amount, units)
        if count == 0:
            return default_mask
        norms = ln_norms(t._data, self.n, self.dim % t.ndim)
        kept = np.sort(np.argsort(-norms, kind="stable")[: units - count])
        mask = channel_mask(tuple(t.shape), self.dim, kept)
        return _as_mask(mask, default_mask) * default_mask

    @classmethod
    def apply(  # type: ignore[override]
        cls,
        module: Module,
        name: str,
        amount: Amount,
        n: float | str,
        dim: int,
        importance_scores: Tensor | None = None,
    ) -> BasePruningMethod:
        return super().apply(
            module, name, amount=amount, n=n, dim=dim, importance_scores=importance_scores
        )


class CustomFromMask(BasePruningMethod):
    """Prunes where a given ``mask`` is 0 (multiplied into any mask already there)."""

    PRUNING_TYPE = "global"

    def __init__(self, mask: Tensor) -> None:
        self.mask = mask

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        if tuple(default_mask.shape) != tuple(self.mask.shape):
            raise ValueError(
                f"custom_from_mask: mask of shape {tuple(self.mask.shape)} does not match the "
                f"parameter's shape {tuple(default_mask.shape)}"
            )
        return default_mask * _as_mask(self.mask._data, default_mask)

    @classmethod
    def apply(cls, module: Module, name: str, mask: Tensor) -> BasePruningMethod:  # type: ignore[override]
        return super().apply(module, name, mask=mask)


# ---------------------------------------------------------------------- hooks on modules
def _pruned_tensor(module: Module, name: str) -> Tensor:
    """``module.name``, or an error listing the parameters that can be pruned."""
    if not isinstance(name, str) or not isinstance(getattr(module, name, None), Tensor):
        names = [key for key, _ in module.named_parameters(recurse=False)]
        names += [key[: -len("_orig")] for key in names if key.endswith("_orig")]
        raise AttributeError(
            f"prune: {type(module).__name__} has no parameter {name!r} to prune; its "
            f"parameters are {sorted(set(names))}"
        )
    return getattr(module, name)


def _find_hook(module: Module, name: str) -> tuple[int | None, BasePruningMethod | None]:
    """The id and pruning method of the hook that prunes ``module.name``, if any."""
    for hook_id, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            return hook_id, hook
    return None, None


def identity(module: Module, name: str) -> Module:
    """Reparametrise ``module.name`` as ``name_orig * name_mask`` with a mask of ones."""
    Identity.apply(module, name)
    return module


def random_unstructured(module: Module, name: str, amount: Amount) -> Module:
    """Prune ``amount`` random weights of ``module.name``."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(
    module: Module, name: str, amount: Amount, importance_scores: Tensor | None = None
) -> Module:
    """Prune the ``amount`` weights of ``module.name`` with the smallest |score| (|w|)."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module: Module, name: str, amount: Amount, dim: int) -> Module:
    """Prune ``amount`` random slices of ``module.name`` along ``dim``."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(
    module: Module,
    name: str,
    amount: Amount,
    n: float | str,
    dim: int,
    importance_scores: Tensor | None = None,
) -> Module:
    """Prune the ``amount`` slices of ``module.name`` along ``dim`` with the smallest L``n``
    norm. Example: ``ln_structured(conv, "weight", 0.5, n=1, dim=0)`` prunes half the filters."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module: Module, name: str, mask: Tensor) -> Module:
    """Prune ``module.name`` where ``mask`` is 0."""
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(
    parameters: Iterable[tuple[Module, str]],
    pruning_method: type[BasePruningMethod],
    importance_scores: dict[tuple[Module, str], Tensor] | None = None,
    **kwargs: Any,
) -> None:
    """Prune across several parameters at once, ranking all their weights together.

    ``global_unstructured(params, prune.L1Unstructured, amount=0.9)`` removes the 90% of
    weights with the smallest |w| over the whole model, so layers with many small weights lose
    more than others. Each parameter then carries its own ``name_mask`` slice of the decision.
    """
    if isinstance(parameters, (str, bytes)) or not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    parameters = list(parameters)
    importance_scores = importance_scores or {}
    if pruning_method.PRUNING_TYPE != "unstructured":
        raise TypeError(
            f'Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. Found '
            f"method {pruning_method} of type {pruning_method.PRUNING_TYPE}"
        )
    scores, masks = [], []
    for module, name in parameters:
        score = importance_scores.get((module, name), _pruned_tensor(module, name))
        scores.append(score.detach().numpy().reshape(-1))
        mask = getattr(module, name + "_mask", None)
        masks.append(np.ones(score.numel()) if mask is None else mask.numpy().reshape(-1))
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    flat_mask = PruningContainer(method).compute_mask(
        Tensor._from_array(np.concatenate(scores)),
        default_mask=Tensor._from_array(np.concatenate(masks).astype(np.float32)),
    )
    start = 0
    for module, name in parameters:
        param = getattr(module, name)
        piece = flat_mask._data[start : start + param.numel()].reshape(param.shape)
        custom_from_mask(module, name, mask=_as_mask(piece, param))
        start += param.numel()


def remove(module: Module, name: str) -> Module:
    """Make the pruning of ``module.name`` permanent (``name`` a parameter again, with its
    zeros; no ``name_orig``, ``name_mask`` or hook)."""
    hook_id, method = _find_hook(module, name)
    if method is None:
        raise ValueError(
            f"Parameter '{name}' of module {module} has to be pruned before pruning can be removed"
        )
    method.remove(module)
    del module._forward_pre_hooks[hook_id]
    return module


def is_pruned(module: Module) -> bool:
    """Whether ``module`` or any module inside it has a pruning hook."""
    return any(
        isinstance(hook, BasePruningMethod)
        for submodule in module.modules()
        for hook in submodule._forward_pre_hooks.values()
    )


__all__ = [
    "BasePruningMethod",
    "CustomFromMask",
    "Identity",
    "L1Unstructured",
    "LnStructured",
    "PruningContainer",
    "RandomStructured",
    "RandomUnstructured",
    "custom_from_mask",
    "global_unstructured",
    "identity",
    "is_pruned",
    "l1_unstructured",
    "ln_structured",
    "random_structured",
    "random_unstructured",
    "remove",
]
