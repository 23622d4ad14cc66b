"""Activation functions: relu, leaky_relu, sigmoid, tanh, gelu, silu, softmax, log_softmax.

Each is a ``Function`` (forward in module 02, backward in module 05) plus the functional form
that scripts call, with PyTorch's signature: ``relu(x)``, ``softmax(x, dim=1)``. The first six
act element by element, so each backward is the incoming gradient times the local derivative.
``softmax`` and ``log_softmax`` mix the elements along ``dim``; their backward passes use the
closed forms of their Jacobian-vector products, so no (n, n) Jacobian is ever built::

    >>> import tinytorch as torch
    >>> torch.tensor([-1.0, 0.0, 2.0]).relu()
    tensor([0., 0., 2.])
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from tinytorch.autograd.function import Context, Function

if TYPE_CHECKING:
    from tinytorch.tensor import Tensor


def stable_sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-a) without overflow: e^-|a| <= 1 never overflows.

    For a >= 0 it is 1 / (1 + e^-a); for a < 0 the same value written as e^a / (1 + e^a).
    """
    # BEGIN SOLUTION 02
    small = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + small), small / (1 + small))
    # END SOLUTION


# Numerical Recipes (section 6.2) Chebyshev fit: erfc(z) = t e^(-z^2 + P(t)) for z >= 0,
# t = 1 / (1 + z/2), P of degree 9 with these coefficients (constant term first).
ERFC_COEFFICIENTS = (
    -1.26551223,
    1.00002368,
    0.37409196,
    0.09678418,
    -0.18628806,
    0.27886807,
    -1.13520398,
    1.48851587,
    -0.82215223,
    0.17087277,
)


def erfc_nonnegative(z: np.ndarray) -> np.ndarray:
    """erfc(z) = 1 - erf(z) for z >= 0, as a new array; relative error below 1.2e-7.

    Uses the Numerical Recipes fit above. ``z`` is scratch space: it is overwritten (with
    z^2). Every step writes into an existing array where it can: on arrays of a million
    elements, allocating (and first touching) fresh memory costs more than the arithmetic,
    so the 15 passes allocate two arrays. (``out=np.empty_like(...)`` keeps a 0-d input an
    array that can be written in place; without it NumPy returns a scalar.)
    """
    t = np.multiply(z, 0.5, out=np.empty_like(z))
    t += 1
    np.divide(1, t, out=t)  # t = 1 / (1 + z/2); NumPy divides faster than np.reciprocal
    poly = np.multiply(t, ERFC_COEFFICIENTS[-1], out=np.empty_like(t))
    for coefficient in reversed(ERFC_COEFFICIENTS[1:-1]):  # Horner's rule, in place
        poly += coefficient
        poly *= t
    poly += ERFC_COEFFICIENTS[0]  # P(t)
    poly -= np.square(z, out=z)
    np.exp(poly, out=poly)
    poly *= t
    return poly


def erf(a: np.ndarray) -> np.ndarray:
    """The error function erf(a) = 2/sqrt(pi) * integral_0^a e^(-t^2) dt, element-wise.

    NumPy has no erf: erf(a) = 1 - erfc(|a|) for a >= 0, and erf(-a) = -erf(a).
    """
    out = erfc_nonnegative(np.abs(a, out=np.empty_like(a)))  # new: erfc may overwrite it
    np.subtract(1, out, out=out)
    return np.copysign(out, a, out=out)


def normal_cdf(a: np.ndarray) -> np.ndarray:
    """Phi(a) = (1 + erf(a / sqrt(2))) / 2, the standard normal CDF, element-wise.

    With h = erfc(|a| / sqrt(2)) / 2: Phi(a) = h for a < 0 and 1 - h for a >= 0. Taking h
    as it is for a < 0 (rather than 1/2 (1 + erf), which cancels) keeps the fit's relative
    accuracy in the left tail, where Phi(a) is tiny. The choice is made without branches:
    with s = 1 where a >= 0 and 0 elsewhere, |s - h| is 1 - h or h (h <= 1/2). Measured on
    blocks of 65,536 numbers: 3x faster than np.where on inputs of random sign.
    """
    z = np.abs(a, out=np.empty_like(a))  # a new array, so erfc may overwrite it
    z *= 1 / math.sqrt(2)
    cdf = erfc_nonnegative(z)
    cdf *= 0.5  # h
    np.subtract(a >= 0, cdf, out=cdf)  # 1 - h where a >= 0, -h elsewhere
    return np.abs(cdf, out=cdf)


