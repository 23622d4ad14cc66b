"""Fake quantization for quantization-aware training (QAT).

During QAT the model stays in floating point, but weights and activations pass through
``fake_quantize``: quantize then dequantize at once, so the forward pass sees exactly the
rounding and clamping that int8 inference will apply::

    fake_quantize(x) = (clamp(round(x / scale) + zero_point, qmin, qmax) - zero_point) * scale

Rounding has derivative 0 almost everywhere, which would stop all learning. The
straight-through estimator (STE) pretends rounding is the identity in backward: the gradient
passes unchanged where x lies inside the representable range, and is 0 where x was clamped
(there the output really does not move with x)::

    d fake_quantize / dx = 1  if qmin <= round(x / scale) + zero_point <= qmax,  else 0
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from tinytorch import dtypes
from tinytorch.ao.quantization.observer import (
    MovingAverageMinMaxObserver,
    MovingAveragePerChannelMinMaxObserver,
)
from tinytorch.autograd.function import Context, Function
from tinytorch.nn.modules.module import Module
from tinytorch.qtensor import per_channel_symmetric, per_tensor_affine, per_tensor_symmetric
from tinytorch.tensor import Tensor


class FakeQuantizeFunction(Function):
    """quantize-dequantize in forward, the straight-through estimator in backward.

    scale and zero_point are arrays that broadcast against x (a scalar, or one value per
    channel shaped to its axis).
    """

    @staticmethod
    def forward(
        ctx: Context,
        x: np.ndarray,
        scale: np.ndarray,
        zero_point: np.ndarray,
        quant_min: int,
        quant_max: int,
    ) -> np.ndarray:
        shifted = np.rint(x / scale) + zero_point
        ctx.inside = (shifted >= quant_min) & (shifted <= quant_max)
        return ((np.clip(shifted, quant_min, quant_max) - zero_point) * scale).astype(x.dtype)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 15
        return grad * ctx.inside, None, None, None, None
        # END SOLUTION


class FakeQuantize(Module):
    """Observe x (with ``observer``), then fake-quantize it with the observed qparams.

    ``observer_enabled`` and ``fake_quant_enabled`` switch the two steps (``disable_observer()``
    freezes the qparams late in training). ``ch_axis`` in ``observer_kwargs`` (with a
    per-channel observer) gives one scale per channel, for weights.
    """

    def __init__(
        self,
        observer: type = MovingAverageMinMaxObserver,
        quant_min: int | None = None,
        quant_max: int | None = None,
        **observer_kwargs: Any,
    ) -> None:
        super().__init__()
        self.activation_post_process = observer(
            quant_min=quant_min, quant_max=quant_max, **observer_kwargs
        )
        self.quant_min = self.activation_post_process.quant_min
        self.quant_max = self.activation_post_process.quant_max
        self.dtype = self.activation_post_process.dtype
        self.qscheme = self.activation_post_process.qscheme
        self.ch_axis = getattr(self.activation_post_process, "ch_axis", -1)
        self.register_buffer("fake_quant_enabled", Tensor._from_array(np.array([1], np.uint8)))
        self.register_buffer("observer_enabled", Tensor._from_array(np.array([1], np.uint8)))
        self.register_buffer("scale", Tensor._from_array(np.array([1.0], np.float32)))
        self.register_buffer("zero_point", Tensor._from_array(np.array([0], np.int32)))

    @classmethod
    def with_args(cls, **kwargs: Any) -> functools.partial:
        return functools.partial(cls, **kwargs)

    def enable_observer(self, enabled: bool = True) -> FakeQuantize:
        self.observer_enabled._data[0] = int(enabled)
        return self

    def disable_observer(self) -> FakeQuantize:
        return self.enable_observer(False)

    def enable_fake_quant(self, enabled: bool = True) -> FakeQuantize:
        self.fake_quant_enabled._data[0] = int(enabled)
        return self

    def disable_fake_quant(self) -> FakeQuantize:
        return self.enable_fake_quant(False)

    def calculate_qparams(self) -> tuple[Tensor, Tensor]:
        return self.activation_post_process.calculate_qparams()

    def forward(self, x: Tensor) -> Tensor:
        if self.observer_enabled._data[0]:
            self.activation_post_process(x.detach())
            scale, zero_point = self.calculate_qparams()
            self.scale._data, self.zero_point._data = scale._data, zero_point._data
        if not self.fake_quant_enabled._data[0]:
            return x
        scale = self.scale._data.astype(np.float32)
        zero_point = self.zero_point._data.astype(np.float32)
        if self.ch_axis >= 0:  # per channel: shape the parameters along the channel axis
            shape = [1] * x.ndim
            shape[self.ch_axis] = -1
            scale, zero_point = scale.reshape(shape), zero_point.reshape(shape)
        else:
            scale, zero_point = scale.reshape(()), zero_point.reshape(())
        return FakeQuantizeFunction.apply(x, scale, zero_point, self.quant_min, self.quant_max)

    def extra_repr(self) -> str:
        return (
            f"fake_quant_enabled={int(self.fake_quant_enabled._data[0])}, observer_enabled="
            f"{int(self.observer_enabled._data[0])}, quant_min={self.quant_min}, "
            f"quant_max={self.quant_max}, dtype={self.dtype}, qscheme={self.qscheme}"
        )


default_fake_quant = FakeQuantize.with_args(
    observer=MovingAverageMinMaxObserver,
    quant_min=0,
    quant_max=255,
    dtype=dtypes.quint8,
    qscheme=per_tensor_affine,
    reduce_range=True,
)
default_weight_fake_quant = FakeQuantize.with_args(
    observer=MovingAverageMinMaxObserver,
    quant_min=-128,
    quant_max=127,
    dtype=dtypes.qint8,
    qscheme=per_tensor_symmetric,
    reduce_range=False,
)
default_per_channel_weight_fake_quant = FakeQuantize.with_args(
    observer=MovingAveragePerChannelMinMaxObserver,
    quant_min=-128,
    quant_max=127,
    dtype=dtypes.qint8,
    qscheme=per_channel_symmetric,
    reduce_range=False,
    ch_axis=0,
)
