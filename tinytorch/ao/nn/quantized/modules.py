"""Quantized modules for eager-mode static quantization (``convert`` puts them in a model).

Each keeps its weight as int8 buffers, not float parameters, so ``state_dict()`` and
``tinytorch.save`` store one byte per weight::

    weight_int          int8 (O, ...)   the quantized weight
    weight_scale        float32 (O,)    one scale per output channel (or (1,) per tensor)
    weight_zero_point   int8 (O,)       only for affine weights (symmetric ones have 0)
    bias                float32 (O,)    kept in float: added to the int32 accumulators' reals
    output_qparams      float64 (2,)    (scale, zero_point) of the quantized output

Every entry of a saved file costs about 250 bytes of zip and .npy headers besides its data,
so the small qparams share entries: on LeNet-5 that is the difference between a file 3.4x
and 3.5x smaller than float32. The modules expose ``scale`` and ``zero_point`` as PyTorch's
do. Inputs and outputs are ``QuantizedTensor``s; ``Quantize`` and ``DeQuantize`` enter and
leave the integer domain.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from tinytorch import dtypes, nn
from tinytorch.ao.nn.quantized import functional as qF
from tinytorch.ao.quantization.observer import PerChannelMinMaxObserver
from tinytorch.nn.modules.module import Module
from tinytorch.ops.conv import output_size
from tinytorch.qtensor import (
    QuantizedTensor,
    quantize_checked,
    quantize_per_channel,
    quantize_per_tensor,
)
from tinytorch.tensor import Tensor

_VERSION = operator.attrgetter("_version_counter.value")
"""A tensor's version (``Tensor._version``), read without a Python call."""


def _buffer(array: np.ndarray) -> Tensor:
    return Tensor._from_array(np.ascontiguousarray(array))


def output_qparams(module: Module) -> tuple[float, int]:
    """(scale, zero_point) of a prepared module's output, from its observer."""
    observer = getattr(module, "activation_post_process", None)
    if observer is None:
        raise RuntimeError(
            f"convert: {type(module).__name__} has no activation_post_process; run "
            "prepare(model) (with model.qconfig set) and calibrate before convert(model)"
        )
    scale, zero_point = observer.calculate_qparams()
    return float(scale._data[0]), int(zero_point._data[0])


def quantize_weight(weight: Tensor, observer: Module) -> QuantizedTensor:
    """The weight quantized with the qparams its observer chooses (per tensor or channel)."""
    observer(weight.detach())
    scales, zero_points = observer.calculate_qparams()
    if isinstance(observer, PerChannelMinMaxObserver):
        return quantize_per_channel(
            weight.detach(), scales, zero_points, observer.ch_axis, observer.dtype
        )
    scale, zero_point = float(scales._data[0]), int(zero_points._data[0])
    return quantize_per_tensor(weight.detach(), scale, zero_point, observer.dtype)


class _WeightedQuantizedModule(Module):
    """Stores a quantized weight as int8 buffers and rebuilds the QuantizedTensor on demand."""

    def _set_weight(self, weight: QuantizedTensor, bias: Tensor | None) -> None:
        channels = weight.shape[0]
        self.weight_dtype = weight.dtype
        self.weight_per_channel = weight._axis is not None
        self.register_buffer("weight_int", _buffer(weight._integers))
        scales = np.broadcast_to(weight._scales, (channels,) if self.weight_per_channel else (1,))
        zero_points = np.broadcast_to(weight._zero_points, scales.shape)
        self.register_buffer("weight_scale", _buffer(scales.astype(np.float32)))
        if np.any(zero_points != 0):
            self.register_buffer("weight_zero_point", _buffer(zero_points.astype(np.int8)))
        self.register_buffer("bias", None if bias is None else _buffer(bias._data.copy()))
        self._packed_cache: tuple | None = None  # (buffers, their versions, the PackedLayer)

    def weight(self) -> QuantizedTensor:
        """The quantized weight (a method, as in PyTorch's quantized modules)."""
        scales = self.weight_scale._data.astype(np.float64)
        zero_points = np.zeros(scales.shape, np.int64)
        if "weight_zero_point" in self._buffers:
            zero_points = self.weight_zero_point._data.astype(np.int64)
        if self.weight_per_channel:
            return QuantizedTensor(self.weight_int._data, scales, zero_points, 0, self.weight_dtype)
        return QuantizedTensor(
            self.weight_int._data, scales.reshape(()), zero_points.reshape(()), None,
            self.weight_dtype,
        )  # fmt: skip

    def _bias(self) -> np.ndarray | None:
        return None if self.bias is None else self.bias._data

    def _packed(self) -> qF.PackedLayer:
        """The layer prepacked (``qF.pack_layer``) on the first call and again whenever a
        buffer is replaced or written in place (``load_state_dict`` copies into the buffers:
        their version counters move). The check runs on every call, so it is C-level: the
        cache holds the buffers themselves (a new tensor could reuse a freed one's id)."""
        buffers = tuple([tensor for tensor in self._buffers.values() if tensor is not None])
        versions = tuple(map(_VERSION, buffers))
        cached = self._packed_cache
        if (
            cached is None
            or cached[1] != versions
            or len(cached[0]) != len(buffers)
            or not all(map(operator.is_, cached[0], buffers))
        ):
            packed = qF.pack_layer(self.weight(), self._bias(), self.scale, self.zero_point)
            self._packed_cache = cached = (buffers, versions, packed)
        return cached[2]


