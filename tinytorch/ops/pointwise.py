"""Element-wise functions: exp, log, sqrt, sin, cos, abs, clamp, maximum, minimum, where.

Each output element depends on the matching input element only, so each backward is the
incoming gradient times the local derivative, element by element.
"""

from __future__ import annotations

import numpy as np

from tinytorch.autograd.function import Context, Function


class Exp(Function):
    """out = e^a;  d out/d a = e^a = out."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 01
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 05
        (out,) = ctx.saved_tensors
        return grad * out
        # END SOLUTION


class Log(Function):
    """out = ln(a);  d out/d a = 1 / a."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 01
        ctx.save_for_backward(a)
        return np.log(a)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 05
        (a,) = ctx.saved_tensors
        return grad / a
        # END SOLUTION


class Sqrt(Function):
    """out = sqrt(a);  d out/d a = 1 / (2 sqrt(a))."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 01
        out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 05
        (out,) = ctx.saved_tensors
        return grad / (2 * out)
        # END SOLUTION


class Sin(Function):
    """out = sin(a);  d out/d a = cos(a)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 01
        ctx.save_for_backward(a)
        return np.sin(a)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 05
        (a,) = ctx.saved_tensors
        return grad * np.cos(a)
        # END SOLUTION


class Cos(Function):
    """out = cos(a);  d out/d a = -sin(a)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 01
        ctx.save_for_backward(a)
        return np.cos(a)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 05
        (a,) = ctx.saved_tensors
        return -grad * np.sin(a)
        # END SOLUTION


class Abs(Function):
    """out = |a|;  d out/d a = sign(a) (0 at a = 0, as in PyTorch)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 01
        ctx.save_for_backward(a)
        return np.abs(a)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 05
        (a,) = ctx.saved_tensors
        return grad * np.sign(a)
        # END SOLUTION


class Clamp(Function):
    """out = min(max(a, low), high);  the gradient passes where low <= a <= high, else 0.

    ``low`` or ``high`` may be ``None`` (no bound on that side).
    """

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, low: float | None, high: float | None) -> np.ndarray:
        # BEGIN SOLUTION 01
        ctx.save_for_backward(a)
        ctx.low, ctx.high = low, high
        return np.clip(a, low, high).astype(a.dtype, copy=False)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        (a,) = ctx.saved_tensors
        inside = np.ones(a.shape, dtype=bool)
        if ctx.low is not None:
            inside &= a >= ctx.low
        if ctx.high is not None:
            inside &= a <= ctx.high
        return grad * inside, None, None
        # END SOLUTION


class Maximum(Function):
    """out = max(a, b) element-wise; the larger side gets the gradient, ties split it evenly."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 01
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        a, b = ctx.saved_tensors
        share_a = (a > b) + 0.5 * (a == b)
        return grad * share_a, grad * (1 - share_a)
        # END SOLUTION


class Minimum(Function):
    """out = min(a, b) element-wise; the smaller side gets the gradient, ties split it evenly."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 01
        ctx.save_for_backward(a, b)
        return np.minimum(a, b)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        a, b = ctx.saved_tensors
        share_a = (a < b) + 0.5 * (a == b)
        return grad * share_a, grad * (1 - share_a)
        # END SOLUTION


class Where(Function):
    """out = a where condition else b;  the gradient goes to the side that was chosen.

    ``a`` or ``b`` may be a plain number (this is how ``masked_fill`` fills a constant).
    """

    @staticmethod
    def forward(ctx: Context, condition: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 01
        ctx.save_for_backward(condition)
        return np.where(condition, a, b)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        (condition,) = ctx.saved_tensors
        grad_a = np.where(condition, grad, 0) if ctx.needs_input_grad[1] else None
        grad_b = np.where(condition, 0, grad) if ctx.needs_input_grad[2] else None
        return None, grad_a, grad_b
        # END SOLUTION


class Cast(Function):
    """out = a converted to another dtype;  the gradient is converted back."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, dtype: np.dtype) -> np.ndarray:
        # BEGIN SOLUTION 01
        ctx.input_dtype = a.dtype
        return a.astype(dtype)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        return grad.astype(ctx.input_dtype), None
        # END SOLUTION
