"""The backward engine: walk the graph once, from the output back to the leaves.

``run_backward(root, gradient)`` computes d(root)/d(leaf) for every leaf tensor that requires
grad and adds it to ``leaf.grad``, as ``Tensor.backward`` does in PyTorch.

The walk is iterative, never recursive, so a chain of 100,000 operations works. A node runs
only after every node that consumed its output has sent its gradient, so each node's
``backward`` runs exactly once with the sum of those gradients (Kahn's topological order):

    1. count, for every node reachable from the root, how many consumers feed it;
    2. start from the root; run a node's backward, sum each input gradient into that input's
       pending gradient, and when an input's consumers have all reported, it is ready.
"""

from __future__ import annotations

import numpy as np

from tinytorch import tensor
from tinytorch.autograd.function import Context, call_backward


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: the gradient of broadcasting ``shape`` to ``grad.shape``.

    Broadcasting copies an input along new leading axes and along its size-1 axes, so the
    gradient of each input element is the sum over all of its copies. Example: an input of
    shape (3, 1) broadcast to (2, 3, 4) gets ``grad.sum(axis=(0, 2))`` reshaped to (3, 1).
    """
    if grad.shape == shape:
        return grad
    # BEGIN SOLUTION 05
    leading = grad.ndim - len(shape)
    stretched = tuple(
        leading + axis
        for axis, size in enumerate(shape)
        if size == 1 and grad.shape[leading + axis] != 1
    )
    summed = grad.sum(axis=tuple(range(leading)) + stretched, keepdims=True)
    return summed.reshape(shape)
    # END SOLUTION


def _count_consumers(root: Context) -> dict[Context, int]:
    """For each node reachable from ``root``: how many edges lead into it from other nodes."""
    consumers = {root: 0}
    stack = [root]
    while stack:
        node = stack.pop()
        if node.released:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or to use a graph that "
                "was already freed). Pass retain_graph=True to the first backward() call if "
                "you need to run backward through the same graph again."
            )
        for step in node.next_steps:
            if isinstance(step, Context):
                if step in consumers:
                    consumers[step] += 1
                else:
                    consumers[step] = 1
                    stack.append(step)
    return consumers


def _accumulate_into_leaf(leaf: tensor.Tensor, grad: np.ndarray, shared: bool) -> None:
    """Add ``grad`` to ``leaf.grad`` (or a ``retain_grad()`` tensor's ``.grad``).

    The first gradient is stored without copying unless other code may still hold the array.
    """
    if grad.dtype != leaf._data.dtype:
        grad, shared = grad.astype(leaf._data.dtype), False
    if leaf.grad is None:
        owned = grad.copy() if shared or not grad.flags.owndata else grad
        leaf.grad = tensor.Tensor._from_array(owned)
    else:
        leaf.grad._data += grad


def _returned_twice(returned: object, input_grads: tuple) -> bool:
    """Whether a backward returned the same array object for more than one input."""
    count = 0
    for other in input_grads:  # a plain loop: faster than a generator for two or three items
        if other is returned:
            count += 1
    return count > 1


def run_backward(root: tensor.Tensor, gradient: np.ndarray, retain_graph: bool = False) -> None:
    """Backpropagate ``gradient`` (d loss / d root, shaped like root) through root's graph."""
    # BEGIN SOLUTION 05
    if root.grad_fn is None:
        _accumulate_into_leaf(root, gradient, shared=True)
        return
    pending = {root.grad_fn: gradient}
    consumers = _count_consumers(root.grad_fn)
    ready = [root.grad_fn]
    while ready:
        node = ready.pop()
        grad_output = pending.pop(node)
        if node.retained is not None:
            _accumulate_into_leaf(node.retained, grad_output, shared=True)
        input_grads = call_backward(node, grad_output)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        if len(input_grads) != len(node.next_steps):
            raise RuntimeError(
                f"{node.function.__name__}.backward returned {len(input_grads)} gradients, but "
                f"forward took {len(node.next_steps)} arguments: return one per argument "
                f"(None for those that need no gradient)"
            )
        for step, returned in zip(node.next_steps, input_grads, strict=False):
            if step is None or returned is None:
                continue
            grad = unbroadcast(np.asarray(returned), step.shape)
            if isinstance(step, Context):
                if grad.dtype != step.dtype:
                    grad = grad.astype(step.dtype)
                pending[step] = pending[step] + grad if step in pending else grad
                consumers[step] -= 1
                if consumers[step] == 0:
                    ready.append(step)
            else:
                shared = grad is grad_output or _returned_twice(returned, input_grads)
                _accumulate_into_leaf(step, grad, shared=shared)
        if not retain_graph:
            node.release()
    # END SOLUTION
