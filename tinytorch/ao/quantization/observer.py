"""Observers: modules that watch the values flowing through a model and choose qparams.

An observer's forward returns its input unchanged and remembers the smallest and largest value
seen (per tensor, or per channel along ``ch_axis``). ``calculate_qparams()`` then turns that
range [min, max] into a (scale, zero_point) for the integer range [qmin, qmax], with
PyTorch's formulas (the range is first widened to include 0, so that real 0 is exact)::

    affine:    scale = (max - min) / (qmax - qmin)
               zero_point = clamp(qmin - round(min / scale), qmin, qmax)
    symmetric: scale = max(-min, max) / ((qmax - qmin) / 2)
               zero_point = 0 (qint8), or 128 (quint8: the middle of [0, 255])

and scale is at least ``eps`` (float32's machine epsilon), so that a constant input does not
divide by zero. ``reduce_range=True`` uses 7 bits ([0, 127] or [-64, 63]): x86 int8 kernels
add pairs of uint8 x int8 products in int16, which could overflow with the full 8 bits.
Example::

    >>> observer = MinMaxObserver()
    >>> _ = observer(tinytorch.tensor([-1.0, 3.0]))
    >>> observer.calculate_qparams()
    (tensor([0.0157]), tensor([64]))
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from tinytorch import dtypes
from tinytorch.nn.modules.module import Module
from tinytorch.qtensor import (
    per_channel_affine,
    per_channel_symmetric,
    per_tensor_affine,
    per_tensor_symmetric,
    qscheme,
)
from tinytorch.tensor import Tensor

EPS = float(np.finfo(np.float32).eps)


def default_quant_range(dtype: dtypes.dtype, reduce_range: bool) -> tuple[int, int]:
    """[qmin, qmax] of ``dtype``, one bit narrower with ``reduce_range``."""
    if dtype is dtypes.qint8:
        return (-64, 63) if reduce_range else (-128, 127)
    if dtype is dtypes.quint8:
        return (0, 127) if reduce_range else (0, 255)
    raise TypeError(f"observers support tinytorch.qint8 and tinytorch.quint8, got {dtype!r}")


def calculate_qparams(
    min_val: np.ndarray,
    max_val: np.ndarray,
    quant_min: int,
    quant_max: int,
    symmetric: bool,
    symmetric_zero_point: int,
    eps: float = EPS,
) -> tuple[np.ndarray, np.ndarray]:
    """(scale float32, zero_point) for ranges [min_val, max_val] (float32 arrays).

    The formulas of the module's notes, element by element (one element per channel).
    ``symmetric_zero_point`` is the zero point of a symmetric scheme: 0 for qint8, the middle
    of the range for quint8. Zero points are int64 when symmetric and int32 when affine,
    the dtypes PyTorch's observers return.
    """
    # BEGIN SOLUTION 15
    min_neg = np.minimum(min_val, np.float32(0))  # the range must contain real 0
    max_pos = np.maximum(max_val, np.float32(0))
    if symmetric:
        largest = np.maximum(-min_neg, max_pos)
        scale = largest / np.float32((quant_max - quant_min) / 2)
        scale = np.maximum(scale, np.float32(eps))
        zero_point = np.full(scale.shape, symmetric_zero_point, np.int64)
    else:
        scale = (max_pos - min_neg) / np.float32(quant_max - quant_min)
        scale = np.maximum(scale, np.float32(eps))
        zero_point = quant_min - np.rint(min_neg / scale).astype(np.int32)
        zero_point = np.clip(zero_point, quant_min, quant_max).astype(np.int32)
    return scale.astype(np.float32), zero_point
    # END SOLUTION


class ObserverBase(Module):
    """What every observer shares: dtype, qscheme, the integer range and ``with_args``."""

    def __init__(
        self,
        dtype: dtypes.dtype = dtypes.quint8,
        qscheme: qscheme = per_tensor_affine,
        reduce_range: bool = False,
        quant_min: int | None = None,
        quant_max: int | None = None,
        eps: float = EPS,
    ) -> None:
        super().__init__()
        self.dtype = dtype
        self.qscheme = qscheme
        self.reduce_range = reduce_range
        self.has_customized_qrange = quant_min is not None and quant_max is not None
        low, high = default_quant_range(dtype, reduce_range)
        if self.has_customized_qrange:
            full_low, full_high = default_quant_range(dtype, False)
            if not full_low <= quant_min <= 0 <= quant_max <= full_high:
                raise ValueError(
                    f"{type(self).__name__}: quant_min {quant_min} and quant_max {quant_max} "
                    f"must satisfy {full_low} <= quant_min <= 0 <= quant_max <= {full_high}"
                )
            low, high = (quant_min // 2, quant_max // 2) if reduce_range else (quant_min, quant_max)
        self.quant_min, self.quant_max = low, high
        self.register_buffer("eps", Tensor._from_array(np.array([eps], np.float32)))

    @classmethod
    def with_args(cls, **kwargs: Any) -> functools.partial:
        """A factory making observers with these arguments: ``MinMaxObserver.with_args(...)``."""
        return functools.partial(cls, **kwargs)

    @property
    def is_symmetric(self) -> bool:
        return self.qscheme in (per_tensor_symmetric, per_channel_symmetric)

    def _qparams_from(self, min_val: np.ndarray, max_val: np.ndarray) -> tuple[Tensor, Tensor]:
        if min_val.size == 0 or np.any(np.isinf(min_val)):
            raise RuntimeError(
                f"{type(self).__name__}.calculate_qparams: the observer has seen no data; run "
                "the prepared model on calibration batches before convert()"
            )
        middle = (self.quant_min + self.quant_max) // 2 if self.has_customized_qrange else 128
        symmetric_zero_point = middle if self.dtype is dtypes.quint8 else 0
        scale, zero_point = calculate_qparams(
            min_val,
            max_val,
            self.quant_min,
            self.quant_max,
            self.is_symmetric,
            symmetric_zero_point,
            float(self.eps._data[0]),
        )
        return Tensor._from_array(scale), Tensor._from_array(zero_point)

    def extra_repr(self) -> str:
        limits = f"[{self.quant_min}, {self.quant_max}]"
        return f"dtype={self.dtype}, qscheme={self.qscheme}, quant range {limits}"


class MinMaxObserver(ObserverBase):
    """Tracks the running minimum and maximum of every value it sees (one range per tensor)."""

    def __init__(self, dtype: dtypes.dtype = dtypes.quint8, qscheme: qscheme = per_tensor_affine,
                 **kwargs: Any) -> None:  # fmt: skip
        if qscheme not in (per_tensor_affine, per_tensor_symmetric):
            raise ValueError(
                f"MinMaxObserver: qscheme must be per_tensor_affine or per_tensor_symmetric, got "
                f"{qscheme!r}; use PerChannelMinMaxObserver for a range per channel"
            )
        super().__init__(dtype, qscheme, **kwargs)
        self.register_buffer("min_val", Tensor._from_array(np.array(np.inf, np.float32)))
        self.register_buffer("max_val", Tensor._from_array(np.array(-np.inf, np.float32)))

    def forward(self, x: Tensor) -> Tensor:
        if x.numel() == 0:
            return x
        values = x._data.astype(np.float32, copy=False)
        self.min_val._data = np.minimum(self.min_val._data, values.min())
        self.max_val._data = np.maximum(self.max_val._data, values.max())
        return x

    def calculate_qparams(self) -> tuple[Tensor, Tensor]:
        """(scale (1,), zero_point (1,)) for the range seen so far."""
        return self._qparams_from(self.min_val._data.reshape(1), self.max_val._data.reshape(1))


class PerChannelMinMaxObserver(ObserverBase):
    """Tracks a minimum and maximum for each slice along ``ch_axis`` (a weight's output rows)."""

    def __init__(self, ch_axis: int = 0, dtype: dtypes.dtype = dtypes.quint8,
                 qscheme: qscheme = per_channel_affine, **kwargs: Any) -> None:  # fmt: skip
        if qscheme not in (per_channel_affine, per_channel_symmetric):
            raise ValueError(
                "PerChannelMinMaxObserver: qscheme must be per_channel_affine or "
                f"per_channel_symmetric, got {qscheme!r}"
            )
        super().__init__(dtype, qscheme, **kwargs)
        self.ch_axis = ch_axis
        self.register_buffer("min_val", Tensor._from_array(np.zeros(0, np.float32)))
        self.register_buffer("max_val", Tensor._from_array(np.zeros(0, np.float32)))

    def forward(self, x: Tensor) -> Tensor:
        if x.numel() == 0:
            return x
        rows = np.moveaxis(x._data.astype(np.float32, copy=False), self.ch_axis, 0)
        rows = rows.reshape(rows.shape[0], -1)  # (C, everything else)
        low, high = rows.min(axis=1), rows.max(axis=1)
        if self.min_val._data.size:
            low = np.minimum(self.min_val._data, low)
            high = np.maximum(self.max_val._data, high)
        self.min_val._data, self.max_val._data = low, high
        return x

    def calculate_qparams(self) -> tuple[Tensor, Tensor]:
        """(scales (C,), zero_points (C,)) for the ranges seen so far."""
        return self._qparams_from(self.min_val._data, self.max_val._data)


class HistogramObserver(ObserverBase):
    """Keeps a histogram of every value seen and clips rare outliers before choosing qparams.

    One far outlier stretches min/max and wastes most of the 256 levels on empty space.
    Like PyTorch's, this observer keeps a ``bins``-bin histogram over the running [min, max]
    and, at ``calculate_qparams``, narrows the range from both ends (a small share of the
    values at a time, trimming the side that frees more bins) as long as the expected squared
    quantization error of the histogram's values keeps falling; values left outside saturate.
    When a new batch widens the range, the old counts are spread evenly over the new bins
    their old bin covers (PyTorch resamples differently, so its qparams can differ slightly).
    """

    def __init__(self, bins: int = 2048, dtype: dtypes.dtype = dtypes.quint8,
                 qscheme: qscheme = per_tensor_affine, **kwargs: Any) -> None:  # fmt: skip
        super().__init__(dtype, qscheme, **kwargs)
        self.bins = bins
        self.register_buffer("histogram", Tensor._from_array(np.zeros(bins, np.float32)))
        self.register_buffer("min_val", Tensor._from_array(np.array(np.inf, np.float32)))
        self.register_buffer("max_val", Tensor._from_array(np.array(-np.inf, np.float32)))

    def forward(self, x: Tensor) -> Tensor:
        if x.numel() == 0:
            return x
        values = x._data.astype(np.float32, copy=False).ravel()
        old_low, old_high = float(self.min_val._data), float(self.max_val._data)
        low = min(old_low, float(values.min()))
        high = max(old_high, float(values.max()))
        counts = np.histogram(values, self.bins, (low, high))[0].astype(np.float64)
        if np.isfinite(old_low):
            counts += self._rebinned(old_low, old_high, low, high)
        self.histogram._data = counts.astype(np.float32)
        self.min_val._data, self.max_val._data = np.float32(low), np.float32(high)
        return x

    def _rebinned(self, old_low: float, old_high: float, low: float, high: float) -> np.ndarray:
        """The stored counts over [old_low, old_high] moved to ``bins`` bins over [low, high]."""
        old_edges = np.linspace(old_low, old_high, self.bins + 1)
        cumulative = np.concatenate([[0.0], np.cumsum(self.histogram._data, dtype=np.float64)])
        new_edges = np.linspace(low, high, self.bins + 1)
        return np.diff(np.interp(new_edges, old_edges, cumulative))  # uniform inside each bin

    def calculate_qparams(self) -> tuple[Tensor, Tensor]:
        """(scale (1,), zero_point (1,)) for the clipped range that minimizes the error."""
        low, high = self.min_val._data, self.max_val._data
        if np.isfinite(low) and high > low:
            low, high = self._search_range()
        return self._qparams_from(np.float32(low).reshape(1), np.float32(high).reshape(1))

    def _search_range(self) -> tuple[float, float]:
        """Trim [min, max] from both ends while the quantization error keeps falling."""
        counts = self.histogram._data.astype(np.float64)
        cumulative, total = np.cumsum(counts), counts.sum()
        step, alpha, beta = 1e-5, 0.0, 1.0  # share of values cut below / kept under the top
        start, end, best = 0, self.bins - 1, np.inf
        while alpha < beta:
            first = int(np.searchsorted(cumulative, (alpha + step) * total, "left"))
            last = int(np.searchsorted(cumulative, (beta - step) * total, "right")) - 1
            first, last = min(max(first, start), end), max(min(last, end), start)
            new_start, new_end = start, end
            if first - start > end - last:
                new_start, alpha = first, alpha + step
            else:
                new_end, beta = last, beta - step
            if (new_start, new_end) == (start, end):
                continue
            error = self._quantization_error(counts, new_start, new_end)
            if error > best:
                break
            best, start, end = error, new_start, new_end
        width = (float(self.max_val._data) - float(self.min_val._data)) / self.bins
        return float(self.min_val._data) + width * start, float(self.min_val._data) + width * (
            end + 1
        )

    def _quantization_error(self, counts: np.ndarray, start: int, end: int) -> float:
        """Expected squared error when bins [start, end] share 2^bits levels (values spread
        evenly inside each bin; values outside saturate at the nearest level)."""
        width = (float(self.max_val._data) - float(self.min_val._data)) / self.bins
        levels = 2 ** (8 * self.dtype.itemsize)
        level_width = width * (end - start + 1) / levels
        if level_width == 0:
            return 0.0
        centers = np.arange(self.bins) + 0.5 - start  # bin centres, in bins from ``start``
        position = centers * width / level_width  # in levels
        nearest = np.clip(np.floor(position), 0, levels - 1) + 0.5
        distance = (position - nearest) * level_width
        # a bin of width w centred at distance d from its level: mean error d^2 + w^2 / 12,
        # where the bin lies inside one level's reach
        return float(np.sum(counts * (distance**2 + width**2 / 12)))


class MovingAverageMinMaxObserver(MinMaxObserver):
    """MinMaxObserver whose range follows an exponential moving average of each batch's
    min and max (``averaging_constant`` c): min <- min + c (batch_min - min). Used while
    training (QAT), where early batches come from a model that is still changing."""

    def __init__(self, averaging_constant: float = 0.01, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.averaging_constant = averaging_constant

    def forward(self, x: Tensor) -> Tensor:
        if x.numel() == 0:
            return x
        values = x._data.astype(np.float32, copy=False)
        low, high = np.float32(values.min()), np.float32(values.max())
        if np.isfinite(self.min_val._data):
            c = np.float32(self.averaging_constant)
            low = self.min_val._data + c * (low - self.min_val._data)
            high = self.max_val._data + c * (high - self.max_val._data)
        self.min_val._data, self.max_val._data = np.asarray(low), np.asarray(high)
        return x


class MovingAveragePerChannelMinMaxObserver(PerChannelMinMaxObserver):
    """PerChannelMinMaxObserver with the moving average of MovingAverageMinMaxObserver."""

    def __init__(self, averaging_constant: float = 0.01, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.averaging_constant = averaging_constant

    def forward(self, x: Tensor) -> Tensor:
        if x.numel() == 0:
            return x
        old_low, old_high = self.min_val._data, self.max_val._data
        self.min_val._data = np.zeros(0, np.float32)  # the parent records this batch alone
        super().forward(x)
        if old_low.size:
            c = np.float32(self.averaging_constant)
            self.min_val._data = old_low + c * (self.min_val._data - old_low)
            self.max_val._data = old_high + c * (self.max_val._data - old_high)
        return x


class PlaceholderObserver(ObserverBase):
    """Records nothing: it only carries a dtype, for dynamic quantization's activations
    (their qparams are computed from each batch at run time)."""

    def __init__(self, dtype: dtypes.dtype = dtypes.quint8, is_dynamic: bool = False,
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(dtype, **kwargs)
        self.is_dynamic = is_dynamic

    def forward(self, x: Tensor) -> Tensor:
        return x

    def calculate_qparams(self) -> tuple[Tensor, Tensor]:
        raise RuntimeError(
            "PlaceholderObserver.calculate_qparams: a placeholder observes nothing; dynamic "
            "quantization computes activation qparams from each batch"
        )


default_observer = MinMaxObserver.with_args(quant_min=0, quant_max=127)
default_weight_observer = MinMaxObserver.with_args(dtype=dtypes.qint8, qscheme=per_tensor_symmetric)
default_per_channel_weight_observer = PerChannelMinMaxObserver.with_args(
    dtype=dtypes.qint8, qscheme=per_channel_symmetric
)
default_dynamic_quant_observer = PlaceholderObserver.with_args(
    dtype=dtypes.quint8, quant_min=0, quant_max=255, is_dynamic=True
)