class _OutputQParams:
    """The (scale, zero_point) of a module's quantized output, in one float64 buffer."""

    def _set_output_qparams(self, scale: float, zero_point: int) -> None:
        self.register_buffer("output_qparams", _buffer(np.array([scale, zero_point], np.float64)))

    @property
    def scale(self) -> float:
        return float(np.float32(self.output_qparams._data[0]))

    @property
    def zero_point(self) -> int:
        return int(self.output_qparams._data[1])


class Linear(_OutputQParams, _WeightedQuantizedModule):
    """Quantized x (*, I) -> quantized (*, O): int8 weights, int32 accumulation, requantized.

    Made by ``convert`` (``Linear.from_float``) from a prepared ``nn.Linear``.
    """

    def __init__(self, weight: QuantizedTensor, bias: Tensor | None, scale: float,
                 zero_point: int) -> None:  # fmt: skip
        super().__init__()
        self.out_features, self.in_features = weight.shape
        self._set_weight(weight, bias)
        self._set_output_qparams(scale, zero_point)

    @classmethod
    def from_float(cls, module: nn.Linear) -> Linear:
        return cls.from_parts(module, *output_qparams(module))

    @classmethod
    def from_parts(cls, layer: nn.Linear, scale: float, zero_point: int) -> Linear:
        weight = quantize_weight(layer.weight, _weight_observer(layer))
        return cls(weight, layer.bias, scale, zero_point)

    relu = False  # the fused LinearReLU clamps at the zero point

    def forward(self, x: QuantizedTensor) -> QuantizedTensor:
        _require_quantized("Linear", x)
        return qF.linear_packed(x, self._packed(), self.relu)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"scale={self.scale:.6g}, zero_point={self.zero_point}"
        )


class Conv2d(_OutputQParams, _WeightedQuantizedModule):
    """Quantized 2-D convolution (groups 1, zero padding) on quantized (N, C, H, W) inputs."""

    def __init__(self, weight: QuantizedTensor, bias: Tensor | None, stride: tuple[int, int],
                 padding: tuple[int, int], dilation: tuple[int, int], scale: float,
                 zero_point: int) -> None:  # fmt: skip
        super().__init__()
        self.out_channels, self.in_channels = weight.shape[:2]
        self.kernel_size = weight.shape[2:]
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self._indirection_cache: dict[tuple, tuple] = {}  # input (C, H, W) -> _indirection
        self._set_weight(weight, bias)
        self._set_output_qparams(scale, zero_point)

    @classmethod
    def from_float(cls, module: nn.Conv2d) -> Conv2d:
        return cls.from_parts(module, *output_qparams(module))

    @classmethod
    def from_parts(cls, layer: nn.Conv2d, scale: float, zero_point: int) -> Conv2d:
        if layer.groups != 1 or isinstance(layer.padding, str) or layer.padding_mode != "zeros":
            raise ValueError(
                "convert: quantized Conv2d supports groups=1 and numeric zero padding; got "
                f"groups={layer.groups}, padding={layer.padding!r}, "
                f"padding_mode={layer.padding_mode!r}"
            )
        weight = quantize_weight(layer.weight, _weight_observer(layer))
        return cls(
            weight, layer.bias, layer.stride, layer.padding, layer.dilation, scale, zero_point
        )

    relu = False  # the fused ConvReLU2d clamps at the zero point

    def forward(self, x: QuantizedTensor) -> QuantizedTensor:
        _require_quantized("Conv2d", x)
        shape = x._integers.shape
        if len(shape) != 4 or shape[1] != self.in_channels:
            raise ValueError(f"quantized Conv2d expects (N, {self.in_channels}, H, W), got {shape}")
        index, out_size = self._indirection(shape[1:])
        return qF.conv2d_packed(x, self._packed(), index, out_size, self.relu)

    def _indirection(self, shape: tuple[int, ...]) -> tuple[np.ndarray, tuple[int, int]]:
        """``qF.indirection`` for inputs of (C, H, W) ``shape``, built once per shape, and
        the output's (OH, OW)."""
        built = self._indirection_cache
        if shape not in built:
            index = qF.indirection(shape, self.kernel_size, self.stride, self.padding,
                                   self.dilation)  # fmt: skip
            out_size = tuple(
                output_size(size + 2 * pad, kernel, stride, dilation)
                for size, pad, kernel, stride, dilation in zip(
                    shape[1:], self.padding, self.kernel_size, self.stride, self.dilation
                )
            )
            built[shape] = (index, out_size)
        return built[shape]

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, scale={self.scale:.6g}, "
            f"zero_point={self.zero_point}"
        )


