"""``Function``: an operation defined once, forward and backward together.

Every differentiable operation in tinytorch is a subclass of ``Function`` with two static
methods that work on plain NumPy arrays:

* ``forward(ctx, *args)`` computes the result and stores on ``ctx`` what backward needs;
* ``backward(ctx, grad_output)`` returns the gradient of the loss with respect to each
  argument of forward (``None`` for arguments that need none), given the gradient with
  respect to the output. It may return gradients in the broadcast shape of the output: the
  engine sums them back to each input's shape (see ``engine.unbroadcast``). It may return
  ``grad_output`` itself, or one array for several inputs: the engine copies such arrays
  before it stores one as a leaf's ``.grad``, so that no two ``.grad`` share memory.

``Function.apply`` is the single place where the graph is recorded: when gradients are on and
an input requires grad, the ``Context`` becomes the output's ``grad_fn`` and remembers where
each input's gradient must go next. Example::

    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return 2 * x * grad_output          # d(x^2)/dx = 2x

    y = Square.apply(tinytorch.tensor([3.0], requires_grad=True))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinytorch.autograd import grad_mode


class Context:
    """What one call of a ``Function`` remembers for its backward, and its place in the graph.

    Set by ``Function.apply`` before forward runs, so forward may read it:
        needs_input_grad: one bool per forward argument (``needs_input_grad``).

    Attributes set by ``Function.apply`` when it records the call:
        function: the ``Function`` subclass that made the output.
        next_steps: one entry per forward argument: the ``Context`` that made that input, the
            input itself if it is a leaf tensor that requires grad, or ``None``.
        shape, dtype: of the output, so the engine can check and shape incoming gradients.
        retained: the output tensor if ``retain_grad()`` was called on it, else ``None``.
        saved_versions: [(version counter, version, array, position)] for each argument or
            output whose array forward saved (``remember_versions``).
    """

    released = False
    retained = None
    saved_versions: Sequence[tuple] = ()

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays that backward needs; they are released after backward runs."""
        self.saved = arrays

    @property
    def saved_tensors(self) -> tuple:
        """The arrays ``save_for_backward`` kept, checked against in-place changes.

        Raises PyTorch's error when a tensor whose array was saved has been written in place
        since (its version counter moved on): backward would use the new values, not the ones
        forward saw.
        """
        for counter, version, array, position in self.saved_versions:
            if counter.value != version:
                raise RuntimeError(self._modified_message(counter.value, version, array, position))
        return self.saved

    def remember_versions(self, args: Sequence[Any], output: tensor.Tensor) -> None:
        """Note the version of each tensor (an argument or the output) whose memory was saved.

        A saved array counts when it is that tensor's array or another view of the same
        memory (``x.reshape(-1, n)`` saves x too), as PyTorch's version counters belong to
        the memory. Arrays are compared by their memory's owner, ``a.base`` for a view and
        ``a`` itself otherwise: NumPy points a view of a view straight at the owner.
        ``saved_tensors`` compares the versions with those at backward time. The output
        counts as position ``len(args)``. Plain loops, inlined: this runs for every recorded
        operation, and a helper function or a generator would cost more than the comparisons
        (calling ``acceleration.memory.owner_of``, which walks to the owning array to count
        its bytes, made the smallest MLP's training step 2% slower).
        """
        saved = self.__dict__.get("saved")
        if not saved:
            return
        owners = []
        for kept in saved:
            if isinstance(kept, np.ndarray):
                base = kept.base
                owners.append(kept if base is None else base)
        tensor_type = tensor.Tensor
        versions = []
        for position, item in enumerate((*args, output)):
            if not isinstance(item, tensor_type):
                continue
            data = item._data
            base = data.base
            memory = data if base is None else base
            for owner in owners:
                if owner is memory:
                    counter = item._version_counter
                    versions.append((counter, counter.value, data, position))
                    break
        if versions:
            self.saved_versions = versions

    def _modified_message(self, now: int, expected: int, array: Any, position: int) -> str:
        """PyTorch's words for a saved tensor changed in place, naming where it came from."""
        producer = self if position == len(self.next_steps) else self.next_steps[position]
        origin = ""
        if isinstance(producer, Context) and "function" in producer.__dict__:
            origin = f", which is output 0 of {producer.function.__name__}Backward,"
        return (
            f"one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: [tinytorch.{array.dtype} {list(array.shape)}]{origin} is at "
            f"version {now}; expected version {expected} instead. Hint: {self!r} saved it for "
            f"backward; clone() it before changing it in place, or change it out of place."
        )

    def release(self) -> None:
        """Drop everything this node holds (saved arrays, attributes, links to its inputs)."""
        self.__dict__.clear()
        self.released = True

    def __repr__(self) -> str:
        name = self.function.__name__ if "function" in self.__dict__ else "released"
        return f"<{name}Backward>"


