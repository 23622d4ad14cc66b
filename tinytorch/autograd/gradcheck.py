"""``gradcheck``: compare backward's gradients with finite differences, in float64.

For a function f and a fixed random upstream gradient v, backward computes the gradient of
L(x) = sum(f(x) * v). The central difference (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)
estimates the same number for each input element i; the two must agree. A random v (not all
ones) catches mistakes that cancel out when every output is weighted the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from tinytorch.autograd.grad_mode import no_grad
from tinytorch.tensor import Tensor


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` when an analytical gradient differs from the numerical one."""


def _weighted_output(
    function: Callable[..., Tensor], inputs: Sequence[Tensor], upstream: np.ndarray
) -> float:
    return float(np.sum(function(*inputs)._data * upstream))


def gradcheck(
    function: Callable[..., Tensor],
    inputs: Sequence[Tensor] | Tensor,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Check ``function``'s backward against finite differences for every float64 input.

    Inputs that require grad must be float64 (float32 rounding swamps the finite difference).
    Returns True when all gradients agree; otherwise raises ``GradcheckError`` naming the input
    and the largest difference (or returns False with ``raise_exception=False``).
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    checked = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    for x in checked:
        if x._data.dtype != np.float64:
            raise ValueError(
                f"gradcheck needs float64 inputs, got {x.dtype}; create them with "
                "dtype=tinytorch.float64"
            )
        x.grad = None
    output = function(*inputs)
    upstream = np.random.default_rng(seed).standard_normal(output.shape)
    output.backward(Tensor._from_array(upstream))
    with no_grad():
        for position, x in enumerate(checked):
            numerical = np.zeros_like(x._data)
            for i in np.ndindex(x.shape):
                original = x._data[i]
                x._data[i] = original + eps
                above = _weighted_output(function, inputs, upstream)
                x._data[i] = original - eps
                below = _weighted_output(function, inputs, upstream)
                x._data[i] = original
                numerical[i] = (above - below) / (2 * eps)
            analytical = np.zeros_like(numerical) if x.grad is None else x.grad._data
            if not np.allclose(analytical, numerical, atol=atol, rtol=rtol):
                if not raise_exception:
                    return False
                worst = float(np.max(np.abs(analytical - numerical)))
                raise GradcheckError(
                    f"gradient of input {position} (shape {x.shape}) is wrong: largest "
                    f"difference {worst:.3g}\nanalytical:\n{analytical}\nnumerical:\n{numerical}"
                )
    return True
