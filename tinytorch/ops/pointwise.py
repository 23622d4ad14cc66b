"""Element-wise functions: exp, log, sqrt, sin, cos, abs, clamp, maximum, minimum, where;
after the exercises, the rest of the family (log10, trigonometric and hyperbolic functions,
atan2, fmod, lerp, rounding).

Each output element depends on the matching input element only, so each backward is the
incoming gradient times the local derivative, element by element.
"""

from __future__ import annotations

import math
from typing import Any

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


# ---------------------------------------------------------------------------- more functions
# The rest of PyTorch's element-wise math. Not exercises: each follows the pattern above, so an
# ``Elementwise`` subclass states only the function and its derivative.


class Elementwise(Function):
    """out = f(a) element by element;  d out/d a = f'(a), given by ``derivative(a, out)``.

    Subclasses define ``function`` (a NumPy ufunc) and ``derivative``.
    """

    function: np.ufunc

    @staticmethod
    def derivative(a: np.ndarray, out: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @classmethod
    def forward(cls, ctx: Context, a: np.ndarray) -> np.ndarray:
        out = cls.function(a)
        ctx.save_for_backward(a, out)
        return out

    @classmethod
    def backward(cls, ctx: Context, grad: np.ndarray) -> np.ndarray:
        a, out = ctx.saved_tensors
        return grad * cls.derivative(a, out)


class Log10(Elementwise):
    """out = log10(a);  d out/d a = 1 / (a ln 10)."""

    function = np.log10

    @staticmethod
    def derivative(a: np.ndarray, out: np.ndarray) -> np.ndarray:
        return 1 / (a * math.log(10))


class Log1p(Elementwise):
    """out = ln(1 + a), exact for tiny a;  d out/d a = 1 / (1 + a)."""

    function = np.log1p

    @staticmethod
    def derivative(a: np.ndarray, out: np.ndarray) -> np.ndarray:
        return 1 / (1 + a)


class Expm1(Elementwise):
    """out = e^a - 1, exact for tiny a;  d out/d a = e^a = out + 1."""

    function = np.expm1

    @staticmethod
    def derivative(a: np.ndarray, out: np.ndarray) -> np.ndarray:
        return out + 1


class Tan(Elementwise):
    """out = tan(a);  d out/d a = 1 / cos^2(a) = 1 + out^2."""

    function = np.tan

    @staticmethod
    def derivative(a: np.ndarray, out: np.ndarray) -> np.ndarray:
        return 1 + out * out


class Asin(Elementwise):
    """out = arcsin(a) for -1 <= a <= 1;  d out/d a = 1 / sqrt(1 - a^2)."""

    function = np.arcsin

    @staticmethod
    def derivative(a: np.ndarray, out: np.ndarray) -> np.ndarray:
        return 1 / np.sqrt(1 - a * a)


class Acos(Elementwise):
    """out = arccos(a) for -1 <= a <= 1;  d out/d a = -1 / sqrt(1 - a^2)."""

    function = np.arccos

    @staticmethod
    def derivative(a: np.ndarray, out: np.ndarray) -> np.ndarray:
        return -1 / np.sqrt(1 - a * a)


class Atan(Elementwise):
    """out = arctan(a);  d out/d a = 1 / (1 + a^2)."""

    function = np.arctan

    @staticmethod
    def derivative(a: np.ndarray, out: np.ndarray) -> np.ndarray:
        return 1 / (1 + a * a)


class Sinh(Elementwise):
    """out = sinh(a) = (e^a - e^-a) / 2;  d out/d a = cosh(a)."""

    function = np.sinh

    @staticmethod
    def derivative(a: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.cosh(a)


class Cosh(Elementwise):
    """out = cosh(a) = (e^a + e^-a) / 2;  d out/d a = sinh(a)."""

    function = np.cosh

    @staticmethod
    def derivative(a: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.sinh(a)


class Asinh(Elementwise):
    """out = arsinh(a);  d out/d a = 1 / sqrt(a^2 + 1)."""

    function = np.arcsinh

    @staticmethod
    def derivative(a: np.ndarray, out: np.ndarray) -> np.ndarray:
        return 1 / np.sqrt(a * a + 1)


class Acosh(Elementwise):
    """out = arcosh(a) for a >= 1;  d out/d a = 1 / sqrt((a - 1)(a + 1))."""

    function = np.arccosh

    @staticmethod
    def derivative(a: np.ndarray, out: np.ndarray) -> np.ndarray:
        return 1 / np.sqrt((a - 1) * (a + 1))


class Atanh(Elementwise):
    """out = artanh(a) for -1 < a < 1;  d out/d a = 1 / (1 - a^2)."""

    function = np.arctanh

    @staticmethod
    def derivative(a: np.ndarray, out: np.ndarray) -> np.ndarray:
        return 1 / (1 - a * a)


class Atan2(Function):
    """out = the angle of the point (b, a), in (-pi, pi];  with r^2 = a^2 + b^2:
    d out/d a = b / r^2,  d out/d b = -a / r^2."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return np.arctan2(a, b)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        a, b = ctx.saved_tensors
        scale = grad / (a * a + b * b)
        return scale * b, -scale * a


class Fmod(Function):
    """out = a - trunc(a / b) * b, the remainder with the sign of ``a`` (C's fmod);
    d out/d a = 1,  d out/d b = -trunc(a / b). ``b`` may be a plain number."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return np.fmod(a, b)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        a, b = ctx.saved_tensors
        grad_b = -grad * np.trunc(a / b) if ctx.needs_input_grad[1] else None
        return grad, grad_b


class Lerp(Function):
    """out = start + weight * (end - start);
    d out/d start = 1 - weight,  d out/d end = weight,  d out/d weight = end - start."""

    @staticmethod
    def forward(ctx: Context, start: np.ndarray, end: np.ndarray, weight: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(start, end, weight)
        return start + weight * (end - start)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        start, end, weight = ctx.saved_tensors
        grad_weight = grad * (end - start) if ctx.needs_input_grad[2] else None
        return grad * (1 - weight), grad * weight, grad_weight


class StepFunction(Function):
    """out = ``compute(*inputs)`` for a function that is constant between jumps: floor, ceil,
    round, trunc and division with rounding. Its derivative is 0 wherever it exists, so every
    input gets a zero gradient (PyTorch defines it so, rather than leaving the graph)."""

    @staticmethod
    def forward(ctx: Context, compute: Any, *inputs: np.ndarray) -> np.ndarray:
        ctx.input_shapes = [np.shape(value) for value in inputs]
        return compute(*inputs)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        return (None, *(np.zeros(shape, grad.dtype) for shape in ctx.input_shapes))
