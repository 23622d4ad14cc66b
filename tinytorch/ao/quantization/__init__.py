"""Quantization with PyTorch's eager-mode API (``torch.ao.quantization``).

Observers measure value ranges, qconfigs say which observers a layer gets, and the
workflows (``quantize_dynamic``; ``prepare`` / calibrate / ``convert``; ``prepare_qat``)
turn a float model into one whose Linear and Conv2d layers compute on int8.
"""

from tinytorch.ao.quantization.fake_quantize import (
    FakeQuantize,
    default_fake_quant,
    default_per_channel_weight_fake_quant,
    default_weight_fake_quant,
)
from tinytorch.ao.quantization.fuse_modules import fuse_modules
from tinytorch.ao.quantization.observer import (
    HistogramObserver,
    MinMaxObserver,
    MovingAverageMinMaxObserver,
    MovingAveragePerChannelMinMaxObserver,
    PerChannelMinMaxObserver,
    PlaceholderObserver,
    default_dynamic_quant_observer,
    default_observer,
    default_per_channel_weight_observer,
    default_weight_observer,
)
from tinytorch.ao.quantization.qconfig import (
    QConfig,
    default_dynamic_qconfig,
    default_qat_qconfig,
    default_qconfig,
    get_default_qat_qconfig,
    get_default_qconfig,
    per_channel_dynamic_qconfig,
)
from tinytorch.ao.quantization.quantize import (
    convert,
    prepare,
    prepare_qat,
    propagate_qconfig_,
    quantize_dynamic,
)
from tinytorch.ao.quantization.stubs import DeQuantStub, QuantStub

__all__ = [
    "DeQuantStub",
    "FakeQuantize",
    "HistogramObserver",
    "MinMaxObserver",
    "MovingAverageMinMaxObserver",
    "MovingAveragePerChannelMinMaxObserver",
    "PerChannelMinMaxObserver",
    "PlaceholderObserver",
    "QConfig",
    "QuantStub",
    "convert",
    "default_dynamic_qconfig",
    "default_dynamic_quant_observer",
    "default_fake_quant",
    "default_observer",
    "default_per_channel_weight_fake_quant",
    "default_per_channel_weight_observer",
    "default_qat_qconfig",
    "default_qconfig",
    "default_weight_fake_quant",
    "default_weight_observer",
    "fuse_modules",
    "get_default_qat_qconfig",
    "get_default_qconfig",
    "per_channel_dynamic_qconfig",
    "prepare",
    "prepare_qat",
    "propagate_qconfig_",
    "quantize_dynamic",
]
