"""Learning-rate schedules: change each group's ``lr`` as training goes on (module 07).

A scheduler wraps an optimizer. Its ``step()`` advances ``last_epoch`` by one and writes the
new learning rate into every parameter group; call it after ``optimizer.step()``, once per
epoch (or once per batch for ``OneCycleLR``)::

    >>> scheduler = tinytorch.optim.lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.1)
    >>> for epoch in range(100):
    ...     train_one_epoch(model, optimizer)
    ...     scheduler.step()

Every schedule here is a function of ``last_epoch`` and of ``base_lrs`` (each group's
``initial_lr``, recorded when the scheduler is made). tinytorch computes that closed form at
every step, where PyTorch updates most schedules recursively from the current ``lr``: the
values are the same, but an ``lr`` changed by hand is overwritten at the next ``step()``.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tinytorch.optim.optimizer import Optimizer


class LRScheduler:
    """Base class: keeps ``base_lrs`` and ``last_epoch``; subclasses define ``get_lr``.

    Making a scheduler sets ``group["initial_lr"]`` (if absent) and applies the learning rate
    of epoch 0. To resume, pass ``last_epoch`` (the groups must then already hold
    ``initial_lr``) or restore ``load_state_dict``.
    """

    _not_saved: tuple[str, ...] = ("optimizer",)

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        for number, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(
                    f"param 'initial_lr' is not specified in param_groups[{number}] when "
                    f"resuming an optimizer"
                )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def get_lr(self) -> list[float]:
        """The learning rate of each group at epoch ``self.last_epoch``."""
        raise NotImplementedError(f"{type(self).__name__} must define get_lr")

    def step(self, epoch: int | None = None) -> None:
        """Move to the next epoch (or to ``epoch``) and set every group's ``lr``."""
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates that the last ``step()`` set, one per group."""
        return self._last_lr

    def state_dict(self) -> dict[str, Any]:
        """Every attribute of the scheduler except the optimizer (and functions)."""
        return {key: value for key, value in vars(self).items() if key not in self._not_saved}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore attributes saved by ``state_dict`` from a scheduler of the same class."""
        unknown = sorted(set(state_dict) - set(self.state_dict()))
        if unknown:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: unexpected keys {unknown}; was the "
                f"state saved from another kind of scheduler?"
            )
        vars(self).update(state_dict)


def _per_group(name: str, optimizer: Optimizer, value: Any) -> list[Any]:
    """``value`` repeated for each group, or checked to have one entry per group."""
    if not isinstance(value, (list, tuple)):
        return [value] * len(optimizer.param_groups)
    if len(value) != len(optimizer.param_groups):
        raise ValueError(
            f"{name} must have the same length as optimizer.param_groups. {name} has "
            f"{len(value)} values, param_groups has {len(optimizer.param_groups)}."
        )
    return list(value)


class LambdaLR(LRScheduler):
    """``lr = base_lr * lr_lambda(epoch)``; one function, or one per group.

    The functions are not part of ``state_dict``: pass them again when resuming.

    Example::

        >>> warmup = LambdaLR(optimizer, lr_lambda=lambda epoch: min(1.0, (epoch + 1) / 10))
    """

    _not_saved = ("optimizer", "lr_lambdas")

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        self.lr_lambdas = _per_group("lr_lambda", optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        # BEGIN SOLUTION 07
        return [
            base_lr * lr_lambda(self.last_epoch)
            for base_lr, lr_lambda in zip(self.base_lrs, self.lr_lambdas, strict=True)
        ]
        # END SOLUTION


class StepLR(LRScheduler):
    """Decay by ``gamma`` every ``step_size`` epochs: ``lr = base_lr * gamma ** (epoch //
    step_size)``.

    Example (lr 0.1 for epochs 0-29, 0.01 for 30-59, ...)::

        >>> scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        # BEGIN SOLUTION 07
        factor = self.gamma ** (self.last_epoch // self.step_size)
        return [base_lr * factor for base_lr in self.base_lrs]
        # END SOLUTION


class MultiStepLR(LRScheduler):
    """Decay by ``gamma`` at each milestone epoch: ``lr = base_lr * gamma ** (number of
    milestones <= epoch)``; a milestone listed twice decays twice.

    Example (lr 0.1 until epoch 29, 0.01 until 79, then 0.001)::

        >>> scheduler = MultiStepLR(optimizer, milestones=[30, 80], gamma=0.1)
    """

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: Iterable[int],
        gamma: float = 0.1,
        last_epoch: int = -1,
    ) -> None:
        self.milestones = sorted(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        # BEGIN SOLUTION 07
        factor = self.gamma ** bisect.bisect_right(self.milestones, self.last_epoch)
        return [base_lr * factor for base_lr in self.base_lrs]
        # END SOLUTION


class ExponentialLR(LRScheduler):
    """Decay by ``gamma`` every epoch: ``lr = base_lr * gamma ** epoch``.

    Example::

        >>> scheduler = ExponentialLR(optimizer, gamma=0.95)
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        # BEGIN SOLUTION 07
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]
        # END SOLUTION