# Elements per block in ``elementwise_in_blocks``: a block's few temporaries (256 KiB each
# in float32) then fit in a core's L2 cache. Measured on GELU of a (16, 64, 512) float32
# array, forward and backward: 2.5x faster than whole arrays; blocks 4x smaller or larger
# did no better.
BLOCK_SIZE = 1 << 16


def elementwise_in_blocks(function: Callable[..., np.ndarray], *arrays: np.ndarray) -> np.ndarray:
    """function(*arrays) for an element-wise ``function`` of same-shape arrays, by blocks.

    NumPy makes one pass over whole arrays per step of a formula. GELU's takes about 30
    steps, and on arrays larger than the cache every pass goes out to main memory. Computed
    on blocks of ``BLOCK_SIZE`` consecutive elements, the intermediates stay in the cache
    and only the result is a full-size new array. The loop runs over blocks (a few dozen
    for a million elements), never over elements. Arrays of one block or less go to
    ``function`` whole: there is nothing to gain from copying its result into another array.
    """
    if arrays[0].size <= BLOCK_SIZE:
        return function(*arrays)
    flat = [array.reshape(-1) for array in arrays]  # views when contiguous
    out = np.empty(flat[0].size, dtype=np.result_type(*arrays))
    for start in range(0, out.size, BLOCK_SIZE):
        block = slice(start, start + BLOCK_SIZE)
        out[block] = function(*(array[block] for array in flat))
    return out.reshape(arrays[0].shape)


def log_softmax_array(a: np.ndarray, axis: int | None) -> np.ndarray:
    """log(softmax(a)) along ``axis``: a_i - m - log(sum_j e^(a_j - m)), m = max_j a_j.

    Computed directly (never as log(softmax)), so a tiny probability gives a large negative
    number instead of log(0) = -inf, and subtracting m keeps every exponent <= 0.
    """
    # BEGIN SOLUTION 02
    shifted = a - a.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    # END SOLUTION


class ReLU(Function):
    """out = max(a, 0);  d out/d a = 1 where a > 0, else 0 (0 at a = 0, as in PyTorch)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 02
        out = np.maximum(a, 0)
        ctx.save_for_backward(out)
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 05
        (out,) = ctx.saved_tensors
        return grad * (out > 0)
        # END SOLUTION


class LeakyReLU(Function):
    """out = a if a > 0 else slope * a;  d out/d a = 1 where a > 0, else slope."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, negative_slope: float) -> np.ndarray:
        # BEGIN SOLUTION 02
        positive = a > 0
        ctx.save_for_backward(positive)
        ctx.negative_slope = negative_slope
        return np.where(positive, a, a * negative_slope)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        (positive,) = ctx.saved_tensors
        return np.where(positive, grad, grad * ctx.negative_slope), None
        # END SOLUTION


class Sigmoid(Function):
    """out = 1 / (1 + e^-a);  d out/d a = out * (1 - out)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 02
        out = stable_sigmoid(a)
        ctx.save_for_backward(out)
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 05
        (out,) = ctx.saved_tensors
        return grad * out * (1 - out)
        # END SOLUTION


class Tanh(Function):
    """out = tanh(a);  d out/d a = 1 - out^2."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 02
        out = np.tanh(a)
        ctx.save_for_backward(out)
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 05
        (out,) = ctx.saved_tensors
        return grad * (1 - out * out)
        # END SOLUTION