class LinearReLU(Linear):
    """Quantized Linear then ReLU on the integers (from a fused ``LinearReLU``): the output
    observer saw values after the ReLU, so no level is spent on negatives."""

    relu = True

    @classmethod
    def from_float(cls, module: nn.Sequential) -> LinearReLU:
        return cls.from_parts(module[0], *output_qparams(module))


class ConvReLU2d(Conv2d):
    """Quantized Conv2d then ReLU on the integers (from a fused ``ConvReLU2d``)."""

    relu = True

    @classmethod
    def from_float(cls, module: nn.Sequential) -> ConvReLU2d:
        return cls.from_parts(module[0], *output_qparams(module))


class Quantize(_OutputQParams, Module):
    """Float tensor -> QuantizedTensor with fixed (scale, zero_point): what QuantStub becomes."""

    def __init__(self, scale: float, zero_point: int, dtype: dtypes.dtype) -> None:
        super().__init__()
        self.dtype = dtype
        self._set_output_qparams(scale, zero_point)

    @classmethod
    def from_float(cls, module: Module) -> Quantize:
        scale, zero_point = output_qparams(module)
        return cls(scale, zero_point, module.activation_post_process.dtype)

    def forward(self, x: Tensor) -> QuantizedTensor:
        """``quantize_per_tensor(x, self.scale, self.zero_point, self.dtype)``, its checks of
        the qparams done once, when they were chosen, instead of on every call."""
        if not isinstance(x, Tensor) or x._data.dtype != np.float32:
            return quantize_per_tensor(x, self.scale, self.zero_point, self.dtype)  # raises
        scale, zero_point = np.array(self.scale, np.float64), np.array(self.zero_point)
        return quantize_checked(x._data, scale, zero_point, self.dtype)


class DeQuantize(Module):
    """QuantizedTensor -> float32 Tensor: what DeQuantStub becomes."""

    @classmethod
    def from_float(cls, module: Module) -> DeQuantize:
        return cls()

    def forward(self, x: QuantizedTensor) -> Tensor:
        _require_quantized("DeQuantize", x)
        return x.dequantize()


class ReLU(Module):
    """ReLU on the integers: max(q, zero_point); the qparams carry over."""

    @classmethod
    def from_float(cls, module: Module) -> ReLU:
        return cls()

    def forward(self, x: QuantizedTensor) -> QuantizedTensor:
        _require_quantized("ReLU", x)
        return x.relu()


class MaxPool2d(Module):
    """Max pooling on the integers (no padding, dilation 1)."""

    def __init__(self, kernel_size: tuple[int, int], stride: tuple[int, int]) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride

    @classmethod
    def from_float(cls, module: nn.MaxPool2d) -> MaxPool2d:
        kernel, stride = _pair(module.kernel_size), _pair(module.stride)
        if _pair(module.padding) != (0, 0) or _pair(module.dilation) != (1, 1):
            raise ValueError("convert: quantized MaxPool2d supports padding 0 and dilation 1")
        return cls(kernel, stride)

    def forward(self, x: QuantizedTensor) -> QuantizedTensor:
        _require_quantized("MaxPool2d", x)
        return qF.max_pool2d(x, self.kernel_size, self.stride)


class Flatten(Module):
    """Flatten on the integers (a reshape: the qparams carry over)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    @classmethod
    def from_float(cls, module: nn.Flatten) -> Flatten:
        return cls(module.start_dim, module.end_dim)

    def forward(self, x: QuantizedTensor) -> QuantizedTensor:
        _require_quantized("Flatten", x)
        return x.flatten(self.start_dim, self.end_dim)


def _weight_observer(module: Module) -> Module:
    """The observer (or fake quantizer, after QAT) that chooses the weight's qparams."""
    fake_quant = getattr(module, "weight_fake_quant", None)
    if fake_quant is not None:
        return fake_quant.activation_post_process
    return module.qconfig.weight()


def _pair(value: int | tuple[int, ...]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def _require_quantized(name: str, x: Any) -> None:
    if not isinstance(x, QuantizedTensor):
        raise TypeError(
            f"quantized {name} expects a QuantizedTensor, got {type(x).__name__}; put a "
            "QuantStub before the first quantized layer (it becomes Quantize at convert)"
        )
