"""``Adam``: adaptive moment estimation (Kingma & Ba, 2015), and AdamW's shared core (module 06)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinytorch.creation import zeros_like
from tinytorch.optim.optimizer import Optimizer, ParamsT, check_non_negative
from tinytorch.tensor import Tensor


class Adam(Optimizer):
    """Adam: a step per parameter scaled by running averages of the gradient and its square.

    With ``g = grad + weight_decay * param`` (``-grad`` when ``maximize``) and the step
    count ``t = 1, 2, ...``, one step is::

        m = beta1 * m + (1 - beta1) * g             first moment (momentum)
        v = beta2 * v + (1 - beta2) * g**2          second moment
        v_max = max(v_max, v)                       (amsgrad=True: use v_max for v below)
        param -= lr / (1 - beta1**t) * m / (sqrt(v / (1 - beta2**t)) + eps)

    The ``1 - beta**t`` factors undo the bias of ``m`` and ``v`` towards their zero start.
    ``decoupled_weight_decay=True`` is AdamW: ``param *= 1 - lr * weight_decay`` first, and
    ``g`` is the plain gradient.

    Example::

        >>> opt = tinytorch.optim.Adam(model.parameters(), lr=1e-3)
        >>> loss.backward(); opt.step(); opt.zero_grad()
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _check_hyperparameters(self, options: dict[str, Any]) -> None:
        check_non_negative(options["lr"], "learning rate")
        check_non_negative(options["eps"], "epsilon value")
        for index, beta in enumerate(options["betas"]):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {index}: {beta}")
        check_non_negative(options["weight_decay"], "weight_decay value")

    def _update(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        # BEGIN SOLUTION 06
        if not state:
            state["step"] = 0
            state["exp_avg"] = zeros_like(param)
            state["exp_avg_sq"] = zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = zeros_like(param)
        state["step"] += 1
        lr, weight_decay, (beta1, beta2) = group["lr"], group["weight_decay"], group["betas"]
        if group["decoupled_weight_decay"]:  # AdamW: shrink the parameter, not the gradient
            param._data *= 1 - lr * weight_decay
            weight_decay = 0
        grad = self._gradient(param, group["maximize"], weight_decay)
        exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
        scratch = np.multiply(grad, 1 - beta1)  # the step's one temporary array
        exp_avg *= beta1
        exp_avg += scratch  # m = beta1 * m + (1 - beta1) * g
        np.multiply(grad, grad, out=scratch)
        scratch *= 1 - beta2
        exp_avg_sq *= beta2
        exp_avg_sq += scratch  # v = beta2 * v + (1 - beta2) * g**2
        if group["amsgrad"]:
            max_exp_avg_sq = state["max_exp_avg_sq"]._data
            np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            exp_avg_sq = max_exp_avg_sq
        bias_correction1 = 1 - beta1 ** state["step"]
        root_correction2 = math.sqrt(1 - beta2 ** state["step"])
        # lr / c1 * m / (sqrt(v) / r2 + eps) = (lr * r2 / c1) * m / (sqrt(v) + eps * r2), with
        # c1 = 1 - beta1**t and r2 = sqrt(1 - beta2**t): the right side is one array op fewer.
        denominator = np.sqrt(exp_avg_sq, out=scratch)
        denominator += group["eps"] * root_correction2
        update = np.divide(exp_avg, denominator, out=scratch)
        update *= lr * root_correction2 / bias_correction1
        param._data -= update
        # END SOLUTION
