"""``fuse_modules``: replace [Conv2d, ReLU] or [Linear, ReLU] pairs by one fused module."""

from __future__ import annotations

import copy
from collections.abc import Sequence

from tinytorch import nn
from tinytorch.ao.nn import intrinsic as nni
from tinytorch.nn.modules.module import Module

_FUSED = {(nn.Conv2d, nn.ReLU): nni.ConvReLU2d, (nn.Linear, nn.ReLU): nni.LinearReLU}


def fuse_modules(
    model: Module, modules_to_fuse: Sequence[Sequence[str]], inplace: bool = False
) -> Module:
    """Fuse each group of dotted names, e.g. ``[["0", "1"], ["3", "4"]]``: the first becomes
    the fused module, the second an ``nn.Identity``. The model must be in eval mode."""
    model = model if inplace else copy.deepcopy(model)
    for names in modules_to_fuse:
        modules = [model.get_submodule(name) for name in names]
        kinds = tuple(type(module) for module in modules)
        if kinds not in _FUSED:
            raise ValueError(
                f"fuse_modules: cannot fuse {[kind.__name__ for kind in kinds]} at {list(names)};"
                " supported: [Conv2d, ReLU] and [Linear, ReLU]"
            )
        _replace(model, names[0], _FUSED[kinds](*modules))
        _replace(model, names[1], nn.Identity())
    return model


def _replace(model: Module, name: str, module: Module) -> None:
    parent_name, _, child_name = name.rpartition(".")
    setattr(model.get_submodule(parent_name), child_name, module)
