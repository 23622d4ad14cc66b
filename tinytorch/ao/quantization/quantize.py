"""Eager-mode quantization workflows, with PyTorch's names and steps.

Static post-training quantization (PTQ)::

    model = nn.Sequential(QuantStub(), *layers, DeQuantStub()).eval()
    model.qconfig = get_default_qconfig("x86")
    prepared = prepare(model)          # observers on every quantizable layer's output
    for images, _ in calibration_batches:
        prepared(images)               # observers record the activation ranges
    quantized = convert(prepared)      # Linear/Conv2d -> int8 modules, stubs -> (De)Quantize

Dynamic quantization: ``quantize_dynamic(model, {nn.Linear}, dtype=tinytorch.qint8)``.
Quantization-aware training: ``prepare_qat`` (fake quantizers instead of observers), train,
then ``convert``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from tinytorch import dtypes, nn
from tinytorch.ao.nn import intrinsic as nni
from tinytorch.ao.nn import qat as nnqat
from tinytorch.ao.nn import quantized as nnq
from tinytorch.ao.nn.quantized import dynamic as nnqd
from tinytorch.ao.quantization.qconfig import QConfig, default_dynamic_qconfig
from tinytorch.ao.quantization.stubs import DeQuantStub, QuantStub
from tinytorch.nn.modules.module import Module


def _observed_types() -> tuple[type, ...]:
    """Modules whose output gets an observer: where the quantized model requantizes."""
    return (QuantStub, nn.Linear, nn.Conv2d, nni.LinearReLU, nni.ConvReLU2d)


def _static_mapping() -> dict[type, type]:
    """Float module -> quantized module, for ``convert``."""
    return {
        QuantStub: nnq.Quantize,
        DeQuantStub: nnq.DeQuantize,
        nn.Linear: nnq.Linear,
        nnqat.Linear: nnq.Linear,
        nn.Conv2d: nnq.Conv2d,
        nnqat.Conv2d: nnq.Conv2d,
        nni.LinearReLU: nnq.LinearReLU,
        nni.ConvReLU2d: nnq.ConvReLU2d,
        nn.ReLU: nnq.ReLU,
        nn.MaxPool2d: nnq.MaxPool2d,
        nn.Flatten: nnq.Flatten,
    }


def _qat_mapping() -> dict[type, type]:
    return {nn.Linear: nnqat.Linear, nn.Conv2d: nnqat.Conv2d}


def propagate_qconfig_(module: Module, parent_qconfig: QConfig | None = None) -> None:
    """Give every submodule its own ``qconfig`` or, failing that, its parent's. A module's
    own ``qconfig = None`` keeps it (and what is below it) in floating point."""
    qconfig = module.qconfig if hasattr(module, "qconfig") else parent_qconfig
    module.qconfig = qconfig
    for child in module.children():
        propagate_qconfig_(child, qconfig)


def _observe_output(module: Module, inputs: tuple, output: Any) -> Any:
    """The forward hook ``prepare`` installs: pass the output through the observer."""
    return module.activation_post_process(output)


def _add_observers(module: Module) -> None:
    """An observer after each observed module (a fused module's parts share one)."""
    if isinstance(module, _observed_types()) and module.qconfig is not None:
        module.activation_post_process = module.qconfig.activation()
        module.register_forward_hook(_observe_output)
        return
    for child in module.children():
        _add_observers(child)


def prepare(model: Module, inplace: bool = False) -> Module:
    """A copy of ``model`` (or ``model`` itself) with an observer after every QuantStub,
    Linear and Conv2d whose ``qconfig`` (own or inherited) is set. Run calibration batches
    through it, then ``convert``. Raises if no module has a qconfig."""
    model = model if inplace else copy.deepcopy(model)
    propagate_qconfig_(model)
    if all(module.qconfig is None for module in model.modules()):
        raise ValueError(
            "prepare: no module has a qconfig; set model.qconfig = "
            "tinytorch.ao.quantization.get_default_qconfig('x86') first"
        )
    _add_observers(model)
    return model


def prepare_qat(model: Module, inplace: bool = False) -> Module:
    """Like ``prepare``, for training: Linear/Conv2d get fake-quantized weights
    (``tinytorch.ao.nn.qat``) and every observer is a ``FakeQuantize`` (the qconfig's)."""
    model = model if inplace else copy.deepcopy(model)
    propagate_qconfig_(model)
    _swap_modules(model, _qat_mapping())
    return prepare(model, inplace=True)


def convert(module: Module, mapping: dict[type, type] | None = None,
            inplace: bool = False) -> Module:  # fmt: skip
    """Replace each prepared (and calibrated) module by its quantized twin.

    Raises ``RuntimeError`` naming the layer if an observer has seen no data (convert was
    called before calibration).
    """
    module = module if inplace else copy.deepcopy(module)
    _swap_modules(module, mapping or _static_mapping())
    return module


def quantize_dynamic(
    model: Module,
    qconfig_spec: Iterable[type] | dict[type, QConfig] | None = None,
    dtype: dtypes.dtype = dtypes.qint8,
    mapping: dict[type, type] | None = None,
    inplace: bool = False,
) -> Module:
    """Replace every ``nn.Linear`` (the types in ``qconfig_spec``) by a dynamically quantized
    Linear: int8 weights now, activations quantized batch by batch at run time."""
    if dtype is not dtypes.qint8:
        raise ValueError(
            f"quantize_dynamic: only dtype=tinytorch.qint8 is supported, got {dtype!r}"
        )
    model = model if inplace else copy.deepcopy(model)
    spec = qconfig_spec if qconfig_spec is not None else {nn.Linear}
    configs = spec if isinstance(spec, dict) else dict.fromkeys(spec, default_dynamic_qconfig)
    mapping = mapping or {nn.Linear: nnqd.Linear}
    for module in model.modules():
        for kind, qconfig in configs.items():
            if isinstance(module, kind) and kind in mapping:
                module.qconfig = qconfig
    _swap_modules(model, {kind: mapping[kind] for kind in configs if kind in mapping})
    return model


def _swap_modules(module: Module, mapping: dict[type, type]) -> None:
    """Replace, depth first, every child whose exact type is in ``mapping`` and that has a
    qconfig (stubs always) by ``mapping[type].from_float(child)``."""
    for name, child in list(module.named_children()):
        target = mapping.get(type(child))
        has_config = getattr(child, "qconfig", None) is not None
        if target is not None and (has_config or isinstance(child, (QuantStub, DeQuantStub))):
            try:
                setattr(module, name, target.from_float(child))
            except RuntimeError as error:
                raise RuntimeError(
                    f"convert: layer {name!r} ({type(child).__name__}): {error}"
                ) from None
        else:
            _swap_modules(child, mapping)