# The profiler or FLOP counter watching every operation, or None (``set_recorder``). ``apply``
# and ``call_backward`` check it once per call, so with none active watching costs nothing more.
_recorder: Any = None


def set_recorder(recorder: Any) -> Any:
    """Make ``recorder`` watch every operation (None: none does); returns the previous one.

    A recorder has ``record_forward(function, ctx, arrays)``, which must return
    ``function.forward(ctx, *arrays)``, and ``record_backward(node, grad_output)``, which must
    return ``node.function.backward(node, grad_output)``: it times or counts around them.
    """
    global _recorder
    previous, _recorder = _recorder, recorder
    return previous


def call_backward(node: Context, grad_output: np.ndarray) -> Any:
    """Run ``node.function.backward(node, grad_output)``, through the recorder if one watches."""
    if _recorder is None:
        return node.function.backward(node, grad_output)
    return _recorder.record_backward(node, grad_output)


def needs_input_grad(args: Sequence[Any]) -> tuple[bool, ...]:
    """One bool per argument of an operation: whether backward will be asked for its gradient.

    True for a Tensor that requires grad while gradients are recorded; all False under
    ``no_grad``. ``Function.apply`` sets it as ``ctx.needs_input_grad`` before forward runs,
    so that forward can skip what only backward needs (max pooling's argmax, for instance).
    """
    if not grad_mode.is_grad_enabled():
        return (False,) * len(args)
    tensor_type = tensor.Tensor
    return tuple([isinstance(arg, tensor_type) and arg._requires_grad for arg in args])


class Function:
    """Base class of differentiable operations; subclasses define ``forward`` and ``backward``."""

    @staticmethod
    def forward(ctx: Context, *args: Any) -> np.ndarray:
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx: Context, grad_output: np.ndarray) -> Any:
        raise NotImplementedError("a Function subclass must define backward(ctx, grad_output)")

    @classmethod
    def apply(cls, *args: Any) -> tensor.Tensor:
        """Run forward on the arrays behind ``args`` and record the call for backward.

        Tensor arguments are passed to ``forward`` as their NumPy arrays; other arguments
        (Python numbers, axes, shapes) are passed unchanged. NumPy's ``ValueError`` for bad
        input (shapes that do not broadcast, ...) becomes PyTorch's ``RuntimeError``.
        """
        tensor_type = tensor.Tensor
        ctx = Context()
        arrays = [arg._data if isinstance(arg, tensor_type) else arg for arg in args]
        ctx.needs_input_grad = needs_input_grad(args)  # before forward: it may skip work
        try:
            if _recorder is None:
                result = cls.forward(ctx, *arrays)
            else:  # a profiler or FLOP counter is watching (module 14)
                result = _recorder.record_forward(cls, ctx, arrays)
            output = tensor_type._from_array(result)
        except ValueError as error:
            raise RuntimeError(f"{cls.__name__}: {error}") from error
        # BEGIN SOLUTION 05 | stub: return output
        if not grad_mode.is_grad_enabled():
            return output
        needs = ctx.needs_input_grad
        if not any(needs) or output._data.dtype.kind != "f":
            return output  # nothing to differentiate, or an integer/bool result (x.long())
        ctx.function = cls
        ctx.next_steps = tuple(
            [(arg.grad_fn or arg) if needed else None for arg, needed in zip(args, needs)]
        )
        ctx.shape = output._data.shape
        ctx.dtype = output._data.dtype
        ctx.remember_versions(args, output)
        output._requires_grad = True
        output.grad_fn = ctx
        return output
        # END SOLUTION


# Tensor methods call Functions and Function.apply makes Tensors, so the two modules need each
# other. Importing ``tensor`` last, once Context and Function exist, lets either load first;
# ``apply`` looks up ``tensor.Tensor`` when it runs.
from tinytorch import tensor  # noqa: E402