class CosineAnnealingLR(LRScheduler):
    """Follow half a cosine from ``base_lr`` down to ``eta_min`` over ``T_max`` epochs::

        lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2

    After ``T_max`` the cosine rises again (SGDR's schedule without restarts).

    Example::

        >>> scheduler = CosineAnnealingLR(optimizer, T_max=100, eta_min=1e-5)
    """

    def __init__(
        self,
        optimizer: Optimizer,
        T_max: int,  # noqa: N803 - PyTorch's name
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        # BEGIN SOLUTION 07
        cosine = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base_lr - self.eta_min) * cosine for base_lr in self.base_lrs]
        # END SOLUTION


class LinearLR(LRScheduler):
    """Scale ``base_lr`` by a factor that moves linearly from ``start_factor`` to
    ``end_factor`` over ``total_iters`` epochs, then stays (a warm-up by default)::

        lr = base_lr * (start + (end - start) * min(epoch, total_iters) / total_iters)

    Example (lr/3 at epoch 0, full lr from epoch 5 on)::

        >>> scheduler = LinearLR(optimizer, start_factor=1 / 3, total_iters=5)
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        if not 0 < start_factor <= 1:
            raise ValueError(
                "Starting multiplicative factor expected to be greater than 0 and less or "
                "equal to 1."
            )
        if not 0 <= end_factor <= 1:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        # BEGIN SOLUTION 07
        progress = min(self.last_epoch, self.total_iters) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * progress
        return [base_lr * factor for base_lr in self.base_lrs]
        # END SOLUTION


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2018): warm up to ``max_lr``, then anneal far below.

    Stepped once per batch, for ``total_steps = epochs * steps_per_epoch`` steps. The learning
    rate goes from ``max_lr / div_factor`` up to ``max_lr`` in the first ``pct_start`` of the
    steps, then down to ``max_lr / div_factor / final_div_factor`` (``three_phase=True``:
    back to the start value, then down). Each phase anneals with ``anneal_strategy``::

        cos:     end + (start - end) * (1 + cos(pi * pct)) / 2     pct: 0 -> 1 in the phase
        linear:  start + (end - start) * pct

    With ``cycle_momentum`` the momentum (SGD) or ``beta1`` (Adam) moves the opposite way,
    between ``max_momentum`` and ``base_momentum``.

    Example::

        >>> scheduler = OneCycleLR(optimizer, max_lr=0.1, epochs=10, steps_per_epoch=100)
        >>> for batch in loader:  # ... optimizer.step(); scheduler.step()
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | Sequence[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | Sequence[float] = 0.85,
        max_momentum: float | Sequence[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        self.total_steps = _total_steps(total_steps, epochs, steps_per_epoch)
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}"
            )
        self.anneal_strategy = anneal_strategy
        self.phases = _one_cycle_phases(self.total_steps, pct_start, three_phase)
        self.cycle_momentum = cycle_momentum
        self.use_beta1 = "betas" in optimizer.defaults
        if cycle_momentum and not self.use_beta1 and "momentum" not in optimizer.defaults:
            raise ValueError(
                "optimizer must support momentum or beta1 with `cycle_momentum` option enabled"
            )
        if last_epoch == -1:
            self._init_groups(optimizer, max_lr, div_factor, final_div_factor)
            if cycle_momentum:
                self._init_momentum(optimizer, base_momentum, max_momentum)
        super().__init__(optimizer, last_epoch)

    def _init_groups(
        self, optimizer: Optimizer, max_lr: Any, div_factor: float, final_div_factor: float
    ) -> None:
        """Store each group's ``initial_lr``, ``max_lr`` and ``min_lr``."""
        for group, group_max_lr in zip(
            optimizer.param_groups, _per_group("max_lr", optimizer, max_lr), strict=True
        ):
            group["initial_lr"] = group_max_lr / div_factor
            group["max_lr"] = group_max_lr
            group["min_lr"] = group["initial_lr"] / final_div_factor

    def _init_momentum(self, optimizer: Optimizer, base_momentum: Any, max_momentum: Any) -> None:
        """Store each group's momentum bounds and start its momentum at ``max_momentum``."""
        bases = _per_group("base_momentum", optimizer, base_momentum)
        maxima = _per_group("max_momentum", optimizer, max_momentum)
        for group, base, maximum in zip(optimizer.param_groups, bases, maxima, strict=True):
            self._set_momentum(group, maximum)
            group["base_momentum"] = base
            group["max_momentum"] = maximum

    def _set_momentum(self, group: dict[str, Any], momentum: float) -> None:
        if self.use_beta1:
            group["betas"] = (momentum, *group["betas"][1:])
        else:
            group["momentum"] = momentum

    def get_lr(self) -> list[float]:
        # BEGIN SOLUTION 07
        if self.last_epoch > self.total_steps:
            raise ValueError(
                f"Tried to step {self.last_epoch} times. The specified number of total steps "
                f"is {self.total_steps}"
            )
        phase, pct = self._current_phase()
        lrs = []
        for group in self.optimizer.param_groups:
            lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct))
            if self.cycle_momentum:
                start, end = group[phase["start_momentum"]], group[phase["end_momentum"]]
                self._set_momentum(group, self._anneal(start, end, pct))
        return lrs
        # END SOLUTION

    def _current_phase(self) -> tuple[dict[str, Any], float]:
        """The phase that step ``last_epoch`` falls in, and how far into it (0 to 1) it is."""
        # BEGIN SOLUTION 07
        start_step = 0.0
        for phase in self.phases[:-1]:
            if self.last_epoch <= phase["end_step"]:
                break
            start_step = phase["end_step"]
        else:  # past every earlier phase: in the last one, however far
            phase = self.phases[-1]
        return phase, (self.last_epoch - start_step) / (phase["end_step"] - start_step)
        # END SOLUTION

    def _anneal(self, start: float, end: float, pct: float) -> float:
        """Move from ``start`` (pct 0) to ``end`` (pct 1) along a cosine or a line."""
        # BEGIN SOLUTION 07
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start
        # END SOLUTION


