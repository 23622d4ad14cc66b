"""``autocast``: run the operations that gain from lower precision in float16 (``torch.autocast``).

Inside ``with tinytorch.autocast("cpu", dtype=tinytorch.float16):`` the operations on
PyTorch's CPU list of ops that autocast lowers compute in float16: matrix products (``@``,
``matmul``, ``mm``, ``bmm``), ``linear``, convolutions (``conv1d``, ``conv2d`` and their
transposes) and ``scaled_dot_product_attention``. Their float32 tensor arguments are cast
first (a ``Cast`` node, so gradients flow back to the float32 parameters in float32);
float64 arguments are not eligible and stay as they are. The losses (``mse_loss``,
``l1_loss``, ``smooth_l1_loss``, ``cross_entropy``, ``nll_loss``, ``binary_cross_entropy``
with and without logits, ``kl_div``) cast float16 arguments to float32, as on PyTorch's CPU
list of float32 ops. Every other operation runs in the dtypes of its inputs, as PyTorch does
on the CPU: the float16 output of a linear layer stays float16 through an activation, and
adding it to a float32 residual gives float32.

The model's parameters are never changed, and nothing outside the region is affected::

    >>> import tinytorch as torch
    >>> layer = torch.nn.Linear(4, 2)
    >>> with torch.autocast("cpu", dtype=torch.float16):
    ...     y = layer(torch.ones(3, 4))
    >>> y.dtype, layer.weight.dtype
    (tinytorch.float16, tinytorch.float32)

``autocast`` also decorates a function (``@torch.autocast("cpu", dtype=torch.float16)``) and
nests: ``enabled=False`` turns it off inside an enclosing region. PyTorch's default on the CPU
is bfloat16, which NumPy lacks: here the default is float16 (see docs/deviations.md).
NumPy multiplies float16 matrices in plain loops, without BLAS, so a lowered product costs
far more time than in float32: autocast here shows what half precision does to a model's
numerics (and halves the bytes of the lowered outputs), not its speed.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from tinytorch import dtypes
from tinytorch.devices import DEVICE_TYPES

_F = TypeVar("_F", bound=Callable[..., Any])

# The dtype that eligible operations compute in while an autocast region is active on the
# CPU, or None outside (the only state; ``cast_arguments`` reads it once per operation).
_cpu_dtype: dtypes.dtype | None = None

CPU_DTYPES = (dtypes.float16,)  # lower-precision dtypes NumPy can compute in


def is_autocast_enabled(device_type: str = "cpu") -> bool:
    """Whether an autocast region is active for ``device_type`` (only "cpu" can be)."""
    return device_type == "cpu" and _cpu_dtype is not None


def get_autocast_dtype(device_type: str = "cpu") -> dtypes.dtype:
    """The dtype autocast lowers to on ``device_type``: float16 on the CPU."""
    if device_type != "cpu":
        raise RuntimeError(
            f"get_autocast_dtype: tinytorch runs on the CPU only, got device_type "
            f"{device_type!r}; use 'cpu'"
        )
    return dtypes.float16 if _cpu_dtype is None else _cpu_dtype


def cast_arguments(*tensors: Any) -> tuple:
    """``tensors`` with each float32 tensor cast to the autocast dtype while a region is
    active; None, float64 and integer tensors unchanged. Outside a region, ``tensors``."""
    if _cpu_dtype is None:
        return tensors
    return _cast_each(tensors, dtypes.float32, _cpu_dtype)


def float32_arguments(*tensors: Any) -> tuple:
    """``tensors`` with each tensor of the autocast dtype cast to float32 while a region is
    active (the losses on PyTorch's CPU list of ops that autocast runs in float32)."""
    if _cpu_dtype is None:
        return tensors
    return _cast_each(tensors, _cpu_dtype, dtypes.float32)


def _cast_each(tensors: tuple, source: dtypes.dtype, target: dtypes.dtype) -> tuple:
    """Each tensor of dtype ``source`` cast to ``target`` (recorded for autograd)."""
    return tuple(
        tensor.type(target)
        if tensor is not None and tensor._data.dtype == source.numpy_dtype
        else tensor
        for tensor in tensors
    )


class autocast:  # noqa: N801 - PyTorch's name
    """A context manager and decorator in whose region eligible operations run in ``dtype``.

    Args:
        device_type: "cpu". "cuda" and the other device types PyTorch knows are accepted and
            disabled with a warning (there is no such device here), as PyTorch does on a
            machine without one.
        dtype: the lower precision, float16 (the default here; PyTorch's CPU default is
            bfloat16, which NumPy lacks). Another dtype disables the region with a warning,
            as PyTorch does.
        enabled: False runs the region without autocast (also inside an enclosing one).
        cache_enabled: accepted for PyTorch's signature; casts are not cached.
    """

    def __init__(
        self,
        device_type: str,
        dtype: dtypes.dtype | None = None,
        enabled: bool = True,
        cache_enabled: bool | None = None,
    ) -> None:
        if not isinstance(device_type, str) or device_type not in DEVICE_TYPES:
            raise RuntimeError(
                f"autocast: device_type must be one of {', '.join(DEVICE_TYPES)}, got "
                f"{device_type!r}; tinytorch computes on 'cpu'"
            )
        self.device_type = device_type
        self.fast_dtype = dtypes.float16 if dtype is None else dtype
        self._enabled = enabled
        if enabled and device_type != "cpu":
            warnings.warn(
                f"User provided device_type of {device_type!r}, but tinytorch runs on the CPU "
                f"only. Disabling autocast; use device_type='cpu'.",
                stacklevel=2,
            )
            self._enabled = False
        elif enabled and self.fast_dtype not in CPU_DTYPES:
            warnings.warn(
                f"In CPU autocast, but the target dtype is not supported. Disabling autocast. "
                f"CPU Autocast here only supports a dtype of tinytorch.float16, got "
                f"{self.fast_dtype}.",
                stacklevel=2,
            )
            self._enabled = False

    def __enter__(self) -> autocast:
        global _cpu_dtype
        self._previous = _cpu_dtype
        if self.device_type == "cpu":
            _cpu_dtype = self.fast_dtype if self._enabled else None
        return self

    def __exit__(self, *exc_info: object) -> None:
        global _cpu_dtype
        _cpu_dtype = self._previous

    def __call__(self, function: _F) -> _F:
        @functools.wraps(function)
        def run_autocast(*args: Any, **kwargs: Any) -> Any:
            with self:
                return function(*args, **kwargs)

        return run_autocast  # type: ignore[return-value]
