"""``SGD``: stochastic gradient descent, with momentum and Nesterov momentum (module 06)."""

from __future__ import annotations

from typing import Any

from tinytorch.optim.optimizer import Optimizer, ParamsT, check_non_negative
from tinytorch.tensor import Tensor


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    With ``g = grad + weight_decay * param`` (``-grad`` when ``maximize``), one step is::

        momentum == 0:   param -= lr * g
        otherwise:       b = g                                    (first step)
                         b = momentum * b + (1 - dampening) * g   (later steps)
                         param -= lr * b                          (heavy ball)
                         param -= lr * (g + momentum * b)         (nesterov=True)

    Example::

        >>> opt = tinytorch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> loss.backward(); opt.step(); opt.zero_grad()
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_hyperparameters(self, options: dict[str, Any]) -> None:
        check_non_negative(options["lr"], "learning rate")
        check_non_negative(options["momentum"], "momentum value")
        check_non_negative(options["weight_decay"], "weight_decay value")
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _update(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        # BEGIN SOLUTION 06
        grad = self._gradient(param, group["maximize"], group["weight_decay"])
        momentum, dampening = group["momentum"], group["dampening"]
        if momentum != 0:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                state["momentum_buffer"] = buffer = Tensor._from_array(grad.copy())
            else:
                buffer._data *= momentum
                buffer._data += grad if dampening == 0 else (1 - dampening) * grad
            if group["nesterov"]:
                grad = grad + momentum * buffer._data
            else:
                grad = buffer._data
        param._data -= group["lr"] * grad
        # END SOLUTION
