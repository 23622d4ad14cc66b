"""Gradient clipping: keep one bad batch from throwing the parameters far away (module 07).

Call between ``loss.backward()`` and ``optimizer.step()``::

    >>> loss.backward()
    >>> tinytorch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    >>> optimizer.step()
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from tinytorch.tensor import Tensor


def _gradients(parameters: Tensor | Iterable[Tensor]) -> list[np.ndarray]:
    """The gradient arrays of the parameters that have one."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [param.grad._data for param in parameters if param.grad is not None]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float | str = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale all gradients together, in place, so that their joint norm is at most ``max_norm``.

    The joint norm treats every gradient as one long vector: ``total = ||(||g_1||, ||g_2||,
    ...)||`` in the ``norm_type`` norm (``inf``: the largest absolute value). Each gradient is
    multiplied by ``min(1, max_norm / (total + 1e-6))``, which keeps the direction of the step.

    Returns the total norm before clipping, as a 0-d tensor. Raises ``RuntimeError`` when the
    norm is NaN or infinite and ``error_if_nonfinite`` is set.

    Example::

        >>> total = clip_grad_norm_(model.parameters(), max_norm=1.0)
    """
    grads = _gradients(parameters)
    if not grads:
        return Tensor._from_array(np.array(0.0, dtype=np.float32))
    # BEGIN SOLUTION 07
    order = float(norm_type)
    norms = [np.linalg.norm(grad.ravel(), ord=order) for grad in grads]
    total = np.array(np.linalg.norm(norms, ord=order), dtype=grads[0].dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {order} for gradients from `parameters` is non-finite, "
            f"so it cannot be clipped. To disable this error and scale the gradients by the "
            f"non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    scale = np.minimum(float(max_norm) / (total + 1e-6), 1.0)  # NaN stays NaN, as in PyTorch
    for grad in grads:
        grad *= scale
    return Tensor._from_array(total)
    # END SOLUTION


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element, in place, into ``[-clip_value, clip_value]``.

    Example::

        >>> clip_grad_value_(model.parameters(), clip_value=0.5)
    """
    # BEGIN SOLUTION 07
    clip_value = float(clip_value)
    for grad in _gradients(parameters):
        np.clip(grad, -clip_value, clip_value, out=grad)
    # END SOLUTION
