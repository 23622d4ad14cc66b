"""Arithmetic: addition, subtraction, multiplication, division, negation, powers, matmul.

Binary operations broadcast like NumPy (and PyTorch). Their backward passes return gradients
in the broadcast shape; the engine sums them back to each input's shape.
"""

from __future__ import annotations

import string

import numpy as np

from tinytorch.autograd.function import Context, Function


class Add(Function):
    """out = a + b;  d out/d a = 1,  d out/d b = 1."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 01
        return np.add(a, b)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        return grad, grad
        # END SOLUTION


class Sub(Function):
    """out = a - b;  d out/d a = 1,  d out/d b = -1."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 01
        return np.subtract(a, b)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        return grad, (-grad if ctx.needs_input_grad[1] else None)
        # END SOLUTION


class Mul(Function):
    """out = a * b;  d out/d a = b,  d out/d b = a."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 01
        ctx.save_for_backward(a, b)
        return np.multiply(a, b)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        a, b = ctx.saved_tensors
        grad_a = grad * b if ctx.needs_input_grad[0] else None
        grad_b = grad * a if ctx.needs_input_grad[1] else None
        return grad_a, grad_b
        # END SOLUTION


class Div(Function):
    """out = a / b;  d out/d a = 1 / b,  d out/d b = -a / b^2."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 01
        ctx.save_for_backward(a, b)
        return np.true_divide(a, b)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        a, b = ctx.saved_tensors
        grad_a = grad / b if ctx.needs_input_grad[0] else None
        grad_b = -grad * a / (b * b) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b
        # END SOLUTION


class Neg(Function):
    """out = -a;  d out/d a = -1."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 01
        return np.negative(a)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 05
        return -grad
        # END SOLUTION


class Pow(Function):
    """out = a ** b;  d out/d a = b * a^(b-1),  d out/d b = out * ln(a).

    Either side may be a plain number (``x ** 2``, ``2 ** x``).
    """

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 01
        out = np.power(a, b)
        ctx.save_for_backward(a, b, out)
        return out
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        a, b, out = ctx.saved_tensors
        grad_a = grad * b * np.power(a, b - 1) if ctx.needs_input_grad[0] else None
        grad_b = grad * out * np.log(a) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b
        # END SOLUTION


class MatMul(Function):
    """out = a @ b for 1-D, 2-D and batched operands (batch dimensions broadcast).

    For 2-D operands, with G = d loss / d out:  d loss/d a = G @ b^T,  d loss/d b = a^T @ G.
    A 1-D ``a`` acts as a row (1, n) and a 1-D ``b`` as a column (n, 1); the extra axis is
    removed from the result, and restored in the gradient before the same two products.
    """

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 01
        if a.ndim == 0 or b.ndim == 0:
            raise RuntimeError(
                f"matmul: both operands need at least 1 dimension, got shapes "
                f"{a.shape} and {b.shape}; use * to multiply by a scalar"
            )
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise RuntimeError(
                f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied: the last "
                f"dimension of the first ({a.shape[-1]}) must equal the "
                f"{'second-to-last' if b.ndim > 1 else 'only'} dimension of the second"
            )
        if a.dtype != b.dtype:
            raise RuntimeError(
                f"matmul: expected both operands to have the same dtype, but got {a.dtype} "
                f"and {b.dtype}; convert one with .to(dtype)"
            )
        ctx.save_for_backward(a, b)
        return np.matmul(a, b)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        a, b = ctx.saved_tensors
        if b.ndim == 1:
            grad, b = grad[..., None], b[:, None]
        if a.ndim == 1:
            grad, a = grad[..., None, :], a[None, :]
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = np.matmul(grad, np.swapaxes(b, -1, -2))
            grad_a = grad_a[..., 0, :] if ctx.saved_tensors[0].ndim == 1 else grad_a
        if ctx.needs_input_grad[1]:
            grad_b = np.matmul(np.swapaxes(a, -1, -2), grad)
            grad_b = grad_b[..., 0] if ctx.saved_tensors[1].ndim == 1 else grad_b
        return grad_a, grad_b
        # END SOLUTION


# ---------------------------------------------------------------------------- einsum
# Not an exercise: the general form of matmul, for scripts that write products as equations.


class Einsum(Function):
    """out = ``np.einsum(equation, *operands)``: multiply the operands along the letters they
    share and sum over the letters the output leaves out ("bij,bjk->bik" is batched matmul).

    The gradient of operand k is the same kind of product: the output's gradient times every
    other operand, summed onto k's letters. A letter only k has is broadcast (a ones vector
    stands in for it); a letter k repeats ("ii") takes the gradient on the diagonal only (an
    identity matrix joins the two positions). Called as ``Einsum.apply(equation, *operands)``
    with an explicit output ("...->...").
    """

    @staticmethod
    def forward(ctx: Context, equation: str, *operands: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(*operands)
        ctx.equation = equation
        return np.einsum(equation, *operands)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        inputs, output = ctx.equation.split("->")
        terms = inputs.split(",")
        grads = [
            einsum_operand_gradient(grad, output, terms, ctx.saved_tensors, k) if needed else None
            for k, needed in enumerate(ctx.needs_input_grad[1:])
        ]
        return (None, *grads)


def einsum_operand_gradient(
    grad: np.ndarray, output: str, terms: list[str], operands: tuple, k: int
) -> np.ndarray:
    """d loss / d operands[k] of ``einsum(",".join(terms) + "->" + output)`` (see Einsum)."""
    unused = iter(sorted(set(string.ascii_letters) - set("".join(terms) + output)))
    others = [term for i, term in enumerate(terms) if i != k]
    factors_terms = [output, *others]
    factors = [grad, *(operand for i, operand in enumerate(operands) if i != k)]
    target, seen = "", set()
    for letter, size in zip(terms[k].replace("...", ""), letter_sizes(terms[k], operands[k])):
        if letter in seen:  # a repeated letter: a fresh one, tied to the first by the identity
            fresh = next(unused)
            factors_terms.append(letter + fresh)
            factors.append(np.eye(size, dtype=grad.dtype))
            letter = fresh
        elif not any(letter in term for term in factors_terms):
            factors_terms.append(letter)
            factors.append(np.ones(size, dtype=grad.dtype))
        seen.add(letter)
        target += letter
    if "..." in terms[k]:
        if "..." not in output:
            raise RuntimeError("einsum: backward needs '...' in the output when an input has it")
        start = terms[k].index("...")
        target = target[:start] + "..." + target[start:]
    return np.einsum(",".join(factors_terms) + "->" + target, *factors)


def letter_sizes(term: str, operand: np.ndarray) -> list[int]:
    """The size of each letter of ``term`` in ``operand`` (dimensions under '...' skipped)."""
    if "..." not in term:
        return list(operand.shape)
    before, after = term.split("...")
    return list(operand.shape[: len(before)]) + list(
        operand.shape[operand.ndim - len(after) :] if after else []
    )
