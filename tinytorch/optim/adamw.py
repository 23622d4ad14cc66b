"""``AdamW``: Adam with decoupled weight decay (Loshchilov & Hutter, 2019) (module 06)."""

from __future__ import annotations

from tinytorch.optim.adam import Adam
from tinytorch.optim.optimizer import ParamsT


class AdamW(Adam):
    """Adam whose weight decay shrinks the parameters directly instead of the gradient.

    Each step first decays ``param *= 1 - lr * weight_decay``, then takes Adam's step with the
    plain gradient (see ``Adam``). Adding ``weight_decay * param`` to the gradient instead (L2,
    as ``Adam`` does) lets Adam's per-parameter scaling weaken the decay of parameters with
    large gradients; decoupling keeps the decay the same for every parameter.

    Example::

        >>> opt = tinytorch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )
