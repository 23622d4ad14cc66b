"""``GradScaler``: dynamic loss scaling for float16 gradients, with PyTorch's semantics.

float16 has 10 mantissa bits and its smallest normal number is about 6e-5: gradients of a
float16 network below that lose precision, and below 6e-8 they become 0. Multiplying the loss
by a large scale ``S`` multiplies every gradient by ``S`` (backward is linear in the loss), so
they stay representable; dividing the gradients by ``S`` before the optimizer step undoes it.
Too large an ``S`` makes a gradient overflow to inf: that step is skipped and ``S`` halved.
After ``growth_interval`` steps without overflow ``S`` doubles again::

    scaler = tinytorch.amp.GradScaler()
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        scaler.scale(loss).backward()   # gradients of S * loss
        scaler.step(optimizer)          # unscale, then step unless a gradient is inf or nan
        scaler.update()                 # S /= 2 after an overflow, S *= 2 after a clean run
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from tinytorch.tensor import Tensor

READY, UNSCALED, STEPPED = "ready", "unscaled", "stepped"


class GradScaler:
    """Scale the loss, unscale the gradients, skip steps with inf/nan, adapt the scale.

    Args:
        device: accepted for PyTorch's signature (tinytorch runs on the CPU).
        init_scale: the first scale ``S``.
        growth_factor: ``S`` is multiplied by it after ``growth_interval`` clean steps.
        backoff_factor: ``S`` is multiplied by it after a step with an inf or nan gradient.
        growth_interval: clean steps in a row before ``S`` grows.
        enabled: False makes every method a pass-through (``step`` just steps).
    """

    def __init__(
        self,
        device: str = "cpu",
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        if growth_factor <= 1.0:
            raise ValueError(f"GradScaler: growth_factor must be > 1.0, got {growth_factor}")
        if not 0.0 < backoff_factor < 1.0:
            raise ValueError(f"GradScaler: backoff_factor must be in (0, 1), got {backoff_factor}")
        if growth_interval <= 0:
            raise ValueError(f"GradScaler: growth_interval must be > 0, got {growth_interval}")
        self.device = device
        self._enabled = enabled
        self._scale = float(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._growth_tracker = 0
        self._per_optimizer: dict[int, dict[str, Any]] = {}

    def is_enabled(self) -> bool:
        return self._enabled

    def get_scale(self) -> float:
        """The current scale ``S`` (1.0 when disabled)."""
        return self._scale if self._enabled else 1.0

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def scale(self, outputs: Any) -> Any:
        """``outputs * S``: a tensor, or a list/tuple of them (nested), scaled alike."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            return outputs * self._scale
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(output) for output in outputs)
        raise TypeError(
            f"GradScaler.scale: outputs must be a Tensor or a list/tuple of Tensors, "
            f"got {type(outputs).__name__}"
        )

    def _state(self, optimizer: Any) -> dict[str, Any]:
        return self._per_optimizer.setdefault(id(optimizer), {"stage": READY, "found_inf": None})

    def unscale_(self, optimizer: Any) -> None:
        """Divide the gradients of ``optimizer``'s parameters by ``S`` in place, noting inf/nan.

        Call it before clipping gradients (``clip_grad_norm_`` must see true gradients);
        ``step`` then does not unscale again.
        """
        if not self._enabled:
            return
        state = self._state(optimizer)
        if state["stage"] == UNSCALED:
            raise RuntimeError(
                "unscale_() has already been called on this optimizer since the last update()."
            )
        if state["stage"] == STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        state["found_inf"] = unscale_gradients(gradients_of(optimizer), 1.0 / self._scale)
        state["stage"] = UNSCALED

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """Unscale (unless ``unscale_`` did), then ``optimizer.step()`` unless a gradient is
        inf or nan. Returns what ``optimizer.step`` returns, or None for a skipped step."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        state = self._state(optimizer)
        if state["stage"] == STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] == READY:
            self.unscale_(optimizer)
        if state["found_inf"] is None:
            raise RuntimeError("No inf checks were recorded for this optimizer.")
        state["stage"] = STEPPED
        return None if state["found_inf"] else optimizer.step(*args, **kwargs)

    def update(self, new_scale: float | None = None) -> None:
        """Adapt ``S`` once per iteration, after every ``step``; or set it to ``new_scale``."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale)
        else:
            found = [
                s["found_inf"] for s in self._per_optimizer.values() if s["found_inf"] is not None
            ]
            if not found:
                raise RuntimeError("No inf checks were recorded prior to update.")
            self._scale, self._growth_tracker = next_scale(
                self._scale,
                self._growth_tracker,
                any(found),
                self._growth_factor,
                self._backoff_factor,
                self._growth_interval,
            )
        self._per_optimizer = {}

    def state_dict(self) -> dict[str, Any]:
        if not self._enabled:
            return {}
        return {
            "scale": self._scale,
            "growth_factor": self._growth_factor,
            "backoff_factor": self._backoff_factor,
            "growth_interval": self._growth_interval,
            "_growth_tracker": self._growth_tracker,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if not self._enabled:
            return
        if not state_dict:
            raise RuntimeError(
                "The source state dict is empty, possibly because it was saved from a "
                "disabled instance of GradScaler."
            )
        self._scale = float(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])


def gradients_of(optimizer: Any) -> list[Tensor]:
    """The ``.grad`` tensors of ``optimizer``'s parameters (those that have one)."""
    return [
        parameter.grad
        for group in optimizer.param_groups
        for parameter in group["params"]
        if parameter.grad is not None
    ]


def unscale_gradients(gradients: Iterable[Tensor], inverse_scale: float) -> bool:
    """Multiply every gradient by ``inverse_scale`` in place; True if any holds inf or nan.

    float16 gradients are refused, as in PyTorch: keep float32 parameters ("master weights")
    and cast to float16 in the forward only.
    """
    found_inf = False
    for gradient in gradients:
        array = gradient._data
        if array.dtype == np.float16:
            raise ValueError(
                "Attempting to unscale FP16 gradients: keep the parameters in float32 and cast "
                "activations to float16 in forward"
            )
        array *= array.dtype.type(inverse_scale)
        found_inf = found_inf or not bool(np.isfinite(array).all())
    return found_inf


def next_scale(
    scale: float,
    growth_tracker: int,
    found_inf: bool,
    growth_factor: float,
    backoff_factor: float,
    growth_interval: int,
) -> tuple[float, int]:
    """The scale and growth tracker after one iteration.

    An inf or nan gradient multiplies the scale by ``backoff_factor`` and restarts the count
    of clean steps; otherwise the count grows by one, and when it reaches ``growth_interval``
    the scale is multiplied by ``growth_factor`` and the count restarts.
    """
    # BEGIN SOLUTION 18
    if found_inf:
        return scale * backoff_factor, 0
    growth_tracker += 1
    if growth_tracker == growth_interval:
        return scale * growth_factor, 0
    return scale, growth_tracker
    # END SOLUTION