def _total_steps(total_steps: int | None, epochs: int | None, steps_per_epoch: int | None) -> int:
    """OneCycleLR's cycle length: ``total_steps``, or ``epochs * steps_per_epoch``."""
    if total_steps is not None:
        if not isinstance(total_steps, int) or total_steps <= 0:
            raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
        return total_steps
    if epochs is None or steps_per_epoch is None:
        raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
    if not isinstance(epochs, int) or epochs <= 0:
        raise ValueError(f"Expected positive integer epochs, but got {epochs}")
    if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
        raise ValueError(f"Expected positive integer steps_per_epoch, but got {steps_per_epoch}")
    return epochs * steps_per_epoch


def _one_cycle_phases(total_steps: int, pct_start: float, three_phase: bool) -> list[dict]:
    """The phases of a cycle: the step each ends at and the group keys it anneals between."""
    warmup_end = float(pct_start * total_steps) - 1
    last = total_steps - 1
    if three_phase:
        return [
            _phase(warmup_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
            _phase(2 * warmup_end, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
            _phase(last, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
        ]
    return [
        _phase(warmup_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
        _phase(last, "max_lr", "min_lr", "base_momentum", "max_momentum"),
    ]


def _phase(end_step: float, start_lr: str, end_lr: str, start_mom: str, end_mom: str) -> dict:
    return {
        "end_step": end_step,
        "start_lr": start_lr,
        "end_lr": end_lr,
        "start_momentum": start_mom,
        "end_momentum": end_mom,
    }