class GELU(Function):
    """out = a * Phi(a), Phi the standard normal CDF;  d out/d a = Phi(a) + a * phi(a).

    Phi(a) = (1 + erf(a / sqrt(2))) / 2 and phi(a) = e^(-a^2 / 2) / sqrt(2 pi) its density.
    With ``approximate='tanh'``, Phi(a) is replaced by (1 + tanh(u)) / 2 with
    u = sqrt(2/pi) (a + 0.044715 a^3), whose derivative is (1 - tanh(u)^2) du/da / 2.

    The exact form saves a and out, not Phi(a): backward recovers Phi(a) = out / a (and 1/2
    at a = 0). The next layer keeps ``out`` anyway, so this stores one array of the input's
    size fewer; in a transformer that is a sizeable share of the activation memory, and
    fresh memory is slower to get than one division.
    """

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, approximate: str) -> np.ndarray:
        # BEGIN SOLUTION 02
        ctx.approximate = approximate
        if approximate == "tanh":
            tanh_u = np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a * a * a))
            cdf = 0.5 * (1 + tanh_u)
            ctx.save_for_backward(a, cdf, tanh_u)
            return a * cdf

        def gelu_values(block: np.ndarray) -> np.ndarray:  # a Phi(a) on one block
            out = normal_cdf(block)
            out *= block  # in the array that held Phi(a)
            return out

        out = elementwise_in_blocks(gelu_values, a)
        ctx.save_for_backward(a, out)
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        if ctx.approximate == "tanh":
            a, cdf, tanh_u = ctx.saved_tensors
            du_da = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * a * a)
            slope = cdf + a * 0.5 * (1 - tanh_u * tanh_u) * du_da
            return grad * slope, None
        a, out = ctx.saved_tensors

        def gelu_gradient(grad: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
            with np.errstate(invalid="ignore"):  # 0 / 0 at a = 0, set just below
                slope = np.divide(out, a, out=np.empty_like(a))  # Phi(a) = out / a
            slope[a == 0] = 0.5  # 1.6x faster than a masked divide (where=a != 0)
            density = np.square(a, out=np.empty_like(a))
            density *= -0.5
            np.exp(density, out=density)
            density *= 1 / math.sqrt(2 * math.pi)  # phi(a)
            density *= a
            slope += density  # Phi(a) + a phi(a)
            slope *= grad
            return slope

        return elementwise_in_blocks(gelu_gradient, grad, a, out), None
        # END SOLUTION


class SiLU(Function):
    """out = a * sigmoid(a);  d out/d a = s + a * s * (1 - s) with s = sigmoid(a)."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 02
        s = stable_sigmoid(a)
        ctx.save_for_backward(a, s)
        return a * s
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 05
        a, s = ctx.saved_tensors
        return grad * s * (1 + a * (1 - s))
        # END SOLUTION


class Softmax(Function):
    """out_i = e^(a_i - m) / sum_j e^(a_j - m) along ``axis``, m = max_j a_j (no overflow).

    Backward (Jacobian-vector product): grad_a = out * (grad - sum_j grad_j out_j).
    ``axis`` is None for a 0-d input (whose softmax is 1).
    """

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axis: int | None) -> np.ndarray:
        # BEGIN SOLUTION 02
        exps = np.exp(a - a.max(axis=axis, keepdims=True))
        out = exps / exps.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        (out,) = ctx.saved_tensors
        weighted = (grad * out).sum(axis=ctx.axis, keepdims=True)
        return out * (grad - weighted), None
        # END SOLUTION


class LogSoftmax(Function):
    """out = log(softmax(a)) along ``axis`` (see ``log_softmax_array``).

    Backward (Jacobian-vector product): grad_a = grad - e^out * sum_j grad_j.
    """

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axis: int | None) -> np.ndarray:
        # BEGIN SOLUTION 02
        out = log_softmax_array(a, axis)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        (out,) = ctx.saved_tensors
        return grad - np.exp(out) * grad.sum(axis=ctx.axis, keepdims=True), None
        # END SOLUTION


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002 - PyTorch's name
    """max(input, 0) element-wise. ``inplace`` is accepted for PyTorch scripts; the result is
    always a new tensor. Example: ``relu(tensor([-1., 2.]))`` is ``tensor([0., 2.])``."""
    return ReLU.apply(input)


def leaky_relu(
    input: Tensor,  # noqa: A002 - PyTorch's name
    negative_slope: float = 0.01,
    inplace: bool = False,
) -> Tensor:
    """input where positive, else negative_slope * input. Example: ``leaky_relu(x, 0.1)``."""
    return LeakyReLU.apply(input, negative_slope)


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
    """1 / (1 + e^-input), stable for any magnitude. ``sigmoid(tensor([0.]))`` is 0.5."""
    return Sigmoid.apply(input)


def tanh(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
    """The hyperbolic tangent, element-wise, with values in (-1, 1)."""
    return Tanh.apply(input)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002 - PyTorch's name
    """input * Phi(input), the Gaussian error linear unit; ``approximate='tanh'`` uses the tanh
    approximation of Phi (as GPT-2 did). Example: ``gelu(x, approximate='tanh')``."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELU.apply(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002 - PyTorch's name
    """input * sigmoid(input), also called swish. ``inplace`` is accepted and ignored."""
    return SiLU.apply(input)


def softmax_axis(shape: tuple[int, ...], dim: int | None, name: str) -> int | None:
    """The NumPy axis for ``dim`` of a tensor of ``shape`` (None for a 0-d one), checked.

    ``dim=None`` picks PyTorch's legacy implicit dimension (0 for 0-, 1- and 3-d inputs, else 1)
    with a warning, as PyTorch does.
    """
    ndim = len(shape)
    if dim is None:
        dim = 0 if ndim in (0, 1, 3) else 1
        warnings.warn(
            f"Implicit dimension choice for {name} has been deprecated. Change the call to "
            f"include dim=X as an argument.",
            stacklevel=3,
        )
    low, high = (-ndim, ndim - 1) if ndim else (-1, 0)
    if not low <= dim <= high:
        raise IndexError(
            f"{name}: dim {dim} is out of range for an input of shape {shape} "
            f"(expected a dim in [{low}, {high}])"
        )
    return dim % ndim if ndim else None


def softmax(
    input: Tensor,  # noqa: A002 - PyTorch's name
    dim: int | None = None,
    _stacklevel: int = 3,
    dtype: Any = None,
) -> Tensor:
    """Probabilities along ``dim``: non-negative, summing to 1, in the order of ``input``.

    Shapes: any input; the output has the same shape. ``dtype`` converts the input first.
    Example: ``softmax(tensor([[1., 1.]]), dim=1)`` is ``tensor([[0.5, 0.5]])``.
    """
    if dtype is not None:
        input = input.to(dtype)  # noqa: A001
    return Softmax.apply(input, softmax_axis(input.shape, dim, "softmax"))


def log_softmax(
    input: Tensor,  # noqa: A002 - PyTorch's name
    dim: int | None = None,
    _stacklevel: int = 3,
    dtype: Any = None,
) -> Tensor:
    """log(softmax(input, dim)), computed stably in one step. Same shapes and arguments as
    ``softmax``. Example: ``log_softmax(tensor([0., 0.]), dim=0)`` is ``[-0.6931, -0.6931]``."""
    if dtype is not None:
        input = input.to(dtype)  # noqa: A001
    return LogSoftmax.apply(input, softmax_axis(input.shape, dim, "log_softmax"))


class Softplus(Function):
    """out = log(1 + e^(beta a)) / beta, and a itself where beta a > threshold;
    d out/d a = sigmoid(beta a) (1 above the threshold).

    Computed as (max(beta a, 0) + log(1 + e^-|beta a|)) / beta, which never overflows.
    """

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, beta: float, threshold: float) -> np.ndarray:
        scaled = a * beta
        linear = scaled > threshold
        smooth = (np.maximum(scaled, 0) + np.log1p(np.exp(-np.abs(scaled)))) / beta
        ctx.save_for_backward(scaled, linear)
        return np.where(linear, a, smooth).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        scaled, linear = ctx.saved_tensors
        return grad * np.where(linear, 1, stable_sigmoid(scaled)), None, None


