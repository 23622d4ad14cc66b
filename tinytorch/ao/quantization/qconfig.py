"""QConfig: which observers (or fake quantizers) to attach to a module's activation and weight.

``model.qconfig = get_default_qconfig("x86")`` before ``prepare(model)`` says how every layer
below it is quantized. Each field is a factory (``Observer.with_args(...)``), called once per
layer so that every layer gets its own observer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from tinytorch.ao.quantization.fake_quantize import (
    FakeQuantize,
    default_fake_quant,
    default_per_channel_weight_fake_quant,
    default_weight_fake_quant,
)
from tinytorch.ao.quantization.observer import (
    HistogramObserver,
    default_dynamic_quant_observer,
    default_observer,
    default_per_channel_weight_observer,
    default_weight_observer,
)
from tinytorch.nn.modules.module import Module


class QConfig(NamedTuple):
    """Factories of the observers for a layer's output activation and for its weight."""

    activation: Callable[[], Module]
    weight: Callable[[], Module]


default_qconfig = QConfig(activation=default_observer, weight=default_weight_observer)
default_dynamic_qconfig = QConfig(
    activation=default_dynamic_quant_observer, weight=default_weight_observer
)
per_channel_dynamic_qconfig = QConfig(
    activation=default_dynamic_quant_observer, weight=default_per_channel_weight_observer
)
default_qat_qconfig = QConfig(activation=default_fake_quant, weight=default_weight_fake_quant)

_SERVER_BACKENDS = ("x86", "fbgemm")
_FULL_RANGE = {"reduce_range": False}


def get_default_qconfig(backend: str = "x86") -> QConfig:
    """PyTorch's post-training qconfig for a backend: per-channel symmetric qint8 weights and
    histogram-calibrated quint8 activations (7 bits on x86/fbgemm, whose kernels need it)."""
    if backend in _SERVER_BACKENDS:
        activation = HistogramObserver.with_args(reduce_range=True)
        return QConfig(activation=activation, weight=default_per_channel_weight_observer)
    if backend == "qnnpack":
        activation = HistogramObserver.with_args(reduce_range=False)
        return QConfig(activation=activation, weight=default_weight_observer)
    raise ValueError(
        f"get_default_qconfig: unknown backend {backend!r}; use 'x86', 'fbgemm' or 'qnnpack'"
    )


def get_default_qat_qconfig(backend: str = "x86") -> QConfig:
    """The quantization-aware-training qconfig: fake quantizers instead of observers."""
    if backend in _SERVER_BACKENDS:
        return QConfig(activation=default_fake_quant, weight=default_per_channel_weight_fake_quant)
    if backend == "qnnpack":
        return QConfig(
            activation=FakeQuantize.with_args(**(default_fake_quant.keywords | _FULL_RANGE)),
            weight=default_weight_fake_quant,
        )
    raise ValueError(
        f"get_default_qat_qconfig: unknown backend {backend!r}; use 'x86', 'fbgemm' or 'qnnpack'"
    )
