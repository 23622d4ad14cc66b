"""``LBFGS``: a quasi-Newton method that re-evaluates the loss several times per step.

L-BFGS (Nocedal and Wright, Numerical Optimization, 2nd ed., algorithm 7.4) approximates
the inverse Hessian from the last ``history_size`` pairs of parameter changes s and gradient
changes y, and turns the gradient g into a search direction d = -H g with the two-loop
recursion, never building an n x n matrix. Each iteration then moves the parameters by
t d: with ``line_search_fn=None`` t is ``lr`` (on the first iteration at most
lr / sum|g|), with ``"strong_wolfe"`` a line search (algorithms 3.5 and 3.6) picks a t that
lowers the loss enough and flattens the slope (the strong Wolfe conditions).

All parameters are treated as one flat vector (float64 or float32 like the parameters).
``step(closure)`` needs a closure that clears the gradients, computes the loss, calls
``backward()`` and returns the loss; one ``step`` runs up to ``max_iter`` iterations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinytorch.autograd.grad_mode import enable_grad
from tinytorch.optim.optimizer import Optimizer, ParamsT
from tinytorch.tensor import Tensor

Objective = Callable[[float], tuple[float, np.ndarray]]
"""The loss and the flat gradient at x + t d, for a step size t."""


def cubic_minimum(
    t1: float,
    f1: float,
    slope1: float,
    t2: float,
    f2: float,
    slope2: float,
    bounds: tuple[float, float] | None = None,
) -> float:
    """The minimiser of the cubic through (t1, f1) and (t2, f2) with slopes slope1 and slope2
    (Nocedal and Wright, equation 3.59), clipped to ``bounds`` (default: between t1 and t2).
    Without a real minimiser, the middle of the bounds."""
    low, high = bounds if bounds is not None else (min(t1, t2), max(t1, t2))
    d1 = slope1 + slope2 - 3 * (f1 - f2) / (t1 - t2)
    discriminant = d1 * d1 - slope1 * slope2
    if discriminant < 0:
        return (low + high) / 2
    d2 = np.sqrt(discriminant)
    if t1 <= t2:
        minimum = t2 - (t2 - t1) * ((slope2 + d2 - d1) / (slope2 - slope1 + 2 * d2))
    else:
        minimum = t1 - (t1 - t2) * ((slope1 + d2 - d1) / (slope1 - slope2 + 2 * d2))
    return float(min(max(minimum, low), high))


class Trial:
    """One evaluated step size: t, the loss f, the flat gradient g and the slope g . d."""

    def __init__(self, t: float, f: float, g: np.ndarray, slope: float) -> None:
        self.t, self.f, self.g, self.slope = t, f, g, slope


def strong_wolfe(
    objective: Objective,
    direction: np.ndarray,
    start: Trial,
    t: float,
    tolerance_change: float,
    c1: float = 1e-4,
    c2: float = 0.9,
    max_evals: int = 25,
) -> tuple[Trial, int]:
    """A step size along ``direction`` that satisfies the strong Wolfe conditions:

        f(t) <= f(0) + c1 t f'(0)   (enough decrease),   |f'(t)| <= c2 |f'(0)|   (flat enough)

    First steps forward until a bracket [lo, hi] holds such a t (algorithm 3.5), then
    shrinks the bracket by cubic interpolation (``zoom``, algorithm 3.6). ``start`` is
    t = 0; returns the chosen trial and how many times ``objective`` ran.
    """
    evals = 1
    current = Trial(t, *evaluate(objective, t, direction))
    previous = start
    bracket: list[Trial] | None = None
    while evals <= max_evals:
        if current.f > start.f + c1 * t * start.slope or (evals > 2 and current.f >= previous.f):
            bracket = [previous, current]
            break
        if abs(current.slope) <= -c2 * start.slope:
            return current, evals
        if current.slope >= 0:
            bracket = [previous, current]
            break
        # extrapolate: a cubic step, at least 1% beyond t and at most 10 t
        t = cubic_minimum(
            previous.t, previous.f, previous.slope, current.t, current.f, current.slope,
            bounds=(current.t + 0.01 * (current.t - previous.t), current.t * 10),
        )  # fmt: skip
        previous, current = current, Trial(t, *evaluate(objective, t, direction))
        evals += 1
    if bracket is None:  # out of evaluations before a bracket was found
        bracket = [start, current]
    return zoom(objective, direction, start, bracket, evals, tolerance_change, c1, c2, max_evals)


def zoom(
    objective: Objective,
    direction: np.ndarray,
    start: Trial,
    bracket: list[Trial],
    evals: int,
    tolerance_change: float,
    c1: float,
    c2: float,
    max_evals: int,
) -> tuple[Trial, int]:
    """Shrink ``bracket`` (two trials with a strong Wolfe point between them) until its
    better end ``low`` satisfies the conditions, or it is too small, or evaluations run out.

    The trial point is the cubic's minimiser, pushed at least 10% of the bracket's width
    away from an end when the previous trial also landed that close (or outside)."""
    step_norm = np.abs(direction).max()
    low, high = (0, 1) if bracket[0].f <= bracket[1].f else (1, 0)
    stalled = False
    while evals <= max_evals:
        ends = (bracket[0].t, bracket[1].t)
        if abs(ends[1] - ends[0]) * step_norm < tolerance_change:
            break
        t = cubic_minimum(
            bracket[0].t, bracket[0].f, bracket[0].slope, bracket[1].t, bracket[1].f,
            bracket[1].slope,
        )  # fmt: skip
        margin = 0.1 * (max(ends) - min(ends))
        if min(max(ends) - t, t - min(ends)) < margin:
            if stalled or t >= max(ends) or t <= min(ends):
                t = (
                    max(ends) - margin
                    if abs(t - max(ends)) < abs(t - min(ends))
                    else min(ends) + margin
                )
                stalled = False
            else:
                stalled = True
        else:
            stalled = False
        trial = Trial(t, *evaluate(objective, t, direction))
        evals += 1
        if trial.f > start.f + c1 * t * start.slope or trial.f >= bracket[low].f:
            bracket[high] = trial
            low, high = (0, 1) if bracket[0].f <= bracket[1].f else (1, 0)
            continue
        if abs(trial.slope) <= -c2 * start.slope:
            bracket[low] = trial
            break
        if trial.slope * (bracket[high].t - bracket[low].t) >= 0:
            bracket[high] = bracket[low]
        bracket[low] = trial
    return bracket[low], evals


def evaluate(
    objective: Objective, t: float, direction: np.ndarray
) -> tuple[float, np.ndarray, float]:
    """(loss, flat gradient, slope g . d) at step size t."""
    loss, grad = objective(t)
    return loss, grad, float(grad @ direction)


class LBFGS(Optimizer):
    """L-BFGS over all parameters as one vector (see the module's notes).

    Args: ``lr`` the step size; ``max_iter`` iterations per ``step``; ``max_eval`` loss
    evaluations per ``step`` (default max_iter * 5 / 4); ``tolerance_grad`` stop when
    max |g| is below it; ``tolerance_change`` stop when the loss or the step changes less;
    ``history_size`` (s, y) pairs kept; ``line_search_fn`` None or "strong_wolfe".
    Only one parameter group. Example::

        opt = tinytorch.optim.LBFGS(model.parameters(), line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            return loss

        opt.step(closure)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        if not lr >= 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if line_search_fn not in (None, "strong_wolfe"):
            raise RuntimeError(
                f"LBFGS: only 'strong_wolfe' is supported as line_search_fn, got {line_search_fn!r}"
            )
        defaults = {
            "lr": lr,
            "max_iter": max_iter,
            "max_eval": max_iter * 5 // 4 if max_eval is None else max_eval,
            "tolerance_grad": tolerance_grad,
            "tolerance_change": tolerance_change,
            "history_size": history_size,
            "line_search_fn": line_search_fn,
        }
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")

    # -------------------------------------------------------------- the flat vector
    @property
    def _flat_params(self) -> list[Tensor]:
        return self.param_groups[0]["params"]

    def _gather_grad(self) -> np.ndarray:
        """Every parameter's gradient (zeros where there is none) in one flat array."""
        return np.concatenate([
            np.zeros(p._data.size, p._data.dtype) if p.grad is None else p.grad._data.ravel()
            for p in self._flat_params
        ])  # fmt: skip

    def _move(self, t: float, direction: np.ndarray) -> None:
        """params += t * direction, in place."""
        offset = 0
        for param in self._flat_params:
            size = param._data.size
            param._data += t * direction[offset : offset + size].reshape(param._data.shape)
            offset += size

    def _set(self, values: list[np.ndarray]) -> None:
        for param, value in zip(self._flat_params, values, strict=True):
            param._data[...] = value

    def _evaluate(self, closure: Callable[[], Any]) -> float:
        with enable_grad():
            return float(closure())

    # -------------------------------------------------------------- the step
    def step(self, closure: Callable[[], Any]) -> Any:  # type: ignore[override]
        """Up to ``max_iter`` L-BFGS iterations; returns the loss from the first closure call.

        The curvature history (and the last direction and step) carries over between steps
        in ``state``."""
        group = self.param_groups[0]
        state = self.state[self._flat_params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        with enable_grad():
            first_loss = closure()
        loss = float(first_loss)
        evals = 1
        state["func_evals"] += 1
        grad = self._gather_grad()
        if np.abs(grad).max() <= group["tolerance_grad"]:
            return first_loss
        for iteration in range(1, group["max_iter"] + 1):
            state["n_iter"] += 1
            direction = self._direction(state, grad, group["history_size"])
            state["prev_flat_grad"], state["prev_loss"] = grad.copy(), loss
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / np.abs(grad).sum()) * group["lr"]
            else:
                t = group["lr"]
            state["d"], state["t"] = direction, t
            slope = float(grad @ direction)
            if slope > -group["tolerance_change"]:  # not a descent direction: stop
                break
            if group["line_search_fn"] == "strong_wolfe":
                loss, grad, t, used = self._line_search(closure, direction, loss, grad, slope, t)
                state["t"] = t
            else:
                self._move(t, direction)
                used = 0
                if iteration != group["max_iter"]:  # the loop ends here: no need to evaluate
                    loss, grad, used = self._evaluate(closure), self._gather_grad(), 1
            evals += used
            state["func_evals"] += used
            if self._converged(group, iteration, evals, grad, direction * t, loss, state):
                break
        return first_loss

    def _converged(
        self,
        group: dict[str, Any],
        iteration: int,
        evals: int,
        grad: np.ndarray,
        change: np.ndarray,
        loss: float,
        state: dict[str, Any],
    ) -> bool:
        """Stop after max_iter iterations or max_eval evaluations, at a small gradient, or
        when the parameters or the loss barely changed."""
        return (
            iteration == group["max_iter"]
            or evals >= group["max_eval"]
            or np.abs(grad).max() <= group["tolerance_grad"]
            or np.abs(change).max() <= group["tolerance_change"]
            or abs(loss - state["prev_loss"]) < group["tolerance_change"]
        )

    def _direction(self, state: dict[str, Any], grad: np.ndarray, history_size: int) -> np.ndarray:
        """d = -H g by the two-loop recursion, after adding the newest (s, y) pair.

        A pair is kept only when y . s > 1e-10 (positive curvature keeps H positive
        definite); H starts as (y . s / y . y) I, the scale of the newest pair.
        """
        if state["n_iter"] == 1:
            state["old_dirs"], state["old_stps"], state["ro"] = [], [], []
            state["H_diag"] = 1.0
            return -grad
        y = grad - state["prev_flat_grad"]  # gradient change
        s = state["d"] * state["t"]  # parameter change
        curvature = float(y @ s)
        if curvature > 1e-10:
            if len(state["old_dirs"]) == history_size:
                for key in ("old_dirs", "old_stps", "ro"):
                    state[key].pop(0)
            state["old_dirs"].append(y)
            state["old_stps"].append(s)
            state["ro"].append(1.0 / curvature)
            state["H_diag"] = curvature / float(y @ y)
        pairs = list(zip(state["old_dirs"], state["old_stps"], state["ro"], strict=True))
        q = -grad
        alphas = []
        for y_i, s_i, ro_i in reversed(pairs):
            alpha = float(s_i @ q) * ro_i
            q = q - alpha * y_i
            alphas.append(alpha)
        r = q * state["H_diag"]
        for (y_i, s_i, ro_i), alpha in zip(pairs, reversed(alphas), strict=True):
            beta = float(y_i @ r) * ro_i
            r = r + s_i * (alpha - beta)
        return r

    def _line_search(
        self,
        closure: Callable[[], Any],
        direction: np.ndarray,
        loss: float,
        grad: np.ndarray,
        slope: float,
        t: float,
    ) -> tuple[float, np.ndarray, float, int]:
        """Strong Wolfe line search from the current parameters; moves them by the chosen
        t d. Returns (loss, flat gradient, t, evaluations)."""
        origin = [param._data.copy() for param in self._flat_params]

        def objective(step: float) -> tuple[float, np.ndarray]:
            self._move(step, direction)
            value = self._evaluate(closure)
            flat = self._gather_grad()
            self._set(origin)
            return value, flat

        tolerance = self.param_groups[0]["tolerance_change"]
        chosen, evals = strong_wolfe(
            objective, direction, Trial(0.0, loss, grad, slope), t, tolerance
        )
        self._move(chosen.t, direction)
        return chosen.f, chosen.g, chosen.t, evals
