"""``Adadelta``: steps scaled by the ratio of two running root mean squares (Zeiler, 2012)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinytorch.creation import zeros_like
from tinytorch.optim.optimizer import Optimizer, ParamsT, check_non_negative
from tinytorch.tensor import Tensor


class Adadelta(Optimizer):
    """Adadelta: each step has the units of the parameter, so ``lr`` (default 1.0) rarely
    needs tuning.

    With ``g = grad + weight_decay * param`` (``-grad`` when ``maximize``), one step is::

        v = rho * v + (1 - rho) * g**2                    running mean of squared gradients
        delta = sqrt(u + eps) / sqrt(v + eps) * g         u: running mean of squared steps
        u = rho * u + (1 - rho) * delta**2
        param -= lr * delta

    The state holds ``square_avg`` (v) and ``acc_delta`` (u), as in PyTorch. Example::

        >>> opt = tinytorch.optim.Adadelta(model.parameters())
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_hyperparameters(self, options: dict[str, Any]) -> None:
        check_non_negative(options["lr"], "learning rate")
        if not 0.0 <= options["rho"] <= 1.0:
            raise ValueError(f"Invalid rho value: {options['rho']}")
        check_non_negative(options["eps"], "epsilon value")
        check_non_negative(options["weight_decay"], "weight_decay value")

    def _update(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        if not state:
            state["step"] = 0
            state["square_avg"] = zeros_like(param)
            state["acc_delta"] = zeros_like(param)
        state["step"] += 1
        rho, eps = group["rho"], group["eps"]
        grad = self._gradient(param, group["maximize"], group["weight_decay"])
        square_avg, acc_delta = state["square_avg"]._data, state["acc_delta"]._data
        square_avg *= rho
        square_avg += (1 - rho) * grad * grad
        delta = np.sqrt(acc_delta + eps)
        delta /= np.sqrt(square_avg + eps)
        delta *= grad
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        param._data -= group["lr"] * delta
