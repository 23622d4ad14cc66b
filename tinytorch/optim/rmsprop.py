"""``RMSprop``: divide each step by a running root mean square of the gradient (module 06)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinytorch.creation import zeros_like
from tinytorch.optim.optimizer import Optimizer, ParamsT, check_non_negative
from tinytorch.tensor import Tensor


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012): steps scaled down where gradients have been large.

    With ``g = grad + weight_decay * param`` (``-grad`` when ``maximize``), one step is::

        v = alpha * v + (1 - alpha) * g**2          running mean of the squared gradient
        a = alpha * a + (1 - alpha) * g             (centered=True: running mean gradient)
        s = sqrt(v) + eps                           (centered: sqrt(v - a**2) + eps)
        param -= lr * g / s                         (momentum == 0)
        b = momentum * b + g / s;  param -= lr * b  (momentum > 0)

    Example::

        >>> opt = tinytorch.optim.RMSprop(model.parameters(), lr=1e-2, alpha=0.99)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_hyperparameters(self, options: dict[str, Any]) -> None:
        check_non_negative(options["lr"], "learning rate")
        check_non_negative(options["eps"], "epsilon value")
        check_non_negative(options["momentum"], "momentum value")
        check_non_negative(options["weight_decay"], "weight_decay value")
        check_non_negative(options["alpha"], "alpha value")

    def _update(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        # BEGIN SOLUTION 06
        if not state:
            state["step"] = 0
            state["square_avg"] = zeros_like(param)
            if group["momentum"] > 0:
                state["momentum_buffer"] = zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = zeros_like(param)
        state["step"] += 1
        alpha = group["alpha"]
        grad = self._gradient(param, group["maximize"], group["weight_decay"])
        square_avg = state["square_avg"]._data
        scratch = np.multiply(grad, grad)  # the step's one temporary array
        scratch *= 1 - alpha
        square_avg *= alpha
        square_avg += scratch
        if group["centered"]:
            grad_avg = state["grad_avg"]._data
            grad_avg *= alpha
            grad_avg += np.multiply(grad, 1 - alpha, out=scratch)
            np.multiply(grad_avg, grad_avg, out=scratch)
            np.subtract(square_avg, scratch, out=scratch)
            np.sqrt(scratch, out=scratch)
        else:
            np.sqrt(square_avg, out=scratch)
        scratch += group["eps"]
        step = np.divide(grad, scratch, out=scratch)
        if group["momentum"] > 0:
            buffer = state["momentum_buffer"]._data
            buffer *= group["momentum"]
            buffer += step
            step = np.multiply(buffer, group["lr"], out=scratch)
        else:
            step *= group["lr"]
        param._data -= step
        # END SOLUTION