class Hardtanh(Function):
    """out = clamp(a, min_val, max_val);  d out/d a = 1 strictly between the bounds, else 0."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, min_val: float, max_val: float) -> np.ndarray:
        ctx.save_for_backward((a > min_val) & (a < max_val))
        return np.clip(a, min_val, max_val).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        (inside,) = ctx.saved_tensors
        return grad * inside, None, None


class CELU(Function):
    """out = a for a > 0, alpha (e^(a / alpha) - 1) otherwise;
    d out/d a = 1 for a > 0, e^(a / alpha) otherwise."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, alpha: float) -> np.ndarray:
        positive = a > 0
        exp_minus_one = np.expm1(np.minimum(a, 0) / alpha)  # min: no overflow for large a
        ctx.save_for_backward(positive, exp_minus_one)
        return np.where(positive, a, alpha * exp_minus_one).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        positive, exp_minus_one = ctx.saved_tensors
        return grad * np.where(positive, 1, exp_minus_one + 1), None


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: A002
    """A smooth ReLU: log(1 + e^(beta input)) / beta, and input itself where
    beta * input > threshold (for numerical stability). Example: ``softplus(tensor([0.]))`` is
    log 2 = 0.6931."""
    return Softplus.apply(input, beta, threshold)


def hardtanh(
    input: Tensor,  # noqa: A002 - PyTorch's name
    min_val: float = -1.0,
    max_val: float = 1.0,
    inplace: bool = False,
) -> Tensor:
    """input clamped to [min_val, max_val]; the gradient is 0 outside (and on) the bounds.
    ``inplace`` is accepted; the result is a new tensor."""
    if min_val > max_val:
        raise ValueError(
            f"hardtanh: min_val cannot be greater than max_val, got min_val={min_val} and "
            f"max_val={max_val}"
        )
    return Hardtanh.apply(input, min_val, max_val)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """Continuously differentiable ELU: max(0, x) + min(0, alpha (e^(x / alpha) - 1)).
    ``inplace`` is accepted; the result is a new tensor."""
    if alpha == 0:
        raise RuntimeError("celu: alpha cannot be 0 for CELU (it divides by alpha)")
    return CELU.apply(input, alpha)
